"""Class docstrings carry LangChain's standard sections, so help() is the manual."""

import re

import pytest

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FFMEmbeddings,
    FriendliLLM,
    MonsterAPILLM,
)

CHAT_SECTIONS = (
    "Setup",
    "Key init args",
    "Instantiate",
    "Invoke",
    "Stream",
    "Async",
    "Tool calling",
    "Structured output",
    "Token usage",
    "Response metadata",
)
LLM_SECTIONS = ("Setup", "Key init args", "Instantiate", "Invoke", "Stream", "Async", "Token usage")


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli, ChatMonsterAPI])
def test_chat_docstrings_have_every_standard_section(cls: type) -> None:
    doc = cls.__doc__ or ""
    for section in CHAT_SECTIONS:
        assert re.search(rf"^    {section}\b.*:$", doc, re.MULTILINE), f"{cls.__name__}: {section}"


@pytest.mark.parametrize("cls", [FFMLLM, FriendliLLM, MonsterAPILLM])
def test_llm_docstrings_have_the_sections_that_apply(cls: type) -> None:
    doc = cls.__doc__ or ""
    for section in LLM_SECTIONS:
        assert re.search(rf"^    {section}\b.*:$", doc, re.MULTILINE), f"{cls.__name__}: {section}"


def test_embeddings_docstring() -> None:
    doc = FFMEmbeddings.__doc__ or ""
    for section in ("Setup", "Key init args", "Instantiate", "Embed"):
        assert re.search(rf"^    {section}\b.*:$", doc, re.MULTILINE), section

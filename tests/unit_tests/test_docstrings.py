"""Class docstrings carry LangChain's standard sections, so help() is the manual.

Python 3.13 strips the common indentation of docstrings at compile time (3.11 and 3.12 keep
it), so every docstring is read through ``inspect.cleandoc``, which is what ``help()`` shows on
every version: a section header is then a line at column 0 that ends with a colon.
"""

import inspect
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


def _doc(cls: type) -> str:
    """The class docstring as help() shows it, the same on every Python version."""
    return inspect.cleandoc(cls.__doc__ or "")


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli, ChatMonsterAPI])
def test_chat_docstrings_have_every_standard_section(cls: type) -> None:
    doc = _doc(cls)
    for section in CHAT_SECTIONS:
        assert re.search(rf"^{section}\b.*:$", doc, re.MULTILINE), f"{cls.__name__}: {section}"


@pytest.mark.parametrize("cls", [FFMLLM, FriendliLLM, MonsterAPILLM])
def test_llm_docstrings_have_the_sections_that_apply(cls: type) -> None:
    doc = _doc(cls)
    for section in LLM_SECTIONS:
        assert re.search(rf"^{section}\b.*:$", doc, re.MULTILINE), f"{cls.__name__}: {section}"


def test_embeddings_docstring() -> None:
    doc = _doc(FFMEmbeddings)
    for section in ("Setup", "Key init args", "Instantiate", "Embed"):
        assert re.search(rf"^{section}\b.*:$", doc, re.MULTILINE), section

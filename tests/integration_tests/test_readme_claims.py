"""The README's feature table, executed: what it claims about token usage holds."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from langchain_ffm_friendli.testing import Emulator


@pytest.fixture
def emu(module_emu: Emulator) -> Emulator:
    """The module's emulator (tests here read only their own last request)."""
    return module_emu


def _models(emu: Emulator) -> dict[str, Any]:
    common = {"api_key": emu.api_key}
    return {
        "ffm": ChatFFM(model="llama3.3-ffm-70b-32k-chat", base_url=emu.ffm_base_url, **common),
        "friendli": ChatFriendli(
            model="meta-llama-3.1-8b-instruct", base_url=emu.friendli_base_url, **common
        ),
        "monsterapi": ChatMonsterAPI(
            model="meta-llama/Meta-Llama-3.1-8B-Instruct",
            base_url=emu.monsterapi_base_url,
            **common,
        ),
    }


def _streamed(model: Any) -> AIMessageChunk:
    total: AIMessageChunk | None = None
    for chunk in model.stream("How many tokens?"):
        total = chunk if total is None else total + chunk
    assert total is not None
    return total


@pytest.mark.parametrize("provider", ["ffm", "friendli", "monsterapi"])
def test_usage_on_invoke_for_all_three(emu: Emulator, provider: str) -> None:
    usage = _models(emu)[provider].invoke("How many tokens?").usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 0
    assert usage["output_tokens"] > 0


@pytest.mark.parametrize("provider", ["ffm", "friendli"])
def test_usage_on_streams_for_ffm_and_friendli(emu: Emulator, provider: str) -> None:
    usage = _streamed(_models(emu)[provider]).usage_metadata
    assert usage is not None
    assert usage["output_tokens"] > 0


def test_monsterapi_generate_streams_carry_no_usage_unless_the_server_sends_it(
    emu: Emulator,
) -> None:
    """vLLM's ``/generate`` stream is ``{"text": [...]}`` records only: nothing is invented."""
    streamed = _streamed(_models(emu)["monsterapi"])
    assert streamed.content
    assert streamed.usage_metadata is None

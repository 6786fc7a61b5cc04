"""Friendli counts tokens with its tokenize route; the other classes estimate offline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from friendli import SyncFriendli
from langchain_core.messages import HumanMessage, SystemMessage, trim_messages

from langchain_ffm_friendli import ChatFFM, ChatFriendli, FriendliLLM
from langchain_ffm_friendli._tokens import estimate_message_tokens, estimate_tokens
from langchain_ffm_friendli.errors import APIError, AuthenticationError
from langchain_ffm_friendli.testing import Emulator, Fault

MODEL = "meta-llama-3.1-8b-instruct"
TEXT = "Hello there, 你好 world and friends"
EMULATOR_TOKENS = 8  # the emulator's pseudo tokenizer: a word with its space, or one CJK char


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as e:
        yield e


def friendli(emu: Emulator, cls: Any = ChatFriendli, **kwargs: Any) -> Any:
    return cls(model=MODEL, base_url=emu.friendli_base_url, api_key=emu.api_key, **kwargs)


@pytest.mark.parametrize("cls", [ChatFriendli, FriendliLLM], ids=lambda c: c.__name__)
def test_friendli_counts_with_the_tokenize_route(emu: Emulator, cls: Any) -> None:
    assert friendli(emu, cls).get_num_tokens(TEXT) == EMULATOR_TOKENS
    request = emu.requests[-1]
    assert (request.method, request.path) == ("POST", "/friendli/serverless/v1/tokenize")
    assert request.json == {"prompt": TEXT, "model": MODEL}
    assert request.headers["authorization"] == f"Bearer {emu.api_key}"
    assert friendli(emu, cls).get_num_tokens("") == 0  # no request for an empty text
    assert len(emu.requests) == 1


def test_the_emulator_route_matches_the_vendor_sdk(emu: Emulator) -> None:
    sdk = SyncFriendli(token=emu.api_key, server_url=f"{emu.url}/friendli", x_friendli_team="t")
    answer = sdk.serverless.token.tokenize(model=MODEL, prompt=TEXT)
    assert len(answer.tokens) == EMULATOR_TOKENS == friendli(emu).get_num_tokens(TEXT)


def test_dedicated_and_container_endpoints(emu: Emulator) -> None:
    dedicated = ChatFriendli(
        model="my-endpoint:adapter",
        base_url=emu.friendli_base_url.replace("serverless", "dedicated"),
        api_key=emu.api_key,
    )
    assert dedicated.get_num_tokens(TEXT) == EMULATOR_TOKENS
    assert emu.requests[-1].path == "/friendli/dedicated/v1/tokenize"
    container = FriendliLLM(model="adapter", base_url=f"{emu.url}/friendli/container/v1")
    assert container.get_num_tokens(TEXT) == EMULATOR_TOKENS
    assert emu.requests[-1].path == "/friendli/container/v1/tokenize"
    assert "authorization" not in emu.requests[-1].headers


def test_a_missing_route_falls_back_to_the_estimate(emu: Emulator) -> None:
    emu.queue(Fault.status(404), route="friendli.tokenize")
    assert friendli(emu).get_num_tokens(TEXT) == estimate_tokens(TEXT)
    absent = ChatFriendli(model=MODEL, base_url=f"{emu.url}/friendli/nowhere/v1", api_key="k")
    assert absent.get_num_tokens(TEXT) == estimate_tokens(TEXT)


def test_other_errors_are_raised(emu: Emulator) -> None:
    with pytest.raises(AuthenticationError):
        ChatFriendli(model=MODEL, base_url=emu.friendli_base_url, api_key="wrong").get_num_tokens(
            TEXT
        )
    emu.queue(*[Fault.status(500)] * 3, route="friendli.tokenize")
    with pytest.raises(APIError):
        friendli(emu).get_num_tokens(TEXT)


def test_messages_are_estimated_offline_everywhere(emu: Emulator) -> None:
    messages = [SystemMessage("Be brief."), HumanMessage("台北天氣如何？")]
    before = len(emu.requests)
    for model in (friendli(emu), ChatFFM(model="llama3.3-ffm-70b-32k-chat", api_key="k")):
        assert model.get_num_tokens_from_messages(messages) == estimate_message_tokens(messages)
        assert trim_messages(messages, max_tokens=10**6, token_counter=model) == messages
    assert len(emu.requests) == before

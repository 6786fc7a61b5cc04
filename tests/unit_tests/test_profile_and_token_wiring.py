"""Profiles and token counts wired into every class (no tokenizer, no I/O).

The data modules have their own tests (test_profiles.py, test_tokens.py); these check
that the classes use them: ``.profile`` is filled at construction, and
``get_num_tokens`` / ``get_num_tokens_from_messages`` work with only our dependencies
(LangChain's defaults would import ``transformers``).
"""

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, trim_messages
from langchain_core.tools import tool

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FriendliLLM,
    MonsterAPILLM,
)
from langchain_ffm_friendli._profiles import DEFAULTS, model_profile
from langchain_ffm_friendli._tokens import estimate_message_tokens, estimate_tokens
from langchain_ffm_friendli.errors import IncompleteStreamError
from langchain_ffm_friendli.friendli import _protocol as friendli_proto

CHATS: list[tuple[type[Any], str, str]] = [
    (ChatFFM, "ffm", "llama3.3-ffm-70b-32k-chat"),
    (ChatFriendli, "friendli", "meta-llama-3.1-8b-instruct"),
    (ChatMonsterAPI, "monsterapi", "meta-llama/Meta-Llama-3.1-8B-Instruct"),
]
LLMS: list[tuple[type[Any], str]] = [
    (FFMLLM, "llama3.3-ffm-70b-32k-chat"),
    (FriendliLLM, "meta-llama-3.1-8b-instruct"),
    (MonsterAPILLM, "meta-llama/Meta-Llama-3.1-8B-Instruct"),
]
KEY = "test-key"


@pytest.mark.parametrize(("cls", "provider", "model"), CHATS)
def test_documented_ids_get_their_profile(cls: type[Any], provider: str, model: str) -> None:
    chat = cls(model=model, api_key=KEY)
    assert chat.profile == model_profile(provider, model)
    assert chat.profile["max_input_tokens"] > 0
    assert chat.profile["structured_output"] is False


@pytest.mark.parametrize(("cls", "provider", "model"), CHATS)
def test_an_unknown_id_gets_the_provider_default(cls: type[Any], provider: str, model: str) -> None:
    del model
    assert cls(model="no-such-model", api_key=KEY).profile == DEFAULTS[provider]


@pytest.mark.parametrize(("cls", "provider", "model"), CHATS)
def test_the_users_own_profile_wins(cls: type[Any], provider: str, model: str) -> None:
    del provider
    mine = {"max_input_tokens": 1234, "tool_calling": False}
    assert cls(model=model, api_key=KEY, profile=mine).profile == mine


def test_each_instance_gets_its_own_copy() -> None:
    first = ChatFFM(model="llama3.3-ffm-70b-32k-chat", api_key=KEY)
    second = ChatFFM(model="llama3.3-ffm-70b-32k-chat", api_key=KEY)
    assert first.profile is not None
    first.profile["max_input_tokens"] = 1
    assert second.profile is not None
    assert second.profile["max_input_tokens"] > 1


# Friendli's get_num_tokens asks its tokenize route (integration tests); the others and
# every get_num_tokens_from_messages are offline estimates.
OFFLINE = [ChatFFM, ChatMonsterAPI, FFMLLM, MonsterAPILLM]
MODELS = {cls: model for cls, _, model in CHATS} | dict(LLMS)


@pytest.mark.parametrize("cls", OFFLINE, ids=lambda c: c.__name__)
@pytest.mark.parametrize("text", ["", "Hello, world!", "今天天氣很好", "2026 年 12 月"])
def test_get_num_tokens_is_the_estimate(cls: type[Any], text: str) -> None:
    assert cls(model=MODELS[cls], api_key=KEY).get_num_tokens(text) == estimate_tokens(text)


@pytest.mark.parametrize("cls", [*MODELS], ids=lambda c: c.__name__)
def test_get_num_tokens_from_messages_counts_messages_and_tools(cls: type[Any]) -> None:
    @tool
    def get_weather(city: str) -> str:
        """Get the weather of a city."""
        return city

    model = cls(model=MODELS[cls], api_key=KEY)
    messages = [SystemMessage("Be brief."), HumanMessage("台北天氣如何？")]
    plain = model.get_num_tokens_from_messages(messages)
    assert plain == estimate_message_tokens(messages)
    with_tools = model.get_num_tokens_from_messages(messages, tools=[get_weather])
    assert with_tools == estimate_message_tokens(messages, tools=[get_weather]) > plain


@pytest.mark.parametrize(("cls", "provider", "model"), CHATS)
def test_trim_messages_takes_the_model_as_token_counter(
    cls: type[Any], provider: str, model: str
) -> None:
    del provider
    chat = cls(model=model, api_key=KEY)
    history = [
        SystemMessage("You are helpful."),
        HumanMessage("第一個問題" * 20),
        AIMessage("第一個回答" * 20),
        HumanMessage("Second question?"),
    ]
    budget = estimate_message_tokens([history[0], history[-1]])
    kept = trim_messages(
        history, max_tokens=budget, token_counter=chat, strategy="last", include_system=True
    )
    assert kept == [history[0], history[-1]]


def test_friendli_tokenize_body_and_response() -> None:
    assert friendli_proto.tokenize_body("m", "hi") == {"prompt": "hi", "model": "m"}
    assert friendli_proto.tokenize_body(None, "hi") == {"prompt": "hi"}  # container
    assert friendli_proto.parse_tokenize({"tokens": [1, 2, 3]}) == 3
    with pytest.raises(IncompleteStreamError, match="no 'tokens' list"):
        friendli_proto.parse_tokenize({"detail": "?"})

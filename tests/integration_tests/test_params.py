"""Unknown parameters, ``extra_body`` and ``strict`` on the wire (the emulator's request log).

What each class sends is read back from the emulator; a refused argument must
leave the log empty (nothing was sent). Friendli bodies are also validated by
the official SDK's request models, like the other oracle tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from friendli.core import models as fm
from pydantic import BaseModel

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FFMEmbeddings,
    FriendliLLM,
    MonsterAPILLM,
)
from langchain_ffm_friendli.errors import InvalidParameterError
from langchain_ffm_friendli.testing import Emulator
from tests.integration_tests.test_emulator_vendor_clients import (
    CLIENT_EXTRAS,
    SDK_SCHEMA_ALLOWLIST,
    schema_gaps,
)

MODELS: dict[type[Any], str] = {
    ChatFFM: "llama3.3-ffm-70b-32k-chat",
    FFMLLM: "llama3-ffm-8b-chat",
    FFMEmbeddings: "ffm-embedding",
    ChatFriendli: "meta-llama-3.1-8b-instruct",
    FriendliLLM: "meta-llama-3.1-8b-instruct",
    ChatMonsterAPI: "meta-llama/Meta-Llama-3.1-8B-Instruct",
    MonsterAPILLM: "mistralai/Mistral-7B-Instruct-v0.2",
}


@pytest.fixture
def emu(module_emu: Emulator) -> Emulator:
    """The module's emulator."""
    return module_emu


def make(emu: Emulator, cls: type[Any], **kwargs: Any) -> Any:
    base = {
        "ffm": emu.ffm_base_url,
        "friendli": emu.friendli_base_url,
        "monsterapi": emu.monsterapi_base_url,
    }[cls.provider_name]
    return cls(model=MODELS[cls], base_url=base, api_key=emu.api_key, **kwargs)


def get_weather(city: str) -> str:
    """Get the weather of a city."""
    return "sunny"


class City(BaseModel):
    """A city and its country."""

    name: str
    country: str


def sent(emu: Emulator) -> list[dict[str, Any]]:
    return [r.json for r in emu.requests if r.json is not None]


@pytest.mark.parametrize(
    "cls",
    [ChatFFM, FFMLLM, ChatFriendli, FriendliLLM, ChatMonsterAPI, MonsterAPILLM],
    ids=lambda c: c.__name__,
)
def test_a_misspelled_argument_sends_nothing(emu: Emulator, cls: type[Any]) -> None:
    model = make(emu, cls)
    emu.reset()
    with pytest.raises(InvalidParameterError, match="Did you mean 'temperature'"):
        model.invoke("hi", temprature=0.5)
    with pytest.raises(InvalidParameterError, match="Did you mean 'max_tokens'"):
        list(model.stream("hi", max_token=5))
    assert emu.requests == []


@pytest.mark.parametrize(
    "cls",
    [ChatFFM, FFMLLM, ChatFriendli, FriendliLLM, ChatMonsterAPI, MonsterAPILLM],
    ids=lambda c: c.__name__,
)
def test_extra_body_goes_on_the_wire_verbatim(emu: Emulator, cls: type[Any]) -> None:
    model = make(emu, cls, extra_body={"future_knob": 3, "which": "init"})
    emu.reset()
    model.invoke("hi", extra_body={"which": "call"})
    list(model.stream("hi"))
    first, second = sent(emu)
    assert (first["future_knob"], first["which"]) == (3, "call")
    assert (second["future_knob"], second["which"]) == (3, "init")


def test_embeddings_send_extra_body(emu: Emulator) -> None:
    model = make(emu, FFMEmbeddings, extra_body={"future_knob": 3})
    emu.reset()
    model.embed_query("玉山")
    assert sent(emu)[0] == {"model": "ffm-embedding", "inputs": ["玉山"], "future_knob": 3}


def test_monsterapi_strict_is_on_the_function_tool(emu: Emulator) -> None:
    model = make(emu, ChatMonsterAPI)
    emu.reset()
    model.bind_tools([get_weather], strict=True).invoke("What is the weather in 'Taipei'?")
    model.with_structured_output(City, strict=True).invoke("Tell me about 'Taipei'.")
    model.with_structured_output(City, method="json_schema", strict=True).invoke("Taipei?")
    tools_body, structured_body, schema_body = sent(emu)
    for body in (tools_body, structured_body):
        assert "strict" not in body
        assert body["tools"][0]["function"]["strict"] is True
    assert tools_body["tools"][0]["function"]["name"] == "get_weather"
    assert schema_body["response_format"]["json_schema"]["strict"] is True
    assert "strict" not in schema_body


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli], ids=lambda c: c.__name__)
def test_strict_true_on_tools_is_refused_before_sending(emu: Emulator, cls: type[Any]) -> None:
    model = make(emu, cls)
    emu.reset()
    with pytest.raises(InvalidParameterError, match=r"^strict: ") as info:
        model.bind_tools([get_weather], strict=True).invoke("Weather in 'Taipei'?")
    assert info.value.field == "strict"
    with pytest.raises(InvalidParameterError, match=r"^strict: "):
        model.with_structured_output(City, strict=True).invoke("Tell me about 'Taipei'.")
    assert emu.requests == []


def test_ffm_strict_false_is_not_sent(emu: Emulator) -> None:
    model = make(emu, ChatFFM)
    emu.reset()
    model.bind_tools([get_weather], strict=False).invoke("Weather in 'Taipei'?")
    (body,) = sent(emu)
    assert "strict" not in body
    assert "strict" not in body["tools"][0]["function"]


def test_friendli_strict_bodies_validate_against_the_sdk(emu: Emulator) -> None:
    model = make(emu, ChatFriendli)
    emu.reset()
    model.bind_tools([get_weather], strict=False).invoke("What is the weather in 'Taipei'?")
    model.with_structured_output(City, method="json_schema", strict=True).invoke("Taipei?")
    model.invoke("hi", extra_body={"top_k": 3})
    bodies = sent(emu)
    assert len(bodies) == 3
    assert "strict" not in bodies[0]["tools"][0]["function"]
    assert "strict" not in bodies[1]["response_format"]["json_schema"]
    assert bodies[2]["top_k"] == 3
    for body in bodies:
        assert "strict" not in body
        gaps = schema_gaps(fm.ServerlessChatCompletionBody, body)
        assert set(gaps) <= SDK_SCHEMA_ALLOWLIST | CLIENT_EXTRAS, (gaps, body)


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli, ChatMonsterAPI], ids=lambda c: c.__name__)
def test_ls_provider_matches_the_reply_model_provider(emu: Emulator, cls: type[Any]) -> None:
    """docs/configuration.md: ls_provider is response_metadata["model_provider"]."""
    model = make(emu, cls)
    reply = model.invoke("hi")
    assert model._get_ls_params()["ls_provider"] == reply.response_metadata["model_provider"]
    assert model._get_ls_params()["ls_provider"] == cls.provider_name

"""``invocation_params`` in callbacks and traces reflect what is sent.

A real callback handler records what LangChain reports on ``on_chat_model_start``
/ ``on_llm_start`` for every class, over loopback; the emulator's request log
says what actually went on the wire. An instance-level ``stop`` shows there
(LangChain itself writes the per-call ``stop``, None when not given, over it),
per-call values win, unset fields are omitted rather than listed as None, and a
password in ``base_url`` is masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseLanguageModel

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FriendliLLM,
    MonsterAPILLM,
)
from langchain_ffm_friendli.testing import Emulator

MODELS = {
    "ffm": "llama3.3-ffm-70b-32k-chat",
    "friendli": "meta-llama-3.1-8b-instruct",
    "monsterapi": "meta-llama/Meta-Llama-3.1-8B-Instruct",
}


class Recorder(BaseCallbackHandler):
    """Keeps the invocation_params of every model start."""

    def __init__(self) -> None:
        self.params: list[dict[str, Any]] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.params.append(kwargs["invocation_params"])

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.params.append(kwargs["invocation_params"])


@pytest.fixture
def emu(module_emu: Emulator) -> Emulator:
    """The module's emulator (tests here read only their own last request)."""
    return module_emu


def _base(emu: Emulator, provider: str) -> str:
    return {
        "ffm": emu.ffm_base_url,
        "friendli": emu.friendli_base_url,
        "monsterapi": emu.monsterapi_base_url,
    }[provider]


CLASSES: list[tuple[type[BaseLanguageModel[Any]], str]] = [
    (ChatFFM, "ffm"),
    (FFMLLM, "ffm"),
    (ChatFriendli, "friendli"),
    (FriendliLLM, "friendli"),
    (ChatMonsterAPI, "monsterapi"),
    (MonsterAPILLM, "monsterapi"),
]
IDS = [cls.__name__ for cls, _ in CLASSES]


def make(
    emu: Emulator, cls: type[BaseLanguageModel[Any]], provider: str, **kw: Any
) -> BaseLanguageModel[Any]:
    return cls(  # type: ignore[call-arg]
        model=MODELS[provider], base_url=_base(emu, provider), api_key=emu.api_key, **kw
    )


CALLS: dict[str, Callable[[BaseLanguageModel[Any], Recorder, dict[str, Any]], Any]] = {
    "invoke": lambda m, r, kw: m.invoke("hi", config={"callbacks": [r]}, **kw),
    "stream": lambda m, r, kw: list(m.stream("hi", config={"callbacks": [r]}, **kw)),
    "ainvoke": lambda m, r, kw: asyncio.run(m.ainvoke("hi", config={"callbacks": [r]}, **kw)),
}


@pytest.mark.parametrize("how", sorted(CALLS))
@pytest.mark.parametrize(("cls", "provider"), CLASSES, ids=IDS)
def test_instance_stop_and_set_fields_show_and_unset_ones_do_not(
    emu: Emulator, cls: type[BaseLanguageModel[Any]], provider: str, how: str
) -> None:
    model = make(emu, cls, provider, temperature=0.5, stop=["END"])
    recorder = Recorder()
    CALLS[how](model, recorder, {})
    (params,) = recorder.params
    assert params["stop"] == ["END"]
    assert params["temperature"] == 0.5
    assert params["model"] == MODELS[provider]
    assert params["_type"] == model._llm_type
    assert "top_p" not in params
    assert None not in params.values()


@pytest.mark.parametrize("how", sorted(CALLS))
@pytest.mark.parametrize(("cls", "provider"), CLASSES, ids=IDS)
def test_per_call_values_win(
    emu: Emulator, cls: type[BaseLanguageModel[Any]], provider: str, how: str
) -> None:
    model = make(emu, cls, provider, temperature=0.5, stop=["END"])
    recorder = Recorder()
    CALLS[how](model, recorder, {"stop": ["HALT"], "temperature": 0.2})
    (params,) = recorder.params
    assert params["stop"] == ["HALT"]
    assert params["temperature"] == 0.2


def test_what_is_reported_is_what_is_sent(emu: Emulator) -> None:
    """FFM carries stop and temperature in ``parameters``: the report matches the body."""
    emu.reset()
    model = make(emu, ChatFFM, "ffm", temperature=0.5, stop=["END"])
    recorder = Recorder()
    model.invoke("hi", config={"callbacks": [recorder]})
    (params,) = recorder.params
    sent = emu.requests[-1].json["parameters"]
    assert sent["stop_sequences"] == params["stop"] == ["END"]
    assert sent["temperature"] == params["temperature"] == 0.5


@pytest.mark.parametrize(("cls", "provider"), CLASSES, ids=IDS)
def test_a_password_in_base_url_is_masked(
    emu: Emulator, cls: type[BaseLanguageModel[Any]], provider: str
) -> None:
    url = _base(emu, provider).replace("http://", "http://gateway-user:hunter2-secret@")
    model = cls(model=MODELS[provider], base_url=url, api_key=None)  # type: ignore[call-arg]
    recorder = Recorder()
    with pytest.raises(Exception):  # noqa: B017 - the gateway refuses; only the report matters
        model.invoke("hi", config={"callbacks": [recorder]})
    (params,) = recorder.params
    assert "hunter2-secret" not in repr(params)
    assert "gateway-user" in params["base_url"]

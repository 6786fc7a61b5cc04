"""Unknown parameters, ``extra_body``, ``strict`` placement, serialization and tracing.

No sockets: every check here happens before any request (the plan is built and
inspected, or the call fails first).
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any
from unittest import mock

import pytest
from langchain_core.load import dumps, loads
from langchain_core.messages import HumanMessage
from pydantic import BaseModel

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FFMEmbeddings,
    FriendliLLM,
    MonsterAPILLM,
    init_chat_model,
)
from langchain_ffm_friendli._base import SHARED_CALL_KWARGS, Wire
from langchain_ffm_friendli._planned import PlannedChatModel, PlannedLLM
from langchain_ffm_friendli.errors import InvalidParameterError

MODELS: dict[type[Any], str] = {
    ChatFFM: "llama3.3-ffm-70b-32k-chat",
    FFMLLM: "llama3-ffm-8b-chat",
    FFMEmbeddings: "ffm-embedding",
    ChatFriendli: "meta-llama-3.1-8b-instruct",
    FriendliLLM: "meta-llama-3.1-8b-instruct",
    ChatMonsterAPI: "meta-llama/Meta-Llama-3.1-8B-Instruct",
    MonsterAPILLM: "mistralai/Mistral-7B-Instruct-v0.2",
}
ENV = {"FFM_API_KEY": "ffm-env-key", "FRIENDLI_TOKEN": "flp_env", "MONSTER_API_KEY": "mon-env"}
ALL = list(MODELS)
CHATS = [ChatFFM, ChatFriendli, ChatMonsterAPI]
LLMS = [FFMLLM, FriendliLLM, MonsterAPILLM]


def make(cls: type[Any], **kwargs: Any) -> Any:
    return cls(model=MODELS[cls], api_key="test-key", **kwargs)


def body(model: Any, call_input: Any = None, *, stream: bool = False, **kwargs: Any) -> Any:
    """The JSON body the model would send for one call (no I/O)."""
    if call_input is None:
        call_input = [HumanMessage("hi")] if isinstance(model, PlannedChatModel) else "hi"
    plan, _ = model._planned(call_input, None, kwargs, stream=stream)
    return plan.request.body


# ---------------------------------------------------------------- unknown parameters


@pytest.mark.parametrize("cls", [*CHATS, *LLMS], ids=lambda c: c.__name__)
def test_a_misspelled_init_argument_names_itself_and_the_nearest_field(cls: type[Any]) -> None:
    with pytest.raises(InvalidParameterError, match=r"Did you mean 'temperature'") as info:
        make(cls, temprature=0.5)
    assert info.value.field == "temprature"
    assert str(info.value).startswith("temprature: unknown init argument")


def test_embeddings_misspelling_suggests_its_own_field() -> None:
    with pytest.raises(InvalidParameterError, match=r"truncat\b.*Did you mean 'truncate'") as info:
        make(FFMEmbeddings, truncat=True)
    assert info.value.field == "truncat"
    assert "extra_body" in str(info.value)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_an_unknown_init_name_without_a_near_match_points_at_the_escape_hatch(
    cls: type[Any],
) -> None:
    with pytest.raises(InvalidParameterError, match="extra_body") as info:
        make(cls, zzqx_flag=1)
    assert info.value.field == "zzqx_flag"
    assert "Did you mean" not in str(info.value)


@pytest.mark.parametrize("cls", [*CHATS, *LLMS], ids=lambda c: c.__name__)
def test_a_misspelled_per_call_kwarg_fails_before_any_request(cls: type[Any]) -> None:
    model = make(cls)
    with pytest.raises(InvalidParameterError, match=r"Did you mean 'temperature'") as info:
        model.invoke("hi", temprature=0.5)  # sockets are disabled: this never sends
    assert info.value.field == "temprature"
    assert "per-call" in str(info.value)


@pytest.mark.parametrize("cls", [*CHATS, *LLMS], ids=lambda c: c.__name__)
async def test_async_and_stream_paths_check_too(cls: type[Any]) -> None:
    model = make(cls)
    with pytest.raises(InvalidParameterError, match="max_tokns"):
        await model.ainvoke("hi", max_tokns=5)
    with pytest.raises(InvalidParameterError, match="max_tokns"):
        list(model.stream("hi", max_tokns=5))


@pytest.mark.parametrize("cls", CHATS, ids=lambda c: c.__name__)
def test_chat_classes_accept_every_kwarg_langchain_and_agents_pass(cls: type[Any]) -> None:
    names = cls.call_kwarg_names()
    assert names >= set().union(*SHARED_CALL_KWARGS.values())
    assert names >= cls.read_per_call | cls.wire_fields().keys()


@pytest.mark.parametrize("cls", LLMS, ids=lambda c: c.__name__)
def test_llms_accept_langchains_kwargs_but_refuse_strict(cls: type[Any]) -> None:
    assert cls.call_kwarg_names() >= SHARED_CALL_KWARGS["langchain"] | SHARED_CALL_KWARGS["options"]
    model = make(cls)
    with pytest.raises(InvalidParameterError, match="strict"):
        body(model, strict=True)


def test_langchain_kwargs_are_never_sent_as_they_are() -> None:
    model = make(ChatFriendli)
    sent = body(
        model,
        ls_structured_output_format={"kwargs": {}, "schema": {}},
        structured_output_format={"kwargs": {}},
        extra_body={"x": 1},
        strict=False,
        stop=["\n"],
    )
    for name in ("ls_structured_output_format", "structured_output_format", "extra_body", "strict"):
        assert name not in sent
    assert sent["x"] == 1
    assert sent["stop"] == ["\n"]


def test_per_call_aliases_become_the_field_name() -> None:
    sent = body(make(ChatFFM), max_new_tokens=7, stop_sequences=["##"])
    assert sent["parameters"]["max_new_tokens"] == 7
    assert sent["parameters"]["stop_sequences"] == ["##"]
    assert "stop_sequences" not in sent


def test_extra_body_must_be_a_dict() -> None:
    with pytest.raises(InvalidParameterError, match="extra_body"):
        body(make(ChatFFM), extra_body=["not", "a", "dict"])


# ---------------------------------------------------------------- extra_body


@pytest.mark.parametrize("cls", [*CHATS, *LLMS], ids=lambda c: c.__name__)
def test_extra_body_and_model_kwargs_reach_the_body_verbatim(cls: type[Any]) -> None:
    model = make(cls, extra_body={"new_field": 1, "both": "init"}, model_kwargs={"legacy": True})
    sent = body(model, extra_body={"both": "call", "per_call": [1]})
    assert sent["new_field"] == 1
    assert sent["legacy"] is True
    assert sent["both"] == "call"  # the per-call extra_body is merged last
    assert sent["per_call"] == [1]


def test_embeddings_send_extra_body_too() -> None:
    model = make(FFMEmbeddings, extra_body={"new_field": 1})
    assert model._batch_request(["a"]).body == {
        "model": "ffm-embedding",
        "inputs": ["a"],
        "new_field": 1,
    }


def test_a_known_field_inside_model_kwargs_becomes_the_field_as_in_langchain() -> None:
    with pytest.warns(UserWarning, match="temperature"):
        model = make(ChatFFM, model_kwargs={"temperature": 0.5})
    assert model.temperature == 0.5
    assert model.model_kwargs == {}


def test_parallel_tool_calls_passes_through_where_the_class_has_no_field() -> None:
    assert body(make(ChatFFM), parallel_tool_calls=False)["parallel_tool_calls"] is False
    assert body(make(ChatFriendli), parallel_tool_calls=False)["parallel_tool_calls"] is False


# ---------------------------------------------------------------- strict


def get_weather(city: str) -> str:
    """Get the weather of a city."""
    return "sunny"


class City(BaseModel):
    """A city."""

    name: str


def bound_kwargs(runnable: Any) -> dict[str, Any]:
    return dict(runnable.kwargs)


def test_monsterapi_sends_strict_on_the_function_tool() -> None:
    model = make(ChatMonsterAPI)
    kwargs = bound_kwargs(model.bind_tools([get_weather], strict=True))
    assert "strict" not in kwargs
    sent = body(model, **kwargs)
    assert "strict" not in sent
    assert sent["tools"][0]["function"]["strict"] is True
    assert sent["tools"][0]["function"]["parameters"]["additionalProperties"] is False


def test_monsterapi_json_schema_keeps_strict_in_the_response_format() -> None:
    model = make(ChatMonsterAPI)
    structured = model.with_structured_output(City, method="json_schema", strict=True)
    kwargs = bound_kwargs(structured.first)  # type: ignore[attr-defined]
    kwargs.pop("ls_structured_output_format")
    sent = body(model, **kwargs)
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert "strict" not in sent


def test_a_per_call_strict_goes_on_the_tools() -> None:
    model = make(ChatMonsterAPI)
    kwargs = bound_kwargs(model.bind_tools([get_weather]))
    sent = body(model, **kwargs, strict=True)
    assert sent["tools"][0]["function"]["strict"] is True
    assert "strict" not in sent


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli], ids=lambda c: c.__name__)
def test_strict_true_on_tools_is_refused_where_the_schema_has_no_place(cls: type[Any]) -> None:
    model = make(cls)
    kwargs = bound_kwargs(model.bind_tools([get_weather], strict=True))
    with pytest.raises(InvalidParameterError, match=r"^strict: .*function\.strict") as info:
        body(model, **kwargs)
    assert info.value.field == "strict"
    structured = model.with_structured_output(City, strict=True)  # constructing is fine
    with pytest.raises(InvalidParameterError, match="strict"):
        structured.invoke("hi")  # sockets are disabled: refused before any request


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli], ids=lambda c: c.__name__)
def test_strict_false_is_not_sent_where_there_is_no_place(cls: type[Any]) -> None:
    model = make(cls)
    sent = body(model, **bound_kwargs(model.bind_tools([get_weather], strict=False)))
    assert "strict" not in sent
    assert "strict" not in sent["tools"][0]["function"]


def test_friendli_json_schema_strict_is_implied_and_not_sent() -> None:
    model = make(ChatFriendli)
    structured = model.with_structured_output(City, method="json_schema", strict=True)
    kwargs = bound_kwargs(structured.first)  # type: ignore[attr-defined]
    kwargs.pop("ls_structured_output_format")
    sent = body(model, **kwargs)
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"schema": sent["response_format"]["json_schema"]["schema"], "name": "City"},
    }


def test_ffm_json_schema_strict_is_refused() -> None:
    model = make(ChatFFM)
    structured = model.with_structured_output(City, method="json_schema", strict=True)
    with pytest.raises(InvalidParameterError, match=r"json_schema\.strict"):
        structured.invoke("hi")


# ---------------------------------------------------------------- serialization


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_every_class_round_trips_through_dumps_and_loads(cls: type[Any]) -> None:
    fields: dict[str, Any] = {"max_retries": 5, "extra_body": {"new_field": 1}}
    if cls is not FFMEmbeddings:
        fields["temperature"] = 0.5
    with mock.patch.dict(os.environ, ENV):
        model = cls(model=MODELS[cls], **fields)
        text = dumps(model)
        revived = loads(
            text,
            valid_namespaces=["langchain_ffm_friendli"],
            allowed_objects=[cls],
            secrets_from_env=True,
        )
    for secret in ENV.values():
        assert secret not in text
    data = json.loads(text)
    assert data["type"] == "constructor"
    assert data["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": [cls.api_key_env]}
    assert type(revived) is cls
    assert revived.model_dump(exclude={"api_key"}) == model.model_dump(exclude={"api_key"})
    assert revived.api_key.get_secret_value() == ENV[cls.api_key_env]


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_loads_takes_the_key_from_secrets_map_without_env() -> None:
    with mock.patch.dict(os.environ, ENV):
        text = dumps(ChatFriendli(model="m"))
    with mock.patch.dict(os.environ, {"FRIENDLI_TOKEN": ""}):
        revived = loads(
            text,
            valid_namespaces=["langchain_ffm_friendli"],
            allowed_objects=[ChatFriendli],
            secrets_map={"FRIENDLI_TOKEN": "flp_from_map"},
        )
    assert revived.api_key.get_secret_value() == "flp_from_map"


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_loads_without_our_namespace_is_refused() -> None:
    with mock.patch.dict(os.environ, ENV):
        text = dumps(ChatFFM(model="m"))
    with pytest.raises(ValueError, match="namespace"):
        loads(text, allowed_objects=[ChatFFM], secrets_from_env=True)


# ---------------------------------------------------------------- init_chat_model


@pytest.mark.parametrize(
    ("spec", "cls", "model"),
    [
        ("ffm:llama3.3-ffm-70b-32k-chat", ChatFFM, "llama3.3-ffm-70b-32k-chat"),
        ("friendli:meta-llama-3.1-8b-instruct", ChatFriendli, "meta-llama-3.1-8b-instruct"),
        ("friendli:ep123:my-adapter", ChatFriendli, "ep123:my-adapter"),
        ("monsterapi:meta-llama/Meta-Llama-3.1-8B-Instruct", ChatMonsterAPI, None),
    ],
)
def test_init_chat_model_reads_the_provider_prefix(
    spec: str, cls: type[Any], model: str | None
) -> None:
    llm = init_chat_model(spec, api_key="k", temperature=0.5)
    assert type(llm) is cls
    assert llm.model == (model or spec.partition(":")[2])
    assert llm.temperature == 0.5


def test_init_chat_model_takes_model_provider_and_refuses_unknown_ones() -> None:
    assert type(init_chat_model("m", model_provider="friendli", api_key="k")) is ChatFriendli
    with pytest.raises(InvalidParameterError, match="Did you mean 'friendli'") as info:
        init_chat_model("friendly:m", api_key="k")
    assert info.value.field == "model_provider"
    with pytest.raises(InvalidParameterError, match="model_provider"):
        init_chat_model("just-a-model", api_key="k")
    with pytest.raises(InvalidParameterError, match="temprature"):
        init_chat_model("ffm:m", api_key="k", temprature=0.1)


# ---------------------------------------------------------------- tracing


@pytest.mark.parametrize("cls", [*CHATS, *LLMS], ids=lambda c: c.__name__)
def test_langsmith_params_and_invocation_params_as_documented(cls: type[Any]) -> None:
    model = cls(
        model=MODELS[cls],
        api_key="sk-secret-123",
        base_url="https://user:hunter2@gw.example.com/v1",
        temperature=0.5,
        max_tokens=64,
    )
    ls = model._get_ls_params(stop=["\n"])
    kind = "chat" if isinstance(model, PlannedChatModel) else "llm"
    assert isinstance(model, PlannedChatModel | PlannedLLM)
    assert ls == {
        "ls_provider": cls.provider_name,
        "ls_model_name": MODELS[cls],
        "ls_model_type": kind,
        "ls_temperature": 0.5,
        "ls_max_tokens": 64,
        "ls_stop": ["\n"],
    }
    assert model._get_ls_params(model="other")["ls_model_name"] == "other"
    params = model._get_invocation_params(stop=None, top_p=0.9)
    text = json.dumps(params, default=str)
    assert "sk-secret-123" not in text
    assert "hunter2" not in text
    assert params["temperature"] == 0.5
    assert params["top_p"] == 0.9
    assert params["model"] == MODELS[cls]


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_docstring_states_the_unknown_parameter_policy(cls: type[Any]) -> None:
    doc = " ".join((cls.__doc__ or "").split())
    assert "Unknown parameters:" in doc
    assert "InvalidParameterError" in doc
    assert "extra_body={...}" in doc
    if cls in CHATS:
        assert "strict" in doc


# ---------------------------------------------------------------- one declaration per field


@pytest.mark.parametrize("cls", [*CHATS, *LLMS], ids=lambda c: c.__name__)
def test_n_above_one_is_refused_when_streaming_by_every_class(cls: type[Any]) -> None:
    model = make(cls)
    if "n" not in cls.wire_fields():
        pytest.skip(f"{cls.__name__} has no n")
    with pytest.raises(InvalidParameterError, match="n: must be 1 when streaming"):
        body(model, stream=True, n=2)
    assert body(model, n=2)["n"] == 2  # not streaming: n generations


@pytest.mark.parametrize("cls", [*CHATS, *LLMS], ids=lambda c: c.__name__)
def test_stop_is_resolved_the_same_way_by_every_class(cls: type[Any]) -> None:
    """LangChain's stop argument, else the per-call kwarg, else the instance's; no "" ever."""
    model = make(cls, stop=["INSTANCE"])
    call = model._call(
        [HumanMessage("hi")] if cls in CHATS else "hi", None, {"stop": "CALL"}, stream=False
    )
    assert call.stop == ["CALL"]
    call = model._call("hi", ["ARG", ""], {"stop": "CALL"}, stream=False)
    assert call.stop == ["ARG"]
    assert model._call("hi", None, {}, stream=False).stop == ["INSTANCE"]
    assert make(cls)._call("hi", None, {"stop": [""]}, stream=False).values["stop"] is None


class TopAFriendli(ChatFriendli):
    """A user's subclass declaring a field this package does not (yet) declare."""

    top_a: Annotated[float | None, Wire()] = None


class SeedFFM(ChatFFM):
    """FFM puts its sampling fields in ``parameters``; a subclass's field goes there too."""

    typical_p: Annotated[float | None, Wire("typical_p", "parameters")] = None


def test_a_field_declared_on_a_subclass_is_sent_accepted_per_call_and_traced() -> None:
    model = TopAFriendli(model=MODELS[ChatFriendli], api_key="k", top_a=0.2)
    assert body(model)["top_a"] == 0.2
    assert body(model, top_a=0.7)["top_a"] == 0.7  # a per-call override
    assert "top_a" in model._identifying_params
    with pytest.raises(InvalidParameterError, match="Did you mean 'top_a'"):
        body(model, top_aa=0.1)
    ffm = SeedFFM(model=MODELS[ChatFFM], api_key="k", typical_p=0.9)
    assert body(ffm)["parameters"]["typical_p"] == 0.9
    assert ChatFriendli.wire_fields().keys() < TopAFriendli.wire_fields().keys()

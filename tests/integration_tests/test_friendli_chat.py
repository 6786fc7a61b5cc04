"""ChatFriendli over loopback: the SDK page's tool-assisted example (protocols/friendli.md §0.3),
every parameter on the wire, endpoints, validation before sending, and typed errors from
Friendli's error bodies."""

import os
from unittest import mock

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.tools import tool

from langchain_ffm_friendli import ChatFriendli, FriendliLLM
from langchain_ffm_friendli.errors import (
    AuthenticationError,
    InvalidParameterError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
)
from langchain_ffm_friendli.friendli._settings import DEDICATED_URL
from langchain_ffm_friendli.testing import Emulator, Fault
from tests.integration_tests._shared import on_emulator

MODEL = "meta-llama-3.1-8b-instruct"


@tool
def get_weather(city: str) -> str:
    """Get the current weather of a city."""
    return f"{city}: sunny"


def make(emu: Emulator, **kw: object) -> ChatFriendli:
    return on_emulator(ChatFriendli, emu, emu.friendli_base_url, MODEL, **kw)


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    return total


# ------------------------------------------------------ the SDK page's tool-assisted example


def test_seed_example_complete(emu: Emulator) -> None:
    llm = make(emu, max_tokens=200).bind_tools([{"type": "math:calculator"}])
    message = llm.invoke("What is 3 + 6?")
    assert "9" in str(message.content)
    statuses = message.additional_kwargs["tool_status"]
    assert [s["status"] for s in statuses] == ["STARTED", "ENDED"]
    assert statuses[0]["name"] == "math:calculator"
    assert "9" in statuses[1]["result"]
    assert message.tool_calls == []  # the server ran the tool
    request = emu.requests[-1]
    assert request.path == "/friendli/serverless/tools/v1/chat/completions"
    assert request.json["tools"] == [{"type": "math:calculator"}]
    assert request.json["max_tokens"] == 200
    assert request.json["stream"] is True  # tool-assisted chat always streams under the hood


def test_seed_example_stream_shows_statuses_before_the_answer(emu: Emulator) -> None:
    chunks = list(make(emu).bind_tools([{"type": "math:calculator"}]).stream("What is 3 + 6?"))
    kinds = [
        "status" if c.additional_kwargs.get("tool_status") else "text"
        for c in chunks
        if c.content or c.additional_kwargs
    ]
    assert kinds[:2] == ["status", "status"]
    assert "text" in kinds[2:]
    total = merge(chunks)
    assert [s["status"] for s in total.additional_kwargs["tool_status"]] == ["STARTED", "ENDED"]
    assert "9" in str(total.content)
    usage = total.usage_metadata
    assert usage is not None
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_tool_status_is_a_custom_event_as_it_happens(emu: Emulator) -> None:
    llm = make(emu).bind_tools([{"type": "math:calculator"}])
    events = [e async for e in llm.astream_events("What is 3 + 6?", version="v2")]
    custom = [e for e in events if e["event"] == "on_custom_event"]
    assert [e["name"] for e in custom] == ["tool_status", "tool_status"]
    assert [e["data"]["status"] for e in custom] == ["STARTED", "ENDED"]
    first_token = next(
        i
        for i, e in enumerate(events)
        if e["event"] == "on_chat_model_stream" and e["data"]["chunk"].content
    )
    assert events.index(custom[1]) < first_token


def test_every_token_event_form_is_accepted(emu: Emulator) -> None:
    llm = make(emu).bind_tools([{"type": "math:calculator"}])
    answers = {str(llm.invoke("What is 3 + 6?").content) for _ in range(3)}  # bare, message, token
    assert len(answers) == 1
    assert "9" in answers.pop()


def test_statistics_calendar_and_errored_tools(emu: Emulator) -> None:
    llm = make(emu)
    stats = llm.bind_tools([{"type": "math:statistics"}]).invoke(
        "What is the mean of 2, 4, 6 and 8?"
    )
    assert "5" in str(stats.content)
    errored = llm.bind_tools([{"type": "math:calculator"}]).invoke(
        "What is 1 / 0?", resume_generation=True
    )
    assert [s["status"] for s in errored.additional_kwargs["tool_status"]][-1] == "ERRORED"
    assert emu.requests[-1].json["resume_generation"] is True


def test_builtin_and_function_tools_mixed(emu: Emulator) -> None:
    llm = make(emu).bind_tools([{"type": "math:calculator"}, get_weather])
    calls = llm.invoke("What is the weather in Taipei?")
    assert [c["name"] for c in calls.tool_calls] == ["get_weather"]
    math = llm.invoke("What is 3 + 6?")
    assert math.tool_calls == []
    assert "9" in str(math.content)


def test_builtin_tools_need_serverless(emu: Emulator) -> None:
    dedicated = make(emu, base_url=emu.friendli_dedicated_base_url)
    assert dedicated.endpoint == "dedicated"
    with pytest.raises(InvalidParameterError, match="tools"):
        dedicated.bind_tools([{"type": "web:search"}])
    with pytest.raises(InvalidParameterError, match="file:text"):
        make(emu).bind_tools([{"type": "file:text"}])
    with pytest.raises(InvalidParameterError, match="unknown built-in"):
        make(emu).bind_tools([{"type": "math:algebra"}])


# --------------------------------------------------------------------------- parameters on the wire


def test_every_seed_parameter_is_sent_under_friendlis_names(emu: Emulator) -> None:
    llm = make(
        emu,
        chat_template_kwargs={"enable_thinking": False},
        eos_token=[128009],
        frequency_penalty=0.5,
        logit_bias={"1234": -5.0},
        logprobs=True,
        top_logprobs=2,
        max_tokens=64,
        min_p=0.05,
        n=1,
        parallel_tool_calls=False,
        presence_penalty=0.25,
        repetition_penalty=1.1,
        seed=7,
        stop=["\n\n"],
        temperature=0.3,
        top_k=40,
        top_p=0.9,
        team_id="team-42",
    )
    llm.invoke("hi")
    request = emu.requests[-1]
    assert request.path == "/friendli/serverless/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {emu.api_key}"
    assert request.headers["x-friendli-team"] == "team-42"
    expected = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "chat_template_kwargs": {"enable_thinking": False},
        "eos_token": [128009],
        "frequency_penalty": 0.5,
        "logit_bias": {"1234": -5.0},
        "logprobs": True,
        "top_logprobs": 2,
        "max_tokens": 64,
        "min_p": 0.05,
        "n": 1,
        "parallel_tool_calls": False,
        "presence_penalty": 0.25,
        "repetition_penalty": 1.1,
        "seed": 7,
        "stop": ["\n\n"],
        "temperature": 0.3,
        "top_k": 40,
        "top_p": 0.9,
    }
    assert request.json == expected
    llm.bind_tools([get_weather], tool_choice="get_weather").invoke("weather in Taipei?")
    body = emu.requests[-1].json
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert body["tools"][0]["function"]["name"] == "get_weather"
    list(llm.stream("hi"))
    stream_body = emu.requests[-1].json
    assert stream_body["stream"] is True
    assert stream_body["stream_options"] == {"include_usage": True}


def test_per_call_overrides_and_seed_list(emu: Emulator) -> None:
    make(emu).generate([[HumanMessage("hi")]], n=2, seed=[1, 2], temperature=0.9)
    body = emu.requests[-1].json
    assert (body["n"], body["seed"], body["temperature"]) == (2, [1, 2], 0.9)


def test_n_generations_logprobs_and_usage(emu: Emulator) -> None:
    result = make(emu, n=2, logprobs=True, top_logprobs=1).generate([[HumanMessage("hello")]])
    assert len(result.generations[0]) == 2
    first = result.generations[0][0]
    assert first.generation_info is not None
    assert first.generation_info["logprobs"]["content"]
    message = first.message  # type: ignore[attr-defined]
    assert message.usage_metadata["total_tokens"] > 0
    assert message.response_metadata["model_provider"] == "friendli"
    streamed = merge(list(make(emu, logprobs=True).stream("hello")))
    assert streamed.response_metadata["logprobs"]["content"]


@pytest.mark.parametrize(
    ("response_format", "wire"),
    [
        ({"type": "json_object"}, {"type": "json_object"}),
        (
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "A",
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "strict": True,
                },
            },
            {
                "type": "json_schema",
                "json_schema": {
                    "name": "A",
                    "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
                },
            },
        ),
        (
            {"type": "regex", "schema": "[0-9]{3}-[0-9]{4}"},
            {"type": "regex", "schema": "[0-9]{3}-[0-9]{4}"},
        ),
    ],
)
def test_response_format_kinds(emu: Emulator, response_format: dict, wire: dict) -> None:
    message = make(emu).invoke("Give me one.", response_format=response_format)
    body = emu.requests[-1].json
    assert body["response_format"] == wire
    if response_format["type"] == "regex":
        assert message.content == "000-0000"
    else:
        assert body["messages"][0]["role"] == "system"  # the model is told to answer in JSON
        assert str(message.content).startswith("{")


def test_container_needs_no_token_and_dedicated_uses_endpoint_ids(emu: Emulator) -> None:
    with mock.patch.dict(os.environ, {}, clear=True):
        container = ChatFriendli(model="my-adapter", base_url=emu.friendli_container_base_url)
    assert container.endpoint == "container"
    assert "emulator" in str(container.invoke("hi").content)
    assert "authorization" not in emu.requests[-1].headers
    dedicated = ChatFriendli(
        model="ep-123abc",
        endpoint="dedicated",
        base_url=emu.friendli_dedicated_base_url,
        api_key=emu.api_key,
    )
    dedicated.invoke("hi")
    assert emu.requests[-1].path == "/friendli/dedicated/v1/chat/completions"
    assert emu.requests[-1].json["model"] == "ep-123abc"
    assert ChatFriendli(model="x", api_key="k").base_url == "https://api.friendli.ai/serverless/v1"
    assert (
        ChatFriendli(model="x", api_key="k", endpoint="dedicated").base_url
        == "https://api.friendli.ai/dedicated/v1"
    )


@pytest.mark.parametrize("cls", [ChatFriendli, FriendliLLM])
def test_each_endpoint_reads_its_own_base_url_variable(cls: type) -> None:
    env = {
        "FRIENDLI_TOKEN": "k",
        "FRIENDLI_BASE_URL": "http://h/friendli/serverless/v1",
        "FRIENDLI_DEDICATED_BASE_URL": "http://h/friendli/dedicated/v1",
        "FRIENDLI_CONTAINER_BASE_URL": "http://h/friendli/container/v1",
    }
    with mock.patch.dict(os.environ, env, clear=True):
        assert cls(model="m").base_url == env["FRIENDLI_BASE_URL"]
        assert cls(model="m", endpoint="serverless").base_url == env["FRIENDLI_BASE_URL"]
        dedicated = cls(model="ep-1", endpoint="dedicated")
        assert (dedicated.base_url, dedicated.endpoint) == (
            env["FRIENDLI_DEDICATED_BASE_URL"],
            "dedicated",
        )
        container = cls(model="adapter", endpoint="container")
        assert container.base_url == env["FRIENDLI_CONTAINER_BASE_URL"]
        explicit = cls(model="ep-1", endpoint="dedicated", base_url="http://mine/v1")
        assert explicit.base_url == "http://mine/v1"  # an explicit base_url wins
    # without the endpoint's own variable: FRIENDLI_BASE_URL, then the product's URL
    with mock.patch.dict(os.environ, {"FRIENDLI_TOKEN": "k"}, clear=True):
        assert cls(model="ep", endpoint="dedicated").base_url == DEDICATED_URL
        assert cls(model="a", endpoint="container").base_url == "http://localhost:8000/v1"
        os.environ["FRIENDLI_BASE_URL"] = "http://proxy/v1"
        assert cls(model="ep", endpoint="dedicated").base_url == "http://proxy/v1"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"top_p": 0}, "top_p"),
        ({"min_p": 1.5}, "min_p"),
        ({"top_k": -1}, "top_k"),
        ({"frequency_penalty": 3}, "frequency_penalty"),
        ({"presence_penalty": -2.5}, "presence_penalty"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
        ({"n": 0}, "n"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"seed": [1, 2]}, "seed"),
        ({"min_tokens": 5, "response_format": {"type": "json_object"}}, "min_tokens"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
    ],
)
def test_ranges_and_combinations_fail_before_any_request(
    emu: Emulator, kwargs: dict, field: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        make(emu).invoke("hi", **kwargs)
    assert info.value.field == field
    with pytest.raises(ValueError, match=field):
        make(emu, **kwargs)
    assert emu.requests == []


def test_tools_and_response_format_are_never_sent_together(emu: Emulator) -> None:
    with pytest.raises(InvalidParameterError, match="response_format"):
        make(emu).bind_tools([get_weather]).invoke("x", response_format={"type": "json_object"})
    with pytest.raises(InvalidParameterError, match="min_tokens"):
        make(emu).bind_tools([get_weather]).invoke("x", min_tokens=3)
    with pytest.raises(InvalidParameterError, match="n"):
        list(make(emu, n=2).stream("x"))
    assert emu.requests == []


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "detail", "error"),
    [
        (401, "Unauthorized. Please provide a valid credential.", AuthenticationError),
        (404, "Model 'nope' not found.", NotFoundError),
        (
            422,
            "The 'response_format' field cannot be set when tools are specified",
            InvalidRequestError,
        ),
        (429, "Rate limit exceeded", RateLimitError),
    ],
)
def test_detail_bodies_map_to_typed_errors(
    emu: Emulator, status: int, detail: str, error: type
) -> None:
    emu.queue(*(Fault.status(status, body={"detail": detail}) for _ in range(3)))
    with pytest.raises(error) as info:
        make(emu).invoke("hi")
    assert info.value.status_code == status
    assert detail in str(info.value)
    assert len(emu.requests) == (3 if status == 429 else 1)  # only 429 is retried


def test_real_401_from_a_wrong_token(emu: Emulator) -> None:
    with pytest.raises(AuthenticationError, match="valid credential"):
        make(emu, api_key="flp_wrong").invoke("hi")

"""Wire-level tests of the emulator's Friendli routes, with raw httpx (no package client code).

They pin down what a Friendli client relies on: chat completions bodies and SSE chunks
(usage chunk, ``[DONE]``, tool-call deltas by index), the tool-assisted chat stream
(``tool_status`` events before the answer, the three token event forms, tools that really
compute), text completions (current and legacy streams), validation (422 naming the
field), per-product auth, and the provider-neutral faults.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import httpx
import pytest

from langchain_ffm_friendli.testing import Emulator, Fault, Reply, ToolCall
from tests.integration_tests._shared import function_tool, sse_events

MODEL = "meta-llama-3.1-8b-instruct"
WEATHER_TOOL = function_tool(
    "get_weather", {"city": {"type": "string"}}, ["city"], "Get the current weather of a city."
)
LOG_TOOL = function_tool("log_result", {"text": {"type": "string"}}, ["text"])


# ----------------------------------------------------------------------------- helpers


def auth(emu: Emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.api_key}"}


def chat_url(emu: Emulator) -> str:
    return emu.friendli_base_url + "/chat/completions"


def tools_url(emu: Emulator) -> str:
    return emu.url + "/friendli/serverless/tools/v1/chat/completions"


def completions_url(emu: Emulator) -> str:
    return emu.friendli_base_url + "/completions"


def chat_body(content: str = "Hello!", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}


def post(
    emu: Emulator, url: str, payload: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(url, json=payload, headers=headers or auth(emu), timeout=10)


def stream(
    emu: Emulator, url: str, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    with httpx.Client(timeout=10) as client:
        request = {**payload, "stream": True}
        with client.stream("POST", url, json=request, headers=headers or auth(emu)) as response:
            raw = b"".join(response.iter_raw())
    return response, raw


def records(raw: bytes) -> list[Any]:
    """The JSON data records of a stream, ``[DONE]`` excluded."""
    return [json.loads(data) for _, data in sse_events(raw) if data != "[DONE]"]


def chat_text(recs: list[dict[str, Any]], index: int = 0) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for rec in recs
        for choice in rec.get("choices", [])
        if choice["index"] == index
    )


# ------------------------------------------------------------------- chat: responses


def test_chat_non_stream_shape(emu: Emulator) -> None:
    response = post(emu, chat_url(emu), chat_body("Hi there"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert data["id"].startswith("chatcmpl-")
    assert data["object"] == "chat.completion"
    assert data["model"] == MODEL
    assert isinstance(data["created"], int)
    assert data["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello! This is the Friendli emulator. You said: Hi there",
            },
            "finish_reason": "stop",
        }
    ]
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] > 0


def test_chat_stream_shape(emu: Emulator) -> None:
    payload = chat_body("Hi there", stream_options={"include_usage": True})
    response, raw = stream(emu, chat_url(emu), payload)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(raw)
    assert all(name is None for name, _ in events)  # no `event:` lines
    assert b"\r" not in raw
    assert events[-1] == (None, "[DONE]")
    recs = records(raw)
    assert {r["object"] for r in recs} == {"chat.completion.chunk"}
    assert len({r["id"] for r in recs}) == 1
    assert recs[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all("role" not in r["choices"][0]["delta"] for r in recs[1:-1])
    finish, usage = recs[-2], recs[-1]
    assert finish["choices"] == [
        {"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}
    ]
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == len(recs) - 2
    assert chat_text(recs) == "Hello! This is the Friendli emulator. You said: Hi there"
    assert all(r["usage"] is None for r in recs[:-1])


def test_chat_stream_without_include_usage_has_no_usage_chunk(emu: Emulator) -> None:
    _, raw = stream(emu, chat_url(emu), chat_body())
    recs = records(raw)
    assert all(r["choices"] for r in recs)
    assert recs[-1]["choices"][0]["finish_reason"] == "stop"


def test_chat_tool_calls(emu: Emulator) -> None:
    payload = chat_body("What's the weather in Paris?", tools=[WEATHER_TOOL])
    data = post(emu, chat_url(emu), payload).json()
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("call_")
    assert call["function"]["name"] == "get_weather"
    assert isinstance(call["function"]["arguments"], str)
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}

    _, raw = stream(emu, chat_url(emu), payload)
    recs = records(raw)
    fragments = [
        fragment for r in recs for fragment in r["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert len(fragments) >= 2
    head, rest = fragments[0], fragments[1:]
    assert head["index"] == 0
    assert head["id"] == call["id"]
    assert head["function"] == {"name": "get_weather", "arguments": ""}
    for fragment in rest:
        assert fragment["index"] == 0
        assert "id" not in fragment
        assert "name" not in fragment["function"]
    arguments = "".join(f["function"]["arguments"] for f in fragments)
    assert json.loads(arguments) == {"city": "Paris"}
    assert recs[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "finish_reason": "tool_calls",
        "logprobs": None,
    }


def test_chat_tool_round_trip_and_tool_choice(emu: Emulator) -> None:
    messages = [
        {"role": "user", "content": "What's the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18 degrees"},
    ]
    payload = {"model": MODEL, "messages": messages, "tools": [WEATHER_TOOL]}
    data = post(emu, chat_url(emu), payload).json()
    assert data["choices"][0]["message"]["content"] == "The tool returned: 18 degrees."
    none = post(
        emu,
        chat_url(emu),
        chat_body("weather?", tools=[WEATHER_TOOL], tool_choice="none"),
    )
    assert "tool_calls" not in none.json()["choices"][0]["message"]
    named = {"type": "function", "function": {"name": "get_weather"}}
    forced = post(emu, chat_url(emu), chat_body("hi", tools=[WEATHER_TOOL], tool_choice=named))
    assert forced.json()["choices"][0]["finish_reason"] == "tool_calls"


def test_chat_n_and_logprobs(emu: Emulator) -> None:
    payload = chat_body("Hi", n=3, logprobs=True, top_logprobs=2)
    data = post(emu, chat_url(emu), payload).json()
    assert [c["index"] for c in data["choices"]] == [0, 1, 2]
    one = data["choices"][0]
    content = one["logprobs"]["content"]
    assert "".join(item["token"] for item in content) == one["message"]["content"]
    for item in content:
        assert item["logprob"] < 0
        assert len(item["top_logprobs"]) == 2
        assert item["top_logprobs"][0]["token"] == item["token"]
        assert item["bytes"] == list(item["token"].encode())
    single = data["usage"]["completion_tokens"] // 3
    assert data["usage"]["completion_tokens"] == 3 * single == 3 * len(content)
    # Deterministic: the same request gets the same logprobs.
    again = post(emu, chat_url(emu), payload).json()
    assert again["choices"][0]["logprobs"] == one["logprobs"]

    _, raw = stream(emu, chat_url(emu), chat_body("Hi", n=2, logprobs=True))
    recs = records(raw)
    assert chat_text(recs, 0) == chat_text(recs, 1) == one["message"]["content"]
    token_chunks = [r for r in recs if r["choices"][0]["delta"].get("content")]
    assert all(len(r["choices"][0]["logprobs"]["content"]) == 1 for r in token_chunks)
    assert {r["choices"][0]["index"] for r in recs[:2]} == {0, 1}  # interleaved


def test_chat_response_formats(emu: Emulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "dish": {"type": "string"},
            "calories": {"type": "integer", "minimum": 0},
            "vegan": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["dish", "calories", "vegan", "tags"],
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "meal", "schema": schema}}
    payload = chat_body("Suggest 'Pad Thai' with 450 calories as JSON.", response_format=fmt)
    content = post(emu, chat_url(emu), payload).json()["choices"][0]["message"]["content"]
    value = json.loads(content)
    assert set(value) == {"dish", "calories", "vegan", "tags"}
    assert value["dish"] == "Pad Thai"
    assert value["calories"] == 450
    assert isinstance(value["vegan"], bool)
    assert isinstance(value["tags"], list)
    assert all(isinstance(tag, str) for tag in value["tags"])

    json_mode = chat_body("Answer in JSON", response_format={"type": "json_object"})
    content = post(emu, chat_url(emu), json_mode).json()["choices"][0]["message"]["content"]
    assert isinstance(json.loads(content), dict)

    regex = {"type": "regex", "schema": "[0-9]{3}-[0-9]{4}"}
    content = post(emu, chat_url(emu), chat_body("phone?", response_format=regex)).json()[
        "choices"
    ][0]["message"]["content"]
    assert re.fullmatch(regex["schema"], content)
    alternatives = {"type": "regex", "schema": r"(yes|no), \w+ (\d\.\d+)?"}
    content = post(emu, chat_url(emu), chat_body("?", response_format=alternatives)).json()[
        "choices"
    ][0]["message"]["content"]
    assert re.fullmatch(alternatives["schema"], content)


def test_chat_stop_and_max_tokens(emu: Emulator) -> None:
    data = post(emu, chat_url(emu), chat_body("Hi", stop=["Friendli"])).json()
    assert data["choices"][0]["message"]["content"] == "Hello! This is the "  # stop excluded
    assert data["choices"][0]["finish_reason"] == "stop"
    data = post(emu, chat_url(emu), chat_body("Hi", max_tokens=2)).json()
    assert data["choices"][0]["message"]["content"] == "Hello!"
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 2
    _, raw = stream(emu, chat_url(emu), chat_body("Hi", max_tokens=2))
    recs = records(raw)
    assert chat_text(recs) == "Hello!"
    assert recs[-1]["choices"][0]["finish_reason"] == "length"


def test_chat_scripted_reply(emu: Emulator) -> None:
    emu.queue(
        Reply(text="Sure.", tool_calls=[ToolCall("get_weather", {"city": "台北"})]),
        route="friendli.chat",
    )
    data = post(emu, chat_url(emu), chat_body(tools=[WEATHER_TOOL])).json()
    message = data["choices"][0]["message"]
    assert message["content"] == "Sure."
    assert message["tool_calls"][0]["function"]["arguments"] == '{"city": "台北"}'


# --------------------------------------------------------------- chat: auth & routes


def test_auth_per_product_and_team_header(emu: Emulator) -> None:
    base = {"messages": [{"role": "user", "content": "Hi"}]}
    container = httpx.post(emu.friendli_container_base_url + "/chat/completions", json=base)
    assert container.status_code == 200  # no key, no model
    assert container.json()["model"] is None
    container = httpx.post(emu.friendli_container_base_url + "/completions", json={"prompt": "x"})
    assert container.status_code == 200
    for url in (
        chat_url(emu),
        emu.friendli_dedicated_base_url + "/chat/completions",
        completions_url(emu),
        tools_url(emu),
    ):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = httpx.post(url, json={**base, "model": MODEL}, headers=headers)
            assert response.status_code == 401, url
            assert response.json() == {"detail": "Unauthorized. Please provide a valid credential."}
    dedicated = post(
        emu,
        emu.friendli_dedicated_base_url + "/chat/completions",
        {**base, "model": "ep-123:adapter"},
        headers={**auth(emu), "X-Friendli-Team": "team-42"},
    )
    assert dedicated.status_code == 200
    assert dedicated.json()["model"] == "ep-123:adapter"
    recorded = emu.requests[-1]
    assert recorded.route == "friendli.chat"
    assert recorded.headers["x-friendli-team"] == "team-42"
    missing = post(emu, chat_url(emu), base)
    assert missing.status_code == 422
    assert "'model'" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"tools": [WEATHER_TOOL], "response_format": {"type": "json_object"}}, "response_format"),
        ({"tools": [WEATHER_TOOL], "min_tokens": 5}, "min_tokens"),
        ({"response_format": {"type": "json_object"}, "min_tokens": 5}, "min_tokens"),
        ({"temperature": -0.5}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": -1}, "top_k"),
        ({"min_p": 1.5}, "min_p"),
        ({"frequency_penalty": 2.5}, "frequency_penalty"),
        ({"presence_penalty": -3}, "presence_penalty"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
        ({"n": 0}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stop": "END"}, "stop"),
        ({"seed": [1, 2], "n": 3}, "seed"),
        ({"tool_choice": "any"}, "tool_choice"),
        ({"tools": [{"type": "math:calculator"}]}, "tools[0].type"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
        ({"response_format": {"type": "json_schema"}}, "response_format.json_schema.schema"),
        ({"response_format": {"type": "regex", "schema": "^a$"}}, "response_format.schema"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"messages": [{"role": "assistant"}]}, "messages[0].content"),
        ({"messages": []}, "messages"),
    ],
)
def test_chat_validation(emu: Emulator, extra: dict[str, Any], field: str) -> None:
    emu.queue(Reply(text="kept"))
    response = post(emu, chat_url(emu), chat_body(**extra))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert f"'{field}'" in detail
    assert emu.pending == 1  # validation does not consume the queue


def test_chat_validation_observed_message_and_valid_edges(emu: Emulator) -> None:
    payload = chat_body(tools=[WEATHER_TOOL], response_format={"type": "json_object"})
    assert post(emu, chat_url(emu), payload).json() == {
        "detail": "The 'response_format' field cannot be set when tools are specified"
    }
    edges = chat_body(
        temperature=0,
        top_p=1,
        top_k=0,
        min_p=0,
        frequency_penalty=-2,
        presence_penalty=2,
        repetition_penalty=1.2,
        n=2,
        seed=[1, 2],
        logprobs=True,
        top_logprobs=0,
        eos_token=[128009],
        logit_bias={"128000": -100},
        chat_template_kwargs={"enable_thinking": False},
        parallel_tool_calls=False,
        tool_choice="required",  # tolerated without tools
        min_tokens=1,
        reasoning_effort="low",
        some_future_field={"ignored": True},
    )
    assert post(emu, chat_url(emu), edges).status_code == 200
    not_json = httpx.post(chat_url(emu), content=b"{nope", headers=auth(emu))
    assert not_json.status_code == 422
    assert "detail" in not_json.json()


# ------------------------------------------------------------------ chat: faults


def test_chat_status_fault_with_retry_after(emu: Emulator) -> None:
    emu.queue(Fault.status(429, retry_after="2"), route="friendli.chat")
    response = post(emu, chat_url(emu), chat_body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert "detail" in response.json()
    assert post(emu, chat_url(emu), chat_body()).status_code == 200


def test_chat_disconnect_mid_stream(emu: Emulator) -> None:
    emu.queue(Fault.disconnect(after=2))
    received: list[bytes] = []
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", chat_url(emu), json=chat_body(stream=True), headers=auth(emu)
        ) as response,
    ):
        assert response.status_code == 200
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            received.extend(response.iter_raw())
    raw = b"".join(received)
    assert len(records(raw)) == 2
    assert b"[DONE]" not in raw


def test_chat_malformed_and_error_record(emu: Emulator) -> None:
    emu.queue(Fault.malformed(after=1))
    _, raw = stream(emu, chat_url(emu), chat_body())
    events = sse_events(raw)
    assert events[1] == (None, "{not json")
    assert events[-1] == (None, "[DONE]")  # the stream goes on

    emu.queue(Fault.error_record(after=2, message="boom", status_code=503))
    _, raw = stream(emu, chat_url(emu), chat_body())
    events = sse_events(raw)
    assert len(events) == 3
    assert json.loads(events[-1][1]) == {
        "error": {"message": "boom", "type": "server_error", "param": None, "code": 503}
    }
    emu.queue(Fault.error_record(after=0, status_code=429, as_event=True))
    _, raw = stream(emu, chat_url(emu), chat_body())
    (event,) = sse_events(raw)
    assert event[0] == "error"
    assert json.loads(event[1])["error"]["type"] == "rate_limit_error"


def test_chat_truncated_stall_and_ping_storm(emu: Emulator) -> None:
    emu.queue(Fault.truncated(after=3))
    _, raw = stream(emu, chat_url(emu), chat_body())
    assert len(sse_events(raw)) == 3
    assert b"[DONE]" not in raw
    emu.queue(Fault.ping_storm(2), Fault.stall(after=1, seconds=0.05))
    _, raw = stream(emu, chat_url(emu), chat_body())
    normal = records(stream(emu, chat_url(emu), chat_body())[1])
    assert raw.count(b": keep-alive\n\n") == len(normal) + 1  # [DONE] gets its pings too
    assert chat_text(records(raw)) == chat_text(normal)
    assert sse_events(raw)[-1] == (None, "[DONE]")
    emu.queue(Fault.slow_first_byte(0.05, reply=Reply(text="late")))
    data = post(emu, chat_url(emu), chat_body()).json()
    assert data["choices"][0]["message"]["content"] == "late"


# ----------------------------------------------------------------- tool-assisted chat


def tool_stream(
    emu: Emulator, content: str, tools: list[Any], **extra: Any
) -> tuple[list[dict[str, Any]], list[tuple[str | None, Any]]]:
    """Stream a tool-assisted request; returns the statuses and all parsed events."""
    response, raw = stream(emu, tools_url(emu), chat_body(content, tools=tools, **extra))
    assert response.status_code == 200
    events = [
        (name, data if data == "[DONE]" else json.loads(data)) for name, data in sse_events(raw)
    ]
    statuses = [data for name, data in events if name == "tool_status"]
    return statuses, events


def test_tool_assisted_seed_example(emu: Emulator) -> None:
    statuses, events = tool_stream(
        emu, "What is 3 + 6?", [{"type": "math:calculator"}], max_tokens=200
    )
    assert [s["status"] for s in statuses] == ["STARTED", "ENDED"]
    started, ended = statuses
    assert list(ended) == [
        "tool_call_id",
        "name",
        "status",
        "parameters",
        "result",
        "files",
        "message",
        "error",
        "usage",
        "timestamp",
    ]
    assert started["tool_call_id"] == ended["tool_call_id"]
    assert started["name"] == "math:calculator"
    assert started["parameters"] == [{"name": "expression", "value": "3 + 6"}]
    assert started["result"] is None
    assert json.loads(json.loads(ended["result"])) == {"result": "3 + 6=9"}  # double-encoded
    assert ended["error"] is None
    # The statuses come before any token chunk.
    names = [name for name, _ in events]
    assert names[:2] == ["tool_status", "tool_status"]
    assert "tool_status" not in names[2:]
    chunks = [data for name, data in events[2:] if data != "[DONE]"]
    text = chat_text(chunks)
    assert "9" in text
    assert text == "3 + 6 = 9."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert events[-1][1] == "[DONE]"


def test_tool_assisted_token_event_forms(emu: Emulator) -> None:
    forms = []
    for _ in range(3):
        _, events = tool_stream(emu, "What is 2 * 21?", [{"type": "math:calculator"}])
        forms.append({name for name, data in events if name != "tool_status" and data != "[DONE]"})
    assert forms == [{None}, {"message"}, {"token"}]
    _, raw = stream(
        emu,
        tools_url(emu),
        chat_body("Hi", tools=[{"type": "web:url"}]),
        headers={**auth(emu), "X-Emulator-Token-Event": "token"},
    )
    assert {name for name, _ in sse_events(raw)[:-1]} == {"token"}


def test_tool_assisted_non_stream_returns_only_the_answer(emu: Emulator) -> None:
    payload = chat_body("What is 3 + 6?", tools=[{"type": "math:calculator"}])
    data = post(emu, tools_url(emu), payload).json()
    assert data["object"] == "chat.completion"
    assert data["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "3 + 6 = 9."},
            "finish_reason": "stop",
        }
    ]
    assert "tool_status" not in json.dumps(data)


def test_calculator_really_computes(emu: Emulator) -> None:
    cases = {
        "Compute (2 + 3) * -4 ** 2 please": ("(2 + 3) * -4 ** 2", "-80"),
        "What is 150 * 1.60934?": ("150 * 1.60934", "241.401000000000"),
        "what is 7 divided by 2": ("7 / 2", "3.50000000000000"),
        "2^10 - 0.5?": ("2^10 - 0.5", "1023.50000000000"),
    }
    for prompt, (expression, raw) in cases.items():
        statuses, _ = tool_stream(emu, prompt, [{"type": "math:calculator"}])
        assert statuses[0]["parameters"] == [{"name": "expression", "value": expression}]
        assert json.loads(json.loads(statuses[-1]["result"])) == {"result": f"{expression}={raw}"}


def test_statistics_and_calendar_really_compute(emu: Emulator) -> None:
    tools = [{"type": "math:statistics"}, {"type": "math:calendar"}]
    statuses, events = tool_stream(
        emu, "What are the mean and median of 2, 4, 4, 4, 5, 5, 7, 9?", tools
    )
    (ended,) = [s for s in statuses if s["status"] == "ENDED"]
    assert ended["name"] == "math:statistics"
    stats = json.loads(ended["result"])
    assert stats["mean"] == 5
    assert stats["median"] == 4.5
    assert stats["stdev"] == pytest.approx(2.13809, abs=1e-4)
    assert (stats["min"], stats["max"], stats["count"]) == (2, 9, 8)
    text = chat_text([d for n, d in events if n != "tool_status" and d != "[DONE]"])
    assert "mean = 5" in text
    assert "median = 4.5" in text

    statuses, _ = tool_stream(emu, "What day of the week was 2024-05-20?", tools)
    assert [s["name"] for s in statuses] == ["math:calendar", "math:calendar"]
    assert json.loads(statuses[-1]["result"]) == {"date": "2024-05-20", "weekday": "Monday"}
    statuses, _ = tool_stream(emu, "How many days between January 1, 2024 and 1 March 2024?", tools)
    assert json.loads(statuses[-1]["result"])["days"] == 60
    data = post(emu, tools_url(emu), chat_body("What is today's date?", tools=tools))
    today = date.today().isoformat()
    assert today in data.json()["choices"][0]["message"]["content"]


def test_tool_errors_and_resume_generation(emu: Emulator) -> None:
    tools = [{"type": "math:calculator"}]
    statuses, events = tool_stream(emu, "What is 1 / 0?", tools)
    assert [s["status"] for s in statuses] == ["STARTED", "ERRORED"]
    assert statuses[-1]["error"] == {"type": "INVALID_PARAMETER", "msg": "division by zero"}
    assert statuses[-1]["result"] is None
    chunks = [d for n, d in events if n != "tool_status" and d != "[DONE]"]
    assert chat_text(chunks) == ""  # generation stops without resume_generation
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    data = post(
        emu,
        tools_url(emu),
        chat_body("What is 1 / 0?", tools=tools, resume_generation=True),
    ).json()
    assert "division by zero" in data["choices"][0]["message"]["content"]
    statuses, _ = tool_stream(emu, "What weekday is 2023-02-30?", [{"type": "math:calendar"}])
    assert statuses[-1]["status"] == "ERRORED"


def test_canned_tools_and_user_function(emu: Emulator) -> None:
    tools = [
        {"type": "web:search"},
        {"type": "file:text", "files": ["file-1"]},
        {"type": "code:python-interpreter"},
        LOG_TOOL,
    ]
    statuses, events = tool_stream(
        emu, "Search the latest news and log the result", tools, tool_choice="required"
    )
    assert [(s["name"], s["status"]) for s in statuses] == [
        ("web:search", "STARTED"),
        ("web:search", "UPDATING"),
        ("web:search", "ENDED"),
    ]
    assert statuses[1]["message"]
    assert statuses[-1]["result"].startswith("[emulator canned result for web:search]")
    chunks = [d for n, d in events if n != "tool_status" and d != "[DONE]"]
    fragments = [f for c in chunks for f in c["choices"][0]["delta"].get("tool_calls", [])]
    assert fragments[0]["function"]["name"] == "log_result"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    data = post(
        emu,
        tools_url(emu),
        chat_body("Summarize the attached document", tools=tools),
    ).json()
    assert "[emulator canned result for file:text]" in data["choices"][0]["message"]["content"]


def test_tool_assisted_validation(emu: Emulator) -> None:
    bad = [
        {"tools": [{"type": "math:abacus"}]},
        {"tools": [{"type": "file:text"}]},
        {"tools": [{"type": "file:text", "files": ["a", "b"]}]},
        {"resume_generation": "yes"},
        {"top_p": 2},
    ]
    for extra in bad:
        response = post(emu, tools_url(emu), chat_body("Hi", **extra))
        assert response.status_code == 422, extra
        assert "detail" in response.json()
    # response_format / min_tokens do not exist on this endpoint: ignored, not 422.
    ignored = chat_body(
        "What is 3 + 6?",
        tools=[{"type": "math:calculator"}],
        response_format={"type": "json_object"},
    )
    assert post(emu, tools_url(emu), ignored).status_code == 200


# ----------------------------------------------------------------- text completions


def test_completions_non_stream(emu: Emulator) -> None:
    data = post(emu, completions_url(emu), {"model": MODEL, "prompt": "Once upon"}).json()
    assert data["id"].startswith("cmpl-")
    assert data["object"] == "text_completion"
    assert data["model"] == MODEL
    assert "created" not in data  # not in the non-stream schema
    (choice,) = data["choices"]
    assert choice["text"] == " This is the Friendli emulator continuing: Once upon"
    assert choice["finish_reason"] == "stop"
    assert isinstance(choice["seed"], int)
    assert all(isinstance(t, int) for t in choice["tokens"])
    assert data["usage"]["completion_tokens"] == len(choice["tokens"])
    assert data["usage"]["prompt_tokens"] == 2

    payload = {"model": MODEL, "tokens": [128000, 2028, 374], "n": 2, "seed": [7, 8], "logprobs": 2}
    data = post(emu, completions_url(emu), payload).json()
    first, second = data["choices"]
    assert (first["index"], second["index"]) == (0, 1)
    assert (first["seed"], second["seed"]) == (7, 8)
    assert first["text"] != second["text"]
    assert data["usage"]["prompt_tokens"] == 3
    logprobs = first["logprobs"]
    assert "".join(logprobs["tokens"]) == first["text"]
    assert len(logprobs["token_logprobs"]) == len(first["tokens"])
    assert all(len(top) == 2 for top in logprobs["top_logprobs"])


def test_completions_limits(emu: Emulator) -> None:
    payload = {"model": MODEL, "prompt": "Once upon", "stop": [" emulator"]}
    data = post(emu, completions_url(emu), payload).json()
    assert data["choices"][0]["text"] == " This is the Friendli"
    payload = {"model": MODEL, "prompt": "Once upon", "max_total_tokens": 5}
    data = post(emu, completions_url(emu), payload).json()
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 3
    payload = {"model": MODEL, "prompt": "Once upon", "timeout_microseconds": 10}
    assert post(emu, completions_url(emu), payload).status_code == 429


def test_completions_stream_current_format(emu: Emulator) -> None:
    payload = {
        "model": MODEL,
        "prompt": "Once upon",
        "max_tokens": 3,
        "stream_options": {"include_usage": True},
    }
    response, raw = stream(emu, completions_url(emu), payload)
    assert response.status_code == 200
    events = sse_events(raw)
    assert all(name is None for name, _ in events)
    assert events[-1] == (None, "[DONE]")
    recs = records(raw)
    tokens, finish, usage = recs[:-2], recs[-2], recs[-1]
    assert [r["choices"][0]["text"] for r in tokens] == [" This", " is", " the"]
    assert all(isinstance(r["choices"][0]["token"], int) for r in tokens)
    assert all(r["object"] == "text_completion" for r in recs)
    assert finish["choices"] == [
        {"index": 0, "text": "", "finish_reason": "length", "logprobs": None}
    ]
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 3


def test_completions_stream_legacy_format(emu: Emulator) -> None:
    payload = {"model": MODEL, "prompt": "Once upon", "max_tokens": 3}
    headers = {**auth(emu), "X-Emulator-Stream-Format": "legacy"}
    _, raw = stream(emu, completions_url(emu), payload, headers=headers)
    assert b"[DONE]" not in raw
    recs = records(raw)
    lines, complete = recs[:-1], recs[-1]
    assert [line["event"] for line in lines] == ["token_sampled"] * 3
    assert "".join(line["text"] for line in lines) == " This is the"
    assert complete["choices"][0]["text"] == " This is the"
    assert complete["choices"][0]["tokens"] == [line["token"] for line in lines]
    assert set(complete["choices"][0]) == {"index", "seed", "text", "tokens"}
    assert complete["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({"tokens": [1, 2]}, ["prompt", "tokens"]),
        ({"prompt": None}, ["prompt", "tokens"]),
        ({"max_tokens": 5, "max_total_tokens": 50}, ["max_tokens", "max_total_tokens"]),
        ({"min_tokens": 1, "min_total_tokens": 5}, ["min_tokens", "min_total_tokens"]),
        ({"num_beams": 0}, ["num_beams"]),
        ({"num_beams": 32}, ["num_beams"]),
        ({"num_beams": 4, "stream": True}, ["stream", "num_beams"]),
        ({"num_beams": 4, "n": 2}, ["n", "num_beams"]),
        ({"num_beams": 4, "stop": ["."]}, ["stop", "num_beams"]),
        ({"num_beams": 4, "top_k": 5}, ["top_k", "beam_search_type"]),
        ({"num_beams": 4, "beam_search_type": "DETERMINISTIC", "top_p": 0.9}, ["top_p"]),
        ({"beam_search_type": "GREEDY"}, ["beam_search_type"]),
        ({"early_stopping": True}, ["early_stopping", "num_beams"]),
        ({"length_penalty": 1.2}, ["length_penalty", "num_beams"]),
        ({"top_k": -1}, ["top_k"]),
        ({"top_p": 0.0}, ["top_p"]),
        ({"min_p": 2}, ["min_p"]),
        ({"repetition_penalty": 0.5}, ["repetition_penalty"]),
        ({"encoder_repetition_penalty": 0.5}, ["encoder_repetition_penalty"]),
        ({"frequency_penalty": 2.5}, ["frequency_penalty"]),
        ({"presence_penalty": -2.5}, ["presence_penalty"]),
        ({"no_repeat_ngram": 0}, ["no_repeat_ngram"]),
        ({"logprobs": True}, ["logprobs"]),
        ({"token_index_to_replace": [0]}, ["token_index_to_replace", "embedding_to_replace"]),
        ({"stop_tokens": [[1, 2]]}, ["stop_tokens"]),
        ({"bad_word_tokens": [{"tokens": ["a"]}]}, ["bad_word_tokens"]),
        ({"bad_words": [1]}, ["bad_words"]),
        ({"response_format": {"type": "json_object"}, "min_tokens": 1}, ["min_tokens"]),
        ({"stream_options": {"include_usage": True}}, ["stream_options"]),
        ({"max_total_tokens": 2}, ["max_total_tokens"]),
        ({"timeout_microseconds": 0}, ["timeout_microseconds"]),
        ({"model": None}, ["model"]),
    ],
)
def test_completions_validation(emu: Emulator, extra: dict[str, Any], fields: list[str]) -> None:
    payload = {"model": MODEL, "prompt": "Once upon", **extra}
    response = post(emu, completions_url(emu), payload)
    assert response.status_code == 422
    detail = response.json()["detail"]
    for field in fields:
        assert f"'{field}'" in detail, detail


def test_completions_accepts_legacy_and_current_fields(emu: Emulator) -> None:
    payload = {
        "model": MODEL,
        "prompt": ["First", "Second"],
        "num_beams": 4,
        "beam_search_type": "STOCHASTIC",
        "early_stopping": True,
        "length_penalty": 1.1,
        "top_k": 5,
        "top_p": 0.9,
        "min_p": 0.1,
        "repetition_penalty": 1.0,
        "encoder_repetition_penalty": 1.0,
        "no_repeat_ngram": 3,
        "encoder_no_repeat_ngram": 1,
        "bad_words": ["bad"],
        "bad_word_tokens": [{"tokens": [1, 2]}],
        "stop_tokens": [{"tokens": [13]}],
        "eos_token": [128009],
        "include_output_logits": True,
        "include_output_logprobs": True,
        "token_index_to_replace": [0],
        "embedding_to_replace": [0.1, 0.2],
        "min_total_tokens": 2,
        "max_total_tokens": 400,
        "timeout_microseconds": 10_000_000,
        "seed": 11,
        "response_format": {"type": "regex", "schema": "(yes|no)"},
    }
    data = post(emu, completions_url(emu), payload).json()
    assert [c["text"] for c in data["choices"]] == ["yes", "yes"]
    assert [c["index"] for c in data["choices"]] == [0, 1]
    assert [c["seed"] for c in data["choices"]] == [11, 11]


# ------------------------------------------------------------- completions: faults


def test_completions_faults(emu: Emulator) -> None:
    emu.queue(Fault.status(503, retry_after="1"), route="friendli.completions")
    response = post(emu, completions_url(emu), {"model": MODEL, "prompt": "x"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert emu.requests[-1].route == "friendli.completions"

    emu.queue(Fault.disconnect(after=2))
    payload = {"model": MODEL, "prompt": "Once upon", "stream": True}
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", completions_url(emu), json=payload, headers=auth(emu)) as r,
    ):
        received: list[bytes] = []
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            received.extend(r.iter_raw())
    assert len(records(b"".join(received))) == 2

    emu.queue(Fault.malformed(after=1), Fault.error_record(after=2, message="overloaded"))
    _, raw = stream(emu, completions_url(emu), payload)
    assert sse_events(raw)[1] == (None, "{not json")
    assert sse_events(raw)[-1] == (None, "[DONE]")
    _, raw = stream(emu, completions_url(emu), payload)
    last = json.loads(sse_events(raw)[-1][1])
    assert last["error"]["message"] == "overloaded"
    assert last["error"]["code"] == 500

    emu.queue(Fault.status(500), route="friendli.tools_chat")
    response = post(emu, tools_url(emu), chat_body("What is 3 + 6?"))
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}

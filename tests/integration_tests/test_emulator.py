"""Wire-level tests of the emulator, with raw httpx (no client code from the package).

They pin down the bytes a client relies on: the FFM response shapes, the SSE framing
quirks, tool-call encodings, the default model's decisions, every fault, validation,
the request log, concurrency and connection accounting.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from langchain_ffm_friendli.testing import Emulator, Fault, Reply, ToolCall
from tests.integration_tests import _shared
from tests.integration_tests._shared import function_tool, undecodable_chunks

MAGIC_TOOL = function_tool(
    "magic_function",
    {"input": {"type": "integer"}},
    ["input"],
    "Apply a magic function to an input.",
)
WEATHER_TOOL = function_tool(
    "get_weather",
    {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    ["city"],
    "Get the current weather of a city.",
)
CUSTOMER_TOOL = function_tool(
    "create_customer",
    {"customer_name": {"type": "string"}},
    ["customer_name"],
    "Create a customer.",
)


# ----------------------------------------------------------------------------- helpers


def chat_url(emu: Emulator) -> str:
    return emu.ffm_base_url + "/models/conversation"


def body(content: str = "Hello!", **extra: Any) -> dict[str, Any]:
    return {
        "model": "llama3.1-ffm-70b-32k-chat",
        "messages": [{"role": "user", "content": content}],
        **extra,
    }


def post(emu: Emulator, payload: Any, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"X-API-KEY": emu.api_key if key is None else key}
    kwargs.setdefault("timeout", 10)
    return httpx.post(chat_url(emu), json=payload, headers=headers, **kwargs)


def stream_raw(emu: Emulator, payload: dict[str, Any]) -> tuple[httpx.Response, list[bytes]]:
    """POST a streaming request and return the response and its raw network chunks."""
    chunks: list[bytes] = []
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST", chat_url(emu), json={**payload, "stream": True}, headers=auth(emu)
        ) as response,
    ):
        chunks.extend(response.iter_raw())
    return response, chunks


def auth(emu: Emulator) -> dict[str, str]:
    return {"X-API-KEY": emu.api_key}


def sse_events(raw: bytes) -> list[tuple[str | None, str]]:
    """FFM's SSE events: CRLF line ends only, unnamed events are ``message``."""
    return _shared.sse_events(raw, line_break="\r\n", default_event="message")


def records(raw: bytes) -> list[dict[str, Any]]:
    """The JSON data records of a stream (pings and non-JSON data skipped)."""
    out = []
    for event, data in sse_events(raw):
        if event != "message":
            continue
        try:
            out.append(json.loads(data))
        except ValueError:
            continue
    return out


def assembled_tool_calls(recs: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for rec in recs:
        for fragment in rec.get("tool_calls") or []:
            call = calls.setdefault(fragment["index"], {"id": None, "name": "", "arguments": ""})
            call["id"] = fragment.get("id", call["id"])
            function = fragment.get("function", {})
            call["name"] += function.get("name", "")
            call["arguments"] += function.get("arguments", "")
    return calls


# ------------------------------------------------------------------------ lifecycle


def test_lifecycle_and_urls() -> None:
    emu = Emulator(api_key="k-123")
    with pytest.raises(RuntimeError):
        _ = emu.url
    emu.start()
    emu.start()  # idempotent
    try:
        assert emu.url.startswith("http://127.0.0.1:")
        assert emu.ffm_base_url == emu.url + "/ffm/api"
        assert emu.api_key == "k-123"
        assert post(emu, body()).status_code == 200
    finally:
        emu.stop()
        emu.stop()
    assert not emu.running


@pytest.mark.asyncio
async def test_async_context_manager() -> None:
    async with Emulator() as emu, httpx.AsyncClient() as client:
        response = await client.post(chat_url(emu), json=body(), headers=auth(emu))
        assert response.status_code == 200


def test_fixture_gives_fresh_state(emu: Emulator) -> None:
    assert emu.requests == []
    assert emu.pending == 0
    assert emu.running


# -------------------------------------------------------------------- response shapes


def test_non_stream_shape(emu: Emulator) -> None:
    response = post(emu, body("你好, emulator"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "你好".encode() in response.content  # UTF-8, not \u escapes
    data = response.json()
    assert list(data) == [
        "generated_text",
        "details",
        "total_time_taken",
        "prompt_tokens",
        "generated_tokens",
        "total_tokens",
        "finish_reason",
        "function_call",
    ]
    assert data["generated_text"] == "Hello! This is the FFM emulator. You said: 你好, emulator"
    assert data["details"] is None
    assert data["function_call"] is None
    assert data["finish_reason"] == "stop_sequence"
    assert data["total_time_taken"].endswith(" sec")
    assert data["prompt_tokens"] > 0
    assert data["generated_tokens"] > 0
    assert data["total_tokens"] == data["prompt_tokens"] + data["generated_tokens"]


def test_stream_wire_format(emu: Emulator) -> None:
    response, chunks = stream_raw(emu, body("台北 weather"))
    raw = b"".join(chunks)
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.headers
    assert b"\r\n\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert b"event: ping\r\ndata: 2024-05-20 06:00:15.123456\r\n\r\n" in raw
    assert b"\r\n: ping - 2024-05-20 06:00:15.123456+00:00\r\n" in raw
    assert b"[DONE]" not in raw
    # Events are written in two halves, and some halves cut a multi-byte character.
    assert len(chunks) > 2 * len(records(raw))
    assert undecodable_chunks(chunks) > 0

    recs = records(raw)
    assert recs[0] == {"generated_text": "", "details": None, "finish_reason": None}
    for rec in recs[:-1]:
        assert set(rec) == {"generated_text", "details", "finish_reason"}
        assert rec["finish_reason"] is None
    final = recs[-1]
    assert final["generated_text"] == ""
    assert final["finish_reason"] == "stop_sequence"
    assert final["total_tokens"] == final["prompt_tokens"] + final["generated_tokens"]
    assert final["total_time_taken"].endswith(" sec")
    # Every delta with a non-ASCII character is preceded by an empty delta.
    for index, rec in enumerate(recs):
        if any(ord(c) > 0x7F for c in rec["generated_text"]):
            assert recs[index - 1]["generated_text"] == ""
    text = "".join(rec["generated_text"] for rec in recs)
    assert text == "Hello! This is the FFM emulator. You said: 台北 weather"
    # Same text and counts as the non-streaming answer.
    plain = post(emu, body("台北 weather")).json()
    assert plain["generated_text"] == text
    assert plain["generated_tokens"] == final["generated_tokens"]
    assert plain["prompt_tokens"] == final["prompt_tokens"]


def test_stream_pings_come_early_even_for_short_streams(emu: Emulator) -> None:
    emu.queue(Reply(text=""))
    _, chunks = stream_raw(emu, body())
    raw = b"".join(chunks)
    events = sse_events(raw)
    assert ("ping", "2024-05-20 06:00:15.123456") in events
    assert raw.index(b": ping - ") < raw.index(b'"finish_reason": "stop_sequence"')
    assert len(records(raw)) == 2


# ------------------------------------------------------------------------- tool calls


@pytest.mark.parametrize("style", ["native", "no_id"])
def test_native_tool_calls_non_stream(emu: Emulator, style: Any) -> None:
    emu.queue(
        Reply(
            tool_calls=[
                ToolCall("get_weather", {"city": "台北"}, id="call_abc"),
                ToolCall("magic_function", '{"input": 3', id="call_def"),
            ],
            tool_call_style=style,
        )
    )
    response = post(emu, body("weather?", tools=[WEATHER_TOOL, MAGIC_TOOL]))
    assert '"city": "台北"'.encode() in response.content.replace(b'\\"', b'"')
    data = response.json()
    assert data["generated_text"] == ""
    assert data["finish_reason"] == "tool_calls"
    calls = data["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "magic_function"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "台北"}
    assert calls[1]["function"]["arguments"] == '{"input": 3'  # verbatim, invalid JSON
    assert all(c["type"] == "function" for c in calls)
    if style == "native":
        assert [c["id"] for c in calls] == ["call_abc", "call_def"]
    else:
        assert all("id" not in c for c in calls)


@pytest.mark.parametrize("style", ["native", "no_id"])
def test_native_tool_calls_stream(emu: Emulator, style: Any) -> None:
    emu.queue(
        Reply(
            tool_calls=[ToolCall("get_weather", {"city": "台北"}), ToolCall("magic_function", {})],
            tool_call_style=style,
        )
    )
    _, chunks = stream_raw(emu, body("weather?", tools=[WEATHER_TOOL, MAGIC_TOOL]))
    recs = records(b"".join(chunks))
    first = recs[0]
    assert first["generated_text"] == ""
    head = first["tool_calls"][0]
    assert head["index"] == 0
    assert head["type"] == "function"
    assert head["function"] == {"name": "get_weather", "arguments": ""}
    assert ("id" in head) is (style == "native")
    if style == "native":
        assert head["id"].startswith("call_")
    pieces = [
        r for r in recs if r.get("tool_calls") and "name" not in r["tool_calls"][0]["function"]
    ]
    assert all(set(p["tool_calls"][0]) == {"index", "function"} for p in pieces)
    assert all(p["finish_reason"] is None for p in recs[:-1])
    calls = assembled_tool_calls(recs)
    assert json.loads(calls[0]["arguments"]) == {"city": "台北"}
    assert calls[1] == {
        "id": calls[1]["id"],
        "name": "magic_function",
        "arguments": "{}",
    }
    assert len([p for p in pieces if p["tool_calls"][0]["index"] == 0]) in (2, 3)
    final = recs[-1]
    assert final["finish_reason"] == "tool_calls"
    assert "tool_calls" not in final
    assert final["generated_tokens"] > 0


def test_text_style_tool_calls(emu: Emulator) -> None:
    reply = Reply(tool_calls=[ToolCall("get_weather", {"city": "台北"})], tool_call_style="text")
    emu.queue(reply, reply)
    expected = '<function=get_weather>{"city": "台北"}</function>'
    data = post(emu, body("weather?", tools=[WEATHER_TOOL])).json()
    assert data["generated_text"] == expected
    assert data["finish_reason"] == "stop_sequence"
    assert "tool_calls" not in data
    _, chunks = stream_raw(emu, body("weather?", tools=[WEATHER_TOOL]))
    recs = records(b"".join(chunks))
    assert "".join(r["generated_text"] for r in recs) == expected
    assert all("tool_calls" not in r for r in recs)
    assert recs[-1]["finish_reason"] == "stop_sequence"


def test_scripted_reply_overrides(emu: Emulator) -> None:
    emu.queue(
        Reply(text="scripted", finish_reason="stop_sequence", prompt_tokens=7, completion_tokens=2)
    )
    data = post(emu, body()).json()
    assert data["generated_text"] == "scripted"
    assert data["finish_reason"] == "stop_sequence"
    assert (data["prompt_tokens"], data["generated_tokens"], data["total_tokens"]) == (7, 2, 9)


def test_queue_is_fifo_and_route_scoped(emu: Emulator) -> None:
    emu.queue(Reply(text="one"), Reply(text="two"), route="ffm.conversation")
    emu.queue(Reply(text="three"))
    assert emu.pending == 3
    texts = [post(emu, body()).json()["generated_text"] for _ in range(4)]
    assert texts[:3] == ["one", "two", "three"]
    assert texts[3].startswith("Hello! This is the FFM emulator.")
    emu.queue(Fault.status(503), route="ffm.generate")
    assert post(emu, body()).status_code == 200
    assert emu.pending == 1


def test_stream_only_fault_waits_for_a_stream(emu: Emulator) -> None:
    emu.queue(Fault.truncated(after=1), Reply(text="plain"))
    assert post(emu, body()).json()["generated_text"] == "plain"
    _, chunks = stream_raw(emu, body())
    assert all(r["finish_reason"] is None for r in records(b"".join(chunks)))
    assert emu.pending == 0


# ---------------------------------------------------------------------- default model


def test_default_model_calls_tool_with_prompt_number(emu: Emulator) -> None:
    payload = body("What is the value of magic_function(3)? Use the tool.", tools=[MAGIC_TOOL])
    data = post(emu, payload).json()
    assert data["finish_reason"] == "tool_calls"
    (call,) = data["tool_calls"]
    assert call["function"]["name"] == "magic_function"
    assert json.loads(call["function"]["arguments"]) == {"input": 3}
    assert call["id"].startswith("call_")
    _, chunks = stream_raw(emu, payload)
    streamed = assembled_tool_calls(records(b"".join(chunks)))
    assert json.loads(streamed[0]["arguments"]) == {"input": 3}
    assert streamed[0]["id"] == call["id"]  # deterministic ids


def test_default_model_unicode_args(emu: Emulator) -> None:
    payload = body("Create a customer named '你好啊集团'", tools=[MAGIC_TOOL, CUSTOMER_TOOL])
    response = post(emu, payload)
    assert "你好啊集团".encode() in response.content  # not \u-escaped in the arguments
    (call,) = response.json()["tool_calls"]
    assert call["function"]["name"] == "create_customer"
    assert json.loads(call["function"]["arguments"]) == {"customer_name": "你好啊集团"}


def test_default_model_picks_best_matching_tool(emu: Emulator) -> None:
    payload = body("What is the weather in San Francisco, CA?", tools=[MAGIC_TOOL, WEATHER_TOOL])
    (call,) = post(emu, payload).json()["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "San Francisco, CA"}


def test_default_model_forced_tool_choice(emu: Emulator) -> None:
    named = {"type": "function", "function": {"name": "magic_function"}}
    data = post(emu, body("Hello!", tools=[WEATHER_TOOL, MAGIC_TOOL], tool_choice=named)).json()
    (call,) = data["tool_calls"]
    assert call["function"]["name"] == "magic_function"
    assert json.loads(call["function"]["arguments"]) == {"input": 1}
    data = post(emu, body("Hello!", tools=[MAGIC_TOOL], tool_choice="required")).json()
    assert data["tool_calls"][0]["function"]["name"] == "magic_function"


def test_default_model_answers_text_without_reason_to_call(emu: Emulator) -> None:
    data = post(emu, body("Hello!", tools=[MAGIC_TOOL])).json()
    assert data["finish_reason"] == "stop_sequence"
    assert "tool_calls" not in data
    data = post(emu, body("Use the tool", tools=[MAGIC_TOOL], tool_choice="none")).json()
    assert "tool_calls" not in data


def test_default_model_uses_tool_result(emu: Emulator) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "magic_function", "arguments": '{"input": 3}'},
    }
    payload = {
        "model": "llama3.1-ffm-70b-32k-chat",
        "messages": [
            {"role": "user", "content": "What is magic_function(3)? Use the tool."},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_1", "name": "magic_function", "content": "5"},
        ],
        "tools": [MAGIC_TOOL],
    }
    data = post(emu, payload).json()
    assert data["generated_text"] == "The tool returned: 5."
    assert data["finish_reason"] == "stop_sequence"


def test_default_model_json_schema_instance(emu: Emulator) -> None:
    schema = {
        "title": "Joke",
        "type": "object",
        "properties": {
            "setup": {"type": "string"},
            "punchline": {"type": "string"},
            "rating": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}},
        },
        "required": ["setup", "punchline", "tags"],
        "$defs": {
            "Tag": {
                "type": "object",
                "properties": {"label": {"type": "string"}, "weight": {"type": "number"}},
                "required": ["label", "weight"],
            }
        },
    }
    payload = {
        "model": "llama3.1-ffm-70b-32k-chat",
        "messages": [
            {
                "role": "system",
                "content": f"Reply with JSON matching this schema: {json.dumps(schema)}",
            },
            {"role": "user", "content": "Tell me a joke about cats"},
        ],
    }
    document = json.loads(post(emu, payload).json()["generated_text"])
    assert set(document) == {"setup", "punchline", "tags"}
    assert isinstance(document["setup"], str)
    assert document["setup"]
    assert isinstance(document["punchline"], str)
    assert isinstance(document["tags"][0]["label"], str)
    assert isinstance(document["tags"][0]["weight"], int | float)


def test_default_model_json_keys_and_fallback(emu: Emulator) -> None:
    prompt = "Answer in JSON with the keys 'setup' and 'punchline'. Tell me a joke about dogs."
    document = json.loads(post(emu, body(prompt)).json()["generated_text"])
    assert set(document) == {"setup", "punchline"}
    assert all(isinstance(v, str) and v for v in document.values())
    document = json.loads(post(emu, body("Say hi in json")).json()["generated_text"])
    assert set(document) == {"answer"}


def test_stop_sequences_and_max_new_tokens(emu: Emulator) -> None:
    data = post(emu, body("Hi", parameters={"stop_sequences": ["emulator"]})).json()
    assert data["generated_text"] == "Hello! This is the FFM emulator"
    assert data["finish_reason"] == "stop_sequence"
    data = post(emu, body("Hi", parameters={"max_new_tokens": 3})).json()
    assert data["generated_text"] == "Hello! This"
    assert data["finish_reason"] == "length"
    assert data["generated_tokens"] == 3
    emu.queue(Reply(text="one two three four"))
    _, chunks = stream_raw(emu, body(parameters={"max_new_tokens": 2}))
    recs = records(b"".join(chunks))
    assert "".join(r["generated_text"] for r in recs) == "one two"
    assert recs[-1]["finish_reason"] == "length"
    assert recs[-1]["generated_tokens"] == 2


# ----------------------------------------------------------------------------- faults


def test_status_fault_default_body_and_retry_headers(emu: Emulator) -> None:
    emu.queue(Fault.status(429, retry_after="1", retry_after_ms=250), Reply(text="ok"))
    response = post(emu, body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.headers["retry-after-ms"] == "250"
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["detail"], str)
    assert response.json()["detail"]
    assert post(emu, body()).json()["generated_text"] == "ok"


def test_status_fault_custom_bodies(emu: Emulator) -> None:
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    emu.queue(
        Fault.status(502, body=html),
        Fault.status(500, body={"detail": [{"msg": "boom"}]}, headers={"x-request-id": "r-1"}),
    )
    response = post(emu, body())
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == html
    response = post(emu, body())
    assert response.status_code == 500
    assert response.json() == {"detail": [{"msg": "boom"}]}
    assert response.headers["x-request-id"] == "r-1"


def test_slow_first_byte(emu: Emulator) -> None:
    emu.queue(Fault.slow_first_byte(0.3))
    with pytest.raises(httpx.ReadTimeout):
        post(emu, body(), timeout=httpx.Timeout(5, read=0.05))
    emu.queue(Fault.slow_first_byte(0.2, reply=Reply(text="late")))
    started = time.monotonic()
    data = post(emu, body()).json()
    assert time.monotonic() - started >= 0.2
    assert data["generated_text"] == "late"


def test_disconnect_mid_stream(emu: Emulator) -> None:
    emu.queue(Fault.disconnect(after=3))
    received: list[bytes] = []
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", chat_url(emu), json=body(stream=True), headers=auth(emu)) as r,
    ):
        assert r.status_code == 200
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            received.extend(r.iter_raw())
    recs = records(b"".join(received))
    assert len(recs) == 3
    assert all(rec["finish_reason"] is None for rec in recs)


def test_disconnect_non_stream(emu: Emulator) -> None:
    emu.queue(Fault.disconnect(after=0))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post(emu, body())
    assert post(emu, body()).status_code == 200


def test_malformed_record(emu: Emulator) -> None:
    emu.queue(Fault.malformed(after=2))
    _, chunks = stream_raw(emu, body())
    raw = b"".join(chunks)
    assert b"data: {not json\r\n\r\n" in raw
    events = sse_events(raw)
    data_events = [d for e, d in events if e == "message"]
    assert data_events[2] == "{not json"
    recs = records(raw)
    assert recs[-1]["finish_reason"] == "stop_sequence"  # the stream continues normally


@pytest.mark.parametrize("as_event", [False, True])
def test_error_record(emu: Emulator, *, as_event: bool) -> None:
    emu.queue(
        Fault.error_record(
            after=2, message="CUDA out of memory", status_code=503, as_event=as_event
        )
    )
    response, chunks = stream_raw(emu, body())  # ends cleanly: no exception
    raw = b"".join(chunks)
    assert response.status_code == 200
    events = sse_events(raw)
    event, data = events[-1]
    assert event == ("error" if as_event else "message")
    assert json.loads(data) == {"error": "CUDA out of memory", "status_code": 503}
    assert len([e for e in events if e[0] == "message"]) == 2 + (0 if as_event else 1)
    assert all(r.get("finish_reason") is None for r in records(raw))


def test_truncated_stream(emu: Emulator) -> None:
    emu.queue(Fault.truncated(after=4))
    _, chunks = stream_raw(emu, body())  # clean chunked end
    recs = records(b"".join(chunks))
    assert len(recs) == 4
    assert all(r["finish_reason"] is None for r in recs)


def test_truncated_never_sends_the_final_record(emu: Emulator) -> None:
    emu.queue(Fault.truncated(after=10_000))
    _, chunks = stream_raw(emu, body())
    recs = records(b"".join(chunks))
    assert recs
    assert all(r["finish_reason"] is None for r in recs)


def test_stall(emu: Emulator) -> None:
    emu.queue(Fault.stall(after=2, seconds=0.25))
    started = time.monotonic()
    _, chunks = stream_raw(emu, body())
    assert time.monotonic() - started >= 0.25
    assert records(b"".join(chunks))[-1]["finish_reason"] == "stop_sequence"


def test_ping_storm(emu: Emulator) -> None:
    emu.queue(Fault.ping_storm(count=3))
    _, chunks = stream_raw(emu, body())
    raw = b"".join(chunks)
    recs = records(raw)
    pings = raw.count(b"event: ping\r\n") + raw.count(b": ping - ")
    assert pings == 3 * len(recs) + 2
    assert raw.count(b"event: ping\r\n") >= len(recs)
    assert raw.count(b": ping - ") >= len(recs)
    assert "".join(r["generated_text"] for r in recs).startswith("Hello!")


# --------------------------------------------------------------- auth and validation


def test_auth(emu: Emulator) -> None:
    response = post(emu, body(), key="wrong")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid API key"}
    response = httpx.post(chat_url(emu), json=body())
    assert response.status_code == 401


def test_custom_api_key() -> None:
    with Emulator(api_key="secret") as emu:
        assert post(emu, body(), key="secret").status_code == 200
        assert post(emu, body(), key="emulator-key").status_code == 401


def test_not_found_and_method(emu: Emulator) -> None:
    response = httpx.post(emu.ffm_base_url + "/models/nope", json={}, headers=auth(emu))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert httpx.post(emu.url + "/api/models/conversation").status_code == 404
    assert httpx.get(chat_url(emu), headers=auth(emu)).status_code == 405


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("temperature", 0),
        ("temperature", -0.5),
        ("top_p", 0),
        ("top_p", 1.01),
        ("top_k", 0),
        ("top_k", 101),
        ("frequence_penalty", 0),
        ("stop_sequences", ["a", "b", "c", "d", "e"]),
        ("seed", -1),
        ("max_new_tokens", 0),
    ],
)
def test_parameter_validation(emu: Emulator, name: str, value: Any) -> None:
    response = post(emu, body(parameters={name: value}))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert name in detail


def test_valid_boundaries_and_unknown_keys(emu: Emulator) -> None:
    parameters = {
        "temperature": 0.01,
        "top_p": 1,
        "top_k": 100,
        "frequence_penalty": 1.0,
        "stop_sequences": ["w", "x", "y", "z"],
        "seed": 0,
        "max_new_tokens": 1,
        "frequency_penalty": -5,  # OpenAI spelling: silently ignored, like FFM
        "stop": [],
        "temperature_typo": None,
    }
    assert post(emu, body(parameters=parameters)).status_code == 200
    assert post(emu, body(parameters={"temperature": None})).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"messages": [{"role": "user", "content": "hi"}]},
        {"model": "m"},
        {"model": "m", "messages": []},
        {"model": "m", "messages": [{"role": "robot", "content": "hi"}]},
        {"model": "m", "messages": [{"role": "tool", "content": "5"}]},
        {"model": "m", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
        ["not", "an", "object"],
    ],
)
def test_schema_validation(emu: Emulator, payload: Any) -> None:
    response = post(emu, payload)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_invalid_json_and_context_overflow(emu: Emulator) -> None:
    response = httpx.post(
        chat_url(emu),
        content=b"{nope",
        headers={**auth(emu), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    huge = "word " * 9000
    response = post(
        emu, {"model": "llama3-ffm-8b-chat", "messages": [{"role": "user", "content": huge}]}
    )
    assert response.status_code == 422
    assert "max_new_tokens" in response.json()["detail"]


def test_validation_does_not_consume_the_queue(emu: Emulator) -> None:
    emu.queue(Reply(text="kept"))
    assert post(emu, body(parameters={"temperature": 0})).status_code == 422
    assert post(emu, body(), key="bad").status_code == 401
    assert post(emu, body()).json()["generated_text"] == "kept"


# ---------------------------------------------------------------------- request log


def test_request_log(emu: Emulator) -> None:
    payload = body("嗨", parameters={"max_new_tokens": 5}, stream=False)
    post(emu, payload, key=emu.api_key)
    httpx.post(emu.url + "/nowhere", content=b"raw")
    (chat, missing) = emu.requests
    assert chat.method == "POST"
    assert chat.path == "/ffm/api/models/conversation"
    assert chat.route == "ffm.conversation"
    assert chat.headers["x-api-key"] == emu.api_key
    assert chat.headers["content-type"] == "application/json"
    assert chat.json == payload
    assert json.loads(chat.body) == payload
    assert missing.route is None
    assert missing.json is None
    assert missing.body == b"raw"
    emu.queue(Reply(text="x"))
    emu.reset()
    assert emu.requests == []
    assert emu.pending == 0


# ------------------------------------------------------------------ other FFM routes


def test_generate_and_embeddings_routes(emu: Emulator) -> None:
    headers = auth(emu)
    response = httpx.post(
        emu.ffm_base_url + "/models/generate",
        json={
            "model": "llama3.1-ffm-70b-32k-chat",
            "inputs": "台灣最高的山是",
            "parameters": {"max_new_tokens": 4},
        },
        headers=headers,
    )
    data = response.json()
    assert data["finish_reason"] == "length"
    assert data["generated_tokens"] == 4
    emu.queue(Reply(text="unused by embeddings"))
    response = httpx.post(
        emu.ffm_base_url + "/models/embeddings",
        json={"model": "ffm-embedding", "inputs": ["a", "b", "a"]},
        headers=headers,
    )
    data = response.json()
    by_index = sorted(data["data"], key=lambda d: d["index"])
    assert [d["index"] for d in by_index] == [0, 1, 2]
    assert by_index[0]["embedding"] == by_index[2]["embedding"]
    assert by_index[0]["embedding"] != by_index[1]["embedding"]
    assert data["usage"]["prompt_tokens"] == data["usage"]["total_tokens"] == 3
    assert emu.pending == 1
    assert [r.route for r in emu.requests] == ["ffm.generate", "ffm.embeddings"]


def test_embeddings_order_is_shuffled_and_limits_enforced(emu: Emulator) -> None:
    headers = auth(emu)
    texts = [f"t{i}" for i in range(20)]
    response = httpx.post(
        emu.ffm_base_url + "/models/embeddings",
        json={"model": "ffm-embedding", "inputs": texts},
        headers=headers,
    )
    indices = [d["index"] for d in response.json()["data"]]
    assert sorted(indices) == list(range(20))
    assert indices != list(range(20))
    too_long = httpx.post(
        emu.ffm_base_url + "/models/embeddings",
        json={"model": "ffm-embedding", "inputs": ["字" * 2049]},
        headers=headers,
    )
    assert too_long.status_code == 422
    assert "must have less than 2048 tokens" in too_long.json()["detail"]
    batch = httpx.post(
        emu.ffm_base_url + "/models/embeddings",
        json={"model": "ffm-embedding", "inputs": ["字" * 1500, "字" * 1500]},
        headers=headers,
    )
    assert batch.status_code == 422
    big = httpx.post(
        emu.ffm_base_url + "/models/embeddings",
        json={"model": "ffm-embedding-v2", "inputs": ["字" * 1500, "字" * 1500]},
        headers=headers,
    )
    assert big.status_code == 200


# ------------------------------------------------------- concurrency and connections


@pytest.mark.asyncio
async def test_200_concurrent_requests(emu: Emulator) -> None:
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(index: int) -> str:
            payload = body(f"request {index}", stream=index % 2 == 0)
            response = await client.post(chat_url(emu), json=payload, headers=auth(emu))
            assert response.status_code == 200
            if index % 2 == 0:
                return "".join(r["generated_text"] for r in records(response.content))
            return str(response.json()["generated_text"])

        texts = await asyncio.gather(*(one(i) for i in range(200)))
        assert emu.active_connections > 1
    assert all(text.endswith(f"request {i}") for i, text in enumerate(texts))
    assert len(emu.requests) == 200
    assert await asyncio.to_thread(emu.wait_for_connections, 0, 5.0)


def test_active_connections_return_to_zero(emu: Emulator) -> None:
    clients = [httpx.Client(timeout=10) for _ in range(3)]
    for client in clients:
        assert client.post(chat_url(emu), json=body(), headers=auth(emu)).status_code == 200
    assert emu.wait_for_connections(3)
    for client in clients:
        client.close()
    assert emu.wait_for_connections(0)
    assert emu.active_connections == 0


def test_stop_closes_open_connections() -> None:
    emu = Emulator().start()
    client = httpx.Client(timeout=10)
    try:
        assert client.post(chat_url(emu), json=body(), headers=auth(emu)).status_code == 200
        assert emu.wait_for_connections(1)
        emu.stop()
        assert emu.active_connections == 0
    finally:
        client.close()
        emu.stop()


def test_client_leaving_a_stream_early_frees_the_connection(emu: Emulator) -> None:
    emu.queue(Fault.stall(after=2, seconds=0.2))
    with httpx.Client(timeout=10) as client:
        with client.stream(
            "POST", chat_url(emu), json=body(stream=True), headers=auth(emu)
        ) as response:
            next(response.iter_raw())
        assert emu.wait_for_connections(0)

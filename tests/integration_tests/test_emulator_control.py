"""The emulator's control API (``/_emulator/``) and EmulatorClient, in one process.

The HTTP face must build the very objects the Python face builds (Reply, Fault and
their routes), refuse bad input with a 400 naming the field, and keep serving. Also
here: connection counts that see a client leave during a pause, and the agreement of
client and emulator on ``reasoning_budget``. The same API across real processes is
tested in test_emulator_processes.py.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from langchain_ffm_friendli.errors import InvalidParameterError
from langchain_ffm_friendli.testing import Emulator, EmulatorClient, Fault, Reply, ToolCall
from langchain_ffm_friendli.testing._control import item_from_json, item_to_json
from langchain_ffm_friendli.testing._faults import FAULT_KINDS

FFM = "llama3.3-ffm-70b-32k-chat"
FRIENDLI = "meta-llama-3.1-8b-instruct"
MONSTER = "google/gemma-2-9b-it"


def control(emu: Emulator, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{emu.url}/_emulator{path}", json=body, timeout=10)


def ffm(emu: Emulator, **kwargs: Any) -> ChatFFM:
    return ChatFFM(model=FFM, base_url=emu.ffm_base_url, api_key=emu.api_key, **kwargs)


# ------------------------------------------------------------- one thing, two faces

# Every fault kind, built by the Python constructors, with the JSON a curl user writes.
FAULTS: list[tuple[Fault, dict[str, Any]]] = [
    (Fault.status(429, retry_after="1"), {"status": 429, "retry_after": "1"}),
    (
        Fault.status(503, body={"detail": "busy"}, retry_after_ms=250),
        {"kind": "status", "status": 503, "body": {"detail": "busy"}, "retry_after_ms": 250},
    ),
    (
        Fault.status(502, body="<html>bad gateway</html>", headers={"x-a": "b"}),
        {"status": 502, "body": "<html>bad gateway</html>", "headers": {"x-a": "b"}},
    ),
    (Fault.slow_first_byte(0.5), {"kind": "slow_first_byte", "seconds": 0.5}),
    (Fault.disconnect(), {"kind": "disconnect"}),
    (
        Fault.disconnect(after=3, reply=Reply(text="partial")),
        {"kind": "disconnect", "after": 3, "reply": {"text": "partial"}},
    ),
    (Fault.malformed(after=2), {"kind": "malformed", "after": 2}),
    (
        Fault.error_record(after=1, message="GPU lost", status_code=503, as_event=True),
        {
            "kind": "error_record",
            "after": 1,
            "message": "GPU lost",
            "status_code": 503,
            "as_event": True,
        },
    ),
    (Fault.truncated(after=4), {"kind": "truncated", "after": 4}),
    (Fault.stall(after=2, seconds=1.5), {"kind": "stall", "after": 2, "seconds": 1.5}),
    (Fault.ping_storm(5), {"kind": "ping_storm", "count": 5}),
    (Fault.mixed_records(), {"kind": "mixed_records"}),
]

REPLIES: list[tuple[Reply, dict[str, Any]]] = [
    (Reply(text="hello"), {"text": "hello"}),
    (
        Reply(tool_calls=[ToolCall("get_weather", {"city": "Taipei"})]),
        {"tool_calls": [{"name": "get_weather", "args": {"city": "Taipei"}}]},
    ),
    (
        Reply(
            text="台北",
            tool_calls=[ToolCall("f", '{"broken', id="call_1")],
            finish_reason="eos_token",
            prompt_tokens=3,
            completion_tokens=4,
            tool_call_style="text",
            reasoning="think",
        ),
        {
            "text": "台北",
            "tool_calls": [{"name": "f", "args": '{"broken', "id": "call_1"}],
            "finish_reason": "eos_token",
            "prompt_tokens": 3,
            "completion_tokens": 4,
            "tool_call_style": "text",
            "reasoning": "think",
        },
    ),
]


def test_every_fault_kind_and_reply_field_has_an_example_here() -> None:
    assert {fault.kind for fault, _ in FAULTS} == set(FAULT_KINDS)
    used = {name for reply, _ in REPLIES for name, value in vars(reply).items() if value}
    assert used == set(inspect.signature(Reply).parameters)


@pytest.mark.parametrize(("item", "wire"), [*FAULTS, *REPLIES], ids=repr)
def test_http_builds_the_same_object_as_python(
    emu: Emulator, item: Reply | Fault, wire: dict[str, Any]
) -> None:
    key = "fault" if isinstance(item, Fault) else "reply"
    response = control(emu, "POST", "/queue", {"items": [{key: wire}]})
    assert response.status_code == 200, response.text
    assert response.json() == {"pending": 1}
    assert emu.queued == [(item, None)]
    # and the client's encoding reads back to an equal object
    assert item_from_json(item_to_json(item)) == item


json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
small = st.integers(0, 1000)
replies = st.builds(
    Reply,
    text=st.none() | st.text(max_size=20),
    tool_calls=st.none()
    | st.lists(
        st.builds(
            ToolCall,
            name=st.text(min_size=1, max_size=8),
            args=st.dictionaries(st.text(max_size=5), json_scalars, max_size=3)
            | st.text(max_size=10),
            id=st.none() | st.text(min_size=1, max_size=8),
        ),
        max_size=3,
    ),
    finish_reason=st.none() | st.sampled_from(["stop", "length", "eos_token"]),
    prompt_tokens=st.none() | small,
    completion_tokens=st.none() | small,
    tool_call_style=st.sampled_from(["native", "text", "no_id"]),
    reasoning=st.none() | st.text(max_size=10),
)
seconds = st.floats(0, 60, allow_nan=False)
inner = st.none() | replies
faults = st.one_of(
    st.builds(
        Fault.status,
        st.integers(100, 599),
        body=st.none() | st.text(max_size=10) | st.dictionaries(st.text(max_size=5), json_scalars),
        headers=st.none()
        | st.dictionaries(st.text("abcxyz-", min_size=1, max_size=6), st.text(max_size=6)),
        retry_after=st.none() | st.text(max_size=4),
        retry_after_ms=st.none() | small,
    ),
    st.builds(Fault.slow_first_byte, seconds, reply=inner),
    st.builds(Fault.disconnect, small, reply=inner),
    st.builds(Fault.malformed, small, reply=inner),
    st.builds(
        Fault.error_record,
        small,
        st.text(max_size=10),
        st.integers(100, 599),
        as_event=st.booleans(),
        reply=inner,
    ),
    st.builds(Fault.truncated, small, reply=inner),
    st.builds(Fault.stall, small, seconds, reply=inner),
    st.builds(Fault.ping_storm, small, reply=inner),
    st.builds(Fault.mixed_records, reply=inner),
)


@given(st.one_of(replies, faults))
def test_any_item_survives_the_trip_through_json(item: Reply | Fault) -> None:
    wire = json.loads(json.dumps(item_to_json(item)))
    assert item_from_json(wire) == item


def test_the_python_constructors_refuse_what_http_refuses() -> None:
    with pytest.raises(ValueError, match="seconds: must be a finite number >= 0"):
        Fault.stall(after=1, seconds=-1)
    with pytest.raises(ValueError, match="status_code: must be 100-599"):
        Fault.status(42)
    with pytest.raises(ValueError, match="count: must be >= 0"):
        Fault.ping_storm(-3)
    with pytest.raises(ValueError, match="after: must be >= 0"):
        Fault.disconnect(after=-1)


def test_queued_items_answer_like_python_ones(emu: Emulator) -> None:
    response = control(
        emu,
        "POST",
        "/queue",
        {
            "items": [
                {"fault": {"status": 429, "retry_after": "0"}},
                {"reply": {"text": "hello"}},
                {"reply": {"tool_calls": [{"name": "get_weather", "args": {"city": "Taipei"}}]}},
            ]
        },
    )
    assert response.json() == {"pending": 3}
    llm = ffm(emu)
    assert llm.invoke("hi").content == "hello"  # the 429 was retried

    def get_weather(city: str) -> str:
        """Get the weather."""
        return city

    calls = llm.bind_tools([get_weather]).invoke("weather?").tool_calls
    assert [(c["name"], c["args"]) for c in calls] == [("get_weather", {"city": "Taipei"})]
    assert control(emu, "GET", "/pending").json() == {"pending": 0}
    assert [r.route for r in emu.requests] == ["ffm.conversation"] * 3


def test_route_scoped_queue_mirrors_python(emu: Emulator) -> None:
    body = {
        "route": "friendli.chat",
        "items": [
            {"reply": {"text": "for friendli"}},
            {"reply": {"text": "ffm"}, "route": "ffm.conversation"},
        ],
    }
    assert control(emu, "POST", "/queue", body).status_code == 200
    assert emu.queued == [
        (Reply(text="for friendli"), "friendli.chat"),
        (Reply(text="ffm"), "ffm.conversation"),
    ]
    assert control(emu, "GET", "/queue").json()["items"] == [
        {"reply": {"text": "for friendli"}, "route": "friendli.chat"},
        {"reply": {"text": "ffm"}, "route": "ffm.conversation"},
    ]
    assert ffm(emu).invoke("hi").content == "ffm"  # the FFM route skips the Friendli item
    friendli = ChatFriendli(model=FRIENDLI, base_url=emu.friendli_base_url, api_key=emu.api_key)
    assert friendli.invoke("hi").content == "for friendli"


def test_python_queue_refuses_an_unknown_route_too(emu: Emulator) -> None:
    with pytest.raises(ValueError, match=r"route: unknown route 'ffm\.chat'"):
        emu.queue(Reply(text="x"), route="ffm.chat")
    assert emu.pending == 0
    assert "ffm.conversation" in emu.route_names


def test_requests_are_recorded_with_secrets_masked(emu: Emulator) -> None:
    ffm(emu, default_headers={"x-trace": f"key={emu.api_key}"}).invoke("hi")
    ChatFriendli(
        model=FRIENDLI, base_url=emu.friendli_dedicated_base_url, api_key=emu.api_key
    ).invoke("hola")
    httpx.post(emu.url + "/nowhere", content=b"\xff not json", timeout=10)
    control(emu, "GET", "/pending")  # control requests are not part of the log
    entries = control(emu, "GET", "/requests").json()["requests"]
    assert [(e["route"], e["path"]) for e in entries] == [
        ("ffm.conversation", "/ffm/api/models/conversation"),
        ("friendli.chat", "/friendli/dedicated/v1/chat/completions"),
        (None, "/nowhere"),
    ]
    first, second, third = entries
    assert first["method"] == "POST"
    assert first["headers"]["x-api-key"] == "***"
    assert first["headers"]["x-trace"] == "key=***"
    assert second["headers"]["authorization"] == "Bearer ***"
    assert emu.api_key not in str(entries)
    assert first["json"]["messages"] == [{"role": "user", "content": "hi"}]
    assert second["json"]["messages"][-1]["content"] == "hola"
    assert third["json"] is None
    assert third["body"] == "\ufffd not json"
    # the client gives RecordedRequest objects, like Emulator.requests
    recorded = EmulatorClient(emu.url).requests
    assert [r.route for r in recorded] == ["ffm.conversation", "friendli.chat", None]
    assert recorded[1].json == emu.requests[1].json
    assert recorded[1].headers["authorization"] == "Bearer ***"


def test_reset_clears_queue_and_log(emu: Emulator) -> None:
    emu.queue(Reply(text="a"), Fault.disconnect())
    ffm(emu).invoke("hi")
    assert control(emu, "GET", "/pending").json() == {"pending": 1}
    assert control(emu, "POST", "/reset").status_code == 200
    assert emu.pending == 0
    assert emu.requests == []
    assert control(emu, "GET", "/requests").json() == {"requests": []}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ([], "body", "must be an object"),
        ({}, "items", "required"),
        ({"items": {"reply": {}}}, "items", "must be a list"),
        ({"itmes": []}, "body.itmes", "unknown field"),
        ({"items": [{}]}, "items[0]", "exactly one of"),
        ({"items": [{"reply": {}, "fault": {}}]}, "items[0]", "exactly one of"),
        ({"items": [{"reply": "hello"}]}, "items[0].reply", "must be an object"),
        ({"items": [{"reply": {"txt": "hi"}}]}, "items[0].reply.txt", "unknown field"),
        ({"items": [{"reply": {"text": 5}}]}, "items[0].reply.text", "a string or null"),
        (
            {"items": [{"reply": {"tool_calls": [{"args": {}}]}}]},
            "items[0].reply.tool_calls[0].name",
            "required",
        ),
        (
            {"items": [{"reply": {"tool_calls": [{"name": "f", "args": 3}]}}]},
            "items[0].reply.tool_calls[0].args",
            "an object or a string",
        ),
        (
            {"items": [{"reply": {"tool_call_style": "xml"}}]},
            "items[0].reply.tool_call_style",
            '"native", "text", "no_id"',
        ),
        ({"items": [{"reply": {"prompt_tokens": 1.5}}]}, "items[0].reply.prompt_tokens", "integer"),
        ({"items": [{"fault": {}}]}, "items[0].fault.kind", "missing"),
        ({"items": [{"fault": {"kind": "explode"}}]}, "items[0].fault.kind", "stall"),
        (
            {"items": [{"fault": {"kind": "stall", "after": 1}}]},
            "items[0].fault.seconds",
            "required",
        ),
        (
            {"items": [{"fault": {"kind": "stall", "after": 1, "seconds": -1}}]},
            "items[0].fault.seconds",
            ">= 0",
        ),
        ({"items": [{"fault": {"status": 42}}]}, "items[0].fault.status", "100-599"),
        ({"items": [{"fault": {"status": "429"}}]}, "items[0].fault.status", "an integer"),
        (
            {"items": [{"fault": {"status": 429, "retry_after": 1}}]},
            "items[0].fault.retry_after",
            "a string or null",
        ),
        (
            {"items": [{"fault": {"kind": "disconnect", "seconds": 1}}]},
            "items[0].fault.seconds",
            "unknown field",
        ),
        (
            {"items": [{"fault": {"kind": "ping_storm", "count": -2}}]},
            "items[0].fault.count",
            ">= 0",
        ),
        (
            {"items": [{"fault": {"kind": "truncated", "after": 1, "reply": {"text": []}}}]},
            "items[0].fault.reply.text",
            "a string",
        ),
        ({"route": "ffm.chat", "items": []}, "route", "ffm.conversation"),
        ({"items": [{"reply": {}, "route": 7}]}, "items[0].route", "unknown route"),
    ],
)
def test_bad_control_input_is_a_400_naming_the_field(
    emu: Emulator, body: Any, field: str, words: str
) -> None:
    emu.queue(Reply(text="kept"))
    response = control(emu, "POST", "/queue", body)
    assert response.status_code == 400
    error = response.json()
    assert error["field"] == field
    assert error["error"].startswith(f"{field}: ")
    assert words in error["error"]
    assert emu.queued == [(Reply(text="kept"), None)]  # nothing queued, nothing lost
    assert ffm(emu).invoke("hi").content == "kept"  # and the server keeps serving


def test_bad_json_unknown_endpoints_and_methods(emu: Emulator) -> None:
    response = httpx.post(f"{emu.url}/_emulator/queue", content=b"{not json", timeout=10)
    assert (response.status_code, response.json()["field"]) == (400, "body")
    response = control(emu, "GET", "/queues")
    assert response.status_code == 404
    assert "/_emulator/queue" in response.json()["error"]
    response = control(emu, "DELETE", "/reset")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert control(emu, "GET", "/pending").json() == {"pending": 0}
    assert emu.requests == []


def test_a_partly_bad_batch_queues_nothing(emu: Emulator) -> None:
    body = {"items": [{"reply": {"text": "fine"}}, {"fault": {"kind": "stall"}}]}
    response = control(emu, "POST", "/queue", body)
    assert response.json()["field"] == "items[1].fault.after"
    assert emu.pending == 0


# ------------------------------------------------------------------ EmulatorClient


def test_client_has_the_emulators_methods(emu: Emulator) -> None:
    client = EmulatorClient(emu.url + "/")
    assert client.url == emu.url
    assert client.base_urls == emu.base_urls
    assert client.friendli_dedicated_base_url == emu.friendli_dedicated_base_url
    assert client.api_key == emu.api_key
    assert client.known_models == emu.known_models
    assert client.route_names == emu.route_names
    assert client.running
    info = control(emu, "GET", "/info").json()
    assert info["base_urls"] == emu.base_urls
    assert info["url"] == emu.url
    items = [item for item, _ in FAULTS] + [reply for reply, _ in REPLIES]
    client.queue(*items, route="ffm.generate")
    assert emu.queued == [(item, "ffm.generate") for item in items]
    assert client.queued == emu.queued
    assert client.pending == len(items)
    with pytest.raises(AssertionError, match=f"{len(items)} queued item"):
        client.assert_all_consumed()
    client.reset()
    client.assert_all_consumed()
    with pytest.raises(TypeError, match="expected Reply or Fault"):
        client.queue("hello")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="route: unknown route"):
        client.queue(Reply(text="x"), route="nope")


def test_client_needs_a_url_and_says_when_nothing_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LCFF_EMULATOR_URL", raising=False)
    with pytest.raises(ValueError, match="LCFF_EMULATOR_URL"):
        EmulatorClient()
    with pytest.raises(ValueError, match="url: must start with http"):
        EmulatorClient("127.0.0.1:8787")
    with Emulator() as emu:
        monkeypatch.setenv("LCFF_EMULATOR_URL", emu.url)
        assert EmulatorClient().pending == 0
        url = emu.url
    client = EmulatorClient("http://user:s3cret@" + url.removeprefix("http://"))
    assert not client.running
    with pytest.raises(ConnectionError, match="no emulator answers") as info:
        client.reset()
    assert "s3cret" not in str(info.value)
    assert "s3cret" not in repr(client)


# -------------------------------------------------- connection counts during pauses


def test_closing_a_stream_during_a_stall_is_seen_at_once(emu: Emulator) -> None:
    emu.queue(Fault.stall(after=3, seconds=5))
    stream = ffm(emu).stream("hello there")
    assert next(stream).content == "Hello"
    assert emu.active_connections == 1
    stream.close()
    assert emu.wait_for_connections(0, timeout=1.0)  # liveness: not the 5 s stall


@pytest.mark.parametrize("provider", ["ffm", "friendli", "monsterapi"])
async def test_cancelling_an_async_stream_during_a_stall_is_seen_at_once(
    emu: Emulator, provider: str
) -> None:
    llm = {
        "ffm": ffm(emu),
        "friendli": ChatFriendli(
            model=FRIENDLI, base_url=emu.friendli_base_url, api_key=emu.api_key
        ),
        "monsterapi": ChatMonsterAPI(
            model=MONSTER, base_url=emu.monsterapi_base_url, api_key=emu.api_key
        ),
    }[provider]
    emu.queue(Fault.stall(after=3, seconds=5))
    first = asyncio.Event()

    async def consume() -> None:
        async for chunk in llm.astream("hello there"):
            if chunk.content:
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=10)
    assert emu.active_connections == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(emu.wait_for_connections, 0, 1.0)


def test_a_client_timeout_during_a_slow_first_byte_is_seen_at_once(emu: Emulator) -> None:
    emu.queue(Fault.slow_first_byte(5))
    with pytest.raises(httpx.ReadTimeout), httpx.Client(timeout=0.2) as client:
        client.post(
            emu.ffm_base_url + "/models/conversation",
            json={"model": FFM, "messages": [{"role": "user", "content": "hi"}]},
            headers={"X-API-KEY": emu.api_key},
        )
    assert emu.wait_for_connections(0, timeout=1.0)


def test_a_client_leaving_during_the_service_latency_is_seen_at_once() -> None:
    with Emulator(latency=5) as emu:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(
                emu.ffm_base_url + "/models/conversation",
                json={"model": FFM, "messages": [{"role": "user", "content": "hi"}]},
                headers={"X-API-KEY": emu.api_key},
                timeout=0.2,
            )
        assert emu.wait_for_connections(0, timeout=1.0)


def test_a_stall_still_pauses_a_client_that_stays(emu: Emulator) -> None:
    emu.queue(Fault.stall(after=3, seconds=0.3), Reply(text="one two three four five"))
    events: list[str] = []
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST",
            emu.ffm_base_url + "/models/conversation",
            json={"model": FFM, "messages": [{"role": "user", "content": "x"}], "stream": True},
            headers={"X-API-KEY": emu.api_key},
        ) as response,
    ):
        events.extend(line for line in response.iter_lines() if line.startswith("data:"))
    assert len(events) > 4  # every record arrived after the pause
    assert '"finish_reason": "stop_sequence"' in events[-1]


# ------------------------------------------------------------- reasoning_budget


def test_client_and_emulator_agree_reasoning_budget_must_be_positive(emu: Emulator) -> None:
    # The friendli SDK (0.16.5, generated from Friendli's OpenAPI document) describes
    # reasoning_budget as "a positive integer" on every product: 0 is refused on both sides.
    from friendli.core.models import (
        containerchatcompletionbody,
        dedicatedchatcompletionbody,
        serverlesschatcompletionbody,
    )

    for module in (
        serverlesschatcompletionbody,
        dedicatedchatcompletionbody,
        containerchatcompletionbody,
    ):
        documented = re.search(
            r'reasoning_budget: OptionalNullable\[int\] = UNSET\s+"Specifies a positive integer',
            inspect.getsource(module),
        )
        assert documented, module.__name__
    llm = ChatFriendli(model=FRIENDLI, base_url=emu.friendli_base_url, api_key=emu.api_key)
    with pytest.raises(InvalidParameterError, match="reasoning_budget"):
        llm.invoke("hi", reasoning_budget=0)
    assert emu.requests == []
    url = emu.friendli_base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    message = [{"role": "user", "content": "hi"}]
    for budget, status in ((0, 422), (-1, 422), (1, 200)):
        response = httpx.post(
            url,
            json={"model": FRIENDLI, "messages": message, "reasoning_budget": budget},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == status, budget
        if status == 422:
            assert "'reasoning_budget' must be greater than or equal to 1" in response.text
    assert llm.invoke("hi", reasoning_budget=1).content

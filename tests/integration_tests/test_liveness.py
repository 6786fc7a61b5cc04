"""Every call ends (issue 23), over real sockets, against servers that misbehave.

A stream stops at its protocol's terminal record whatever the server does next
(holds the body open, keeps pinging, resets); ``stream_chunk_timeout`` bounds the
wait for content (pings do not count, nor does the caller's own time);
``total_timeout`` bounds a whole call, retries included; the LLM classes' sync
``batch`` runs its prompts concurrently. The deadlines here are short (about a
second) so each case runs in seconds; the read timeout is long (60 s), so a test
that passes proves that the bound, not the read timeout, ended the call.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FFMEmbeddings,
    FriendliLLM,
    MonsterAPILLM,
    errors,
)
from langchain_ffm_friendli.testing import Emulator

from ._hostile import Conn, ScriptServer

FFM = "llama3.3-ffm-70b-32k-chat"
FRIENDLI = "meta-llama-3.1-8b-instruct"
MONSTER = "meta-llama/Meta-Llama-3.1-8B-Instruct"
READ_TIMEOUT = 60.0
# What "at once" means here: far below the read timeout, far above scheduling noise.
PROMPTLY = 10.0
PING = b": ping - 2024-05-20 06:00:15.123456+00:00\r\n\r\n"

# --------------------------------------------------------------------------- what servers send


def _capture(route: str) -> bytes:
    """The emulator's whole stream body for ``route`` (a real answer, byte for byte)."""
    with Emulator() as emu:
        if route == "ffm":
            url, headers = emu.ffm_base_url + "/models/conversation", {"X-API-KEY": emu.api_key}
            body: dict[str, Any] = {"model": FFM, "messages": [{"role": "user", "content": "hi"}]}
        else:
            url = emu.friendli_base_url + (
                "/completions" if route == "friendli-llm" else "/chat/completions"
            )
            headers = {"Authorization": f"Bearer {emu.api_key}"}
            body = {"model": FRIENDLI, "stream": True}
            if route == "friendli-llm":
                body["prompt"] = "hi"
            else:
                body["messages"] = [{"role": "user", "content": "hi"}]
        body["stream"] = True
        return httpx.post(url, headers=headers, json=body).content


STREAMS = {route: _capture(route) for route in ("ffm", "friendli-chat", "friendli-llm")}


def _model(route: str, url: str, **kw: Any) -> Any:
    kw.setdefault("timeout", READ_TIMEOUT)
    if route == "ffm":
        return ChatFFM(model=FFM, api_key="sk-liveness-test-key", base_url=url + "/api", **kw)
    cls = FriendliLLM if route == "friendli-llm" else ChatFriendli
    return cls(model=FRIENDLI, api_key="sk-liveness-test-key", base_url=url + "/v1", **kw)


def _text(chunk: Any) -> str:
    return chunk if isinstance(chunk, str) else str(chunk.content)


async def _consume(model: Any, mode: str, **kw: Any) -> str:
    if mode == "sync":
        return "".join(_text(c) for c in model.stream("hi", **kw))
    return "".join([_text(c) async for c in model.astream("hi", **kw)])


class Closes:
    """When the server saw the client close each connection."""

    def __init__(self) -> None:
        self.at: list[float] = []
        self.event = threading.Event()

    def hold(self, conn: Conn, seconds: float = 30.0) -> None:
        """Keep the connection open, silent, until the client closes it."""
        if conn.wait_for_client_close(seconds):
            self.closed()

    def keep_sending(self, conn: Conn, data: bytes, every: float, times: int = 600) -> None:
        """Send ``data`` every ``every`` seconds until the client closes the connection."""
        for _ in range(times):
            try:
                conn.send(data)
            except OSError:
                self.closed()
                return
            time.sleep(every)

    def closed(self) -> None:
        self.at.append(time.monotonic())
        self.event.set()


# --------------------------------------------------------------------------- terminal records


def _after_terminal(route: str, then: str, closes: Closes) -> Callable[[Conn], None]:
    def script(conn: Conn) -> None:
        conn.start()
        conn.send(STREAMS[route])
        if then == "hold":
            closes.hold(conn)
        elif then == "ping":
            closes.keep_sending(conn, PING, every=0.05)
        elif then == "reset":
            time.sleep(0.05)
            conn.reset()

    return script


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("then", ["hold", "ping", "reset"])
@pytest.mark.parametrize("route", ["ffm", "friendli-chat", "friendli-llm"])
async def test_a_stream_returns_at_its_terminal_record_whatever_the_server_does_next(
    route: str, then: str, mode: str
) -> None:
    closes = Closes()
    with ScriptServer(_after_terminal(route, then, closes)) as server:
        model = _model(route, server.url, stream_chunk_timeout=None)
        started = time.monotonic()
        text = await _consume(model, mode)
        elapsed = time.monotonic() - started
        if then != "reset":
            assert await asyncio.to_thread(closes.event.wait, PROMPTLY)  # closed, not left open
    assert text  # the whole answer, no error (a reset after the end is not one)
    assert elapsed < PROMPTLY


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_invoke_of_a_held_open_stream_returns_the_whole_answer(mode: str) -> None:
    closes = Closes()
    with ScriptServer(_after_terminal("friendli-chat", "hold", closes)) as server:
        model = _model("friendli-chat", server.url, streaming=True)
        started = time.monotonic()
        message = model.invoke("hi") if mode == "sync" else await model.ainvoke("hi")
        assert time.monotonic() - started < PROMPTLY
    assert message.content
    assert message.response_metadata["finish_reason"]


def test_records_before_the_terminal_one_are_the_answer_and_a_stream_without_it_is_incomplete() -> (
    None
):
    body = STREAMS["friendli-chat"]
    cut = body[: body.rindex(b"data: [DONE]")]
    cut = cut[: cut.rindex(b'"finish_reason":"')]  # no finish record either
    cut = cut[: cut.rindex(b"\n\ndata: ") + 2]

    def script(conn: Conn) -> None:
        conn.start()
        conn.send(cut)
        conn.end()

    with ScriptServer(script) as server:
        model = _model("friendli-chat", server.url)
        with pytest.raises(errors.IncompleteStreamError) as info:
            list(model.stream("hi"))
    assert info.value.partial_text


# --------------------------------------------------------------------------- stream_chunk_timeout


def _stalls(route: str, keepalive: bytes | None, closes: Closes) -> Callable[[Conn], None]:
    """Some content, then no more content: keep-alives every 0.1 s, or silence."""
    body = STREAMS[route]
    ends = [m.end() for m in re.finditer(rb"\r?\n\r?\n", body)]
    head = body[: ends[1]]  # the first two events

    def script(conn: Conn) -> None:
        conn.start()
        conn.send(head)
        if keepalive is None:
            closes.hold(conn)
        else:
            closes.keep_sending(conn, keepalive, every=0.1)

    return script


EMPTY_DELTA = (
    b'data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":'
    b'[{"index":0,"delta":{"content":""},"finish_reason":null}]}\n\n'
)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("route", "keepalive"),
    [
        ("ffm", b"event: ping\r\ndata: 2024-05-20 06:00:15.123456\r\n\r\n"),
        ("ffm", PING),
        ("friendli-chat", PING),
        ("friendli-chat", EMPTY_DELTA),
        ("friendli-llm", b": keep-alive\n\n"),
        ("friendli-chat", None),
    ],
    ids=[
        "ffm-ping-event",
        "ffm-comment",
        "chat-comment",
        "chat-empty-delta",
        "llm-comment",
        "silence",
    ],
)
async def test_a_stalled_generation_ends_at_stream_chunk_timeout(
    route: str, keepalive: bytes | None, mode: str
) -> None:
    closes = Closes()
    with ScriptServer(_stalls(route, keepalive, closes)) as server:
        model = _model(route, server.url, stream_chunk_timeout=1.0)
        received: list[str] = []
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceededError) as info:
            if mode == "sync":
                for chunk in model.stream("hi"):
                    received.append(_text(chunk))
            else:
                async for chunk in model.astream("hi"):
                    received.append(_text(chunk))
        elapsed = time.monotonic() - started
        assert await asyncio.to_thread(closes.event.wait, PROMPTLY)  # the connection was closed
    error = info.value
    assert isinstance(error, TimeoutError)
    assert error.bound == "stream_chunk_timeout"
    assert "stream_chunk_timeout" in str(error)
    assert error.chunks >= 1
    assert error.partial_text == "".join(received)
    assert 1.0 <= elapsed < PROMPTLY


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_callers_own_time_between_chunks_does_not_count(mode: str) -> None:
    """A slow consumer (a tool, a UI) is not a stalled server."""

    def script(conn: Conn) -> None:
        conn.start()
        conn.send(STREAMS["friendli-chat"])
        conn.end()

    with ScriptServer(script) as server:
        model = _model("friendli-chat", server.url, stream_chunk_timeout=0.5)
        pieces = []
        if mode == "sync":
            for chunk in model.stream("hi"):
                pieces.append(chunk.content)
                time.sleep(0.2)  # noqa: ASYNC251 - the sync consumer under test is slow
        else:
            async for chunk in model.astream("hi"):
                pieces.append(chunk.content)
                await asyncio.sleep(0.2)
    assert len(pieces) > 3  # > 0.5 s spent by the caller, no timeout


@pytest.mark.parametrize("disabled", [None, 0])
def test_a_chunk_timeout_of_none_or_zero_waits_through_a_long_ping_storm(disabled: Any) -> None:
    body = STREAMS["ffm"]
    split = body.index(b"\r\n\r\n") + 4

    def script(conn: Conn) -> None:
        conn.start()
        conn.send(body[:split])
        for _ in range(15):
            conn.send(PING)
            time.sleep(0.1)
        conn.send(body[split:])
        conn.end()

    with ScriptServer(script) as server:
        model = _model("ffm", server.url, stream_chunk_timeout=1.0)
        assert "".join(c.content for c in model.stream("hi", stream_chunk_timeout=disabled))
        with pytest.raises(errors.DeadlineExceededError):
            list(model.stream("hi", stream_chunk_timeout=0.5))  # per call, the other way


# --------------------------------------------------------------------------- total_timeout


def _drip(closes: Closes) -> Callable[[Conn], None]:
    def script(conn: Conn) -> None:
        conn.start()
        for n in range(600):
            record = {"choices": [{"index": 0, "delta": {"content": f"{n} "}}]}
            try:
                conn.send(f"data: {json.dumps(record)}\n\n".encode())
            except OSError:
                closes.closed()
                return
            time.sleep(0.2)

    return script


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_total_timeout_ends_a_stream_that_drips_valid_tokens_forever(mode: str) -> None:
    closes = Closes()
    with ScriptServer(_drip(closes)) as server:
        model = _model("friendli-chat", server.url, total_timeout=1.5)
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceededError) as info:
            await _consume(model, mode)
        assert time.monotonic() - started < PROMPTLY
        assert await asyncio.to_thread(closes.event.wait, PROMPTLY)
    assert info.value.bound == "total_timeout"
    assert "total_timeout" in str(info.value)
    assert info.value.partial_text.startswith("0 1 ")


def _json_drip(conn: Conn) -> None:
    body = json.dumps({"generated_text": "slow " * 200, "finish_reason": "eos_token"}).encode()
    conn.sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
    )
    for byte in body:
        conn.sock.sendall(bytes([byte]))
        time.sleep(0.2)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_total_timeout_ends_a_json_body_sent_a_byte_at_a_time(mode: str) -> None:
    with ScriptServer(_json_drip) as server:
        model = _model("ffm", server.url, total_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceededError) as info:
            if mode == "sync":
                model.invoke("hi")
            else:
                await model.ainvoke("hi")
        assert time.monotonic() - started < PROMPTLY
    assert info.value.bound == "total_timeout"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_total_timeout_includes_retries_and_their_waits(mode: str) -> None:
    def busy(conn: Conn) -> None:
        conn.sock.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0.4\r\n"
            b"Content-Type: application/json\r\nContent-Length: 17\r\n\r\n"
            b'{"detail":"busy"}'
        )

    with ScriptServer(busy) as server:
        model = _model("friendli-chat", server.url, max_retries=50)
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceededError) as info:
            if mode == "sync":
                model.invoke("hi", total_timeout=1.2)
            else:
                await model.ainvoke("hi", total_timeout=1.2)
        assert time.monotonic() - started < PROMPTLY
        assert 2 <= len(server.heads) < 10
    assert "busy" in str(info.value)  # the last failure is named


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_total_timeout_bounds_a_server_that_never_sends_its_headers(mode: str) -> None:
    with ScriptServer(lambda conn: time.sleep(20)) as server:
        model = _model("friendli-llm", server.url, total_timeout=1.0)
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceededError):
            if mode == "sync":
                model.invoke("hi")
            else:
                await model.ainvoke("hi")
        assert time.monotonic() - started < PROMPTLY


@pytest.mark.parametrize("cls", [FFMLLM, FFMEmbeddings, ChatMonsterAPI, MonsterAPILLM])
def test_every_class_takes_total_timeout(cls: type) -> None:
    with ScriptServer(lambda conn: time.sleep(20)) as server:
        model = "ffm-embedding" if cls is FFMEmbeddings else (FFM if cls is FFMLLM else MONSTER)
        base = server.url + ("/api" if cls in (FFMLLM, FFMEmbeddings) else "/v1")
        obj = cls(
            model=model,
            api_key="sk-liveness-test-key",
            base_url=base,
            timeout=READ_TIMEOUT,
            total_timeout=1,
        )
        started = time.monotonic()
        with pytest.raises(errors.DeadlineExceededError):
            if cls is FFMEmbeddings:
                obj.embed_query("hi")
            else:
                obj.invoke("hi")
        assert time.monotonic() - started < PROMPTLY


def test_bad_bounds_are_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="stream_chunk_timeout"):
        ChatFriendli(model=FRIENDLI, api_key="sk-liveness-test-key", stream_chunk_timeout=-1)
    model = ChatFriendli(
        model=FRIENDLI, api_key="sk-liveness-test-key", base_url="http://127.0.0.1:9/v1"
    )
    with pytest.raises(errors.InvalidParameterError, match="total_timeout"):
        model.invoke("hi", total_timeout="soon")


# --------------------------------------------------------------------------- concurrent LLM batches


class Tracker:
    """Answers Friendli completions, the prompt echoed after a pause; counts calls in flight."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __call__(self, conn: Conn) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            prompt = json.loads(conn.body)["prompt"]
            time.sleep(0.4)
            if prompt == "bad":
                answer, status = {"error": {"message": "bad prompt"}}, "400 Bad Request"
            else:
                answer = {
                    "choices": [{"index": 0, "text": f"echo {prompt}", "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
                }
                status = "200 OK"
            data = json.dumps(answer).encode()
            conn.sock.sendall(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
        finally:
            with self.lock:
                self.now -= 1


def test_the_llm_sync_batch_runs_prompts_concurrently_bounded_and_in_order() -> None:
    tracker = Tracker()
    with ScriptServer(tracker) as server:
        llm = FriendliLLM(
            model=FRIENDLI, api_key="sk-liveness-test-key", base_url=server.url + "/v1"
        )
        prompts = [f"p{n}" for n in range(8)]
        answers = llm.batch(prompts, config={"max_concurrency": 4})
    assert answers == [f"echo {p}" for p in prompts]
    assert tracker.peak == 4


def test_one_failing_prompt_fails_the_sync_generate() -> None:
    with ScriptServer(Tracker()) as server:
        llm = FriendliLLM(
            model=FRIENDLI,
            api_key="sk-liveness-test-key",
            base_url=server.url + "/v1",
            max_retries=0,
        )
        with pytest.raises(errors.InvalidRequestError, match="bad prompt"):
            llm.generate(["ok", "bad", "fine"])
        result = llm.generate(["a", "b"])
    assert [g[0].text for g in result.generations] == ["echo a", "echo b"]
    assert result.llm_output["token_usage"]["total_tokens"] == 6

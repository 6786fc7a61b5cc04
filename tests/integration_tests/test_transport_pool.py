"""The pooled clients bound their requests in flight to the pool's size.

A burst far beyond ``max_connections`` must not queue inside httpcore (whose
queue costs requests x connections on every start and finish): the surplus
waits in the transport's FIFO bound, every stream still completes with its
exact text, a wait past the pool timeout is an ``APITimeoutError`` that says so,
and every way of ending a request gives its slot back.

The pool here is 3 connections (``_transport._LIMITS`` patched before the
pooled client is built), so a burst of 30 is 10x the pool. Nothing is timed:
streams are held open by not reading them, and the few waits have generous
guards that only fire on a hang.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpcore
import httpx
import pytest

from langchain_ffm_friendli import ChatFriendli, _transport
from langchain_ffm_friendli.errors import APITimeoutError
from langchain_ffm_friendli.testing import Emulator, Fault
from tests.integration_tests._shared import on_emulator

MODEL = "meta-llama-3.1-8b-instruct"
LIMIT = 3
BURST = 30
PROMPT = "pool test"
GUARD_S = 60.0  # only a hang reaches it


class ServerWatch:
    """Counts requests in flight at the emulator's handler, and the peak of open connections."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.in_flight = 0
        self.peak_in_flight = 0
        self.peak_connections = 0
        self.requests = 0
        self._lock = threading.Lock()
        server = emu._server
        inner: Callable[..., Awaitable[None]] = server._handler

        async def handler(request: Any, writer: Any) -> None:
            with self._lock:
                self.requests += 1
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                self.peak_connections = max(self.peak_connections, emu.active_connections)
            try:
                await inner(request, writer)
            finally:
                with self._lock:
                    self.in_flight -= 1

        server._handler = handler


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pooled clients built during the test have LIMIT connections; the sync one is fresh."""
    monkeypatch.setattr(
        _transport, "_LIMITS", httpx.Limits(max_connections=LIMIT, max_keepalive_connections=1)
    )
    monkeypatch.setattr(_transport, "_sync_client", None)
    monkeypatch.setattr(_transport, "_sync_slots", None)
    yield
    client = _transport._sync_client
    if client is not None:
        client.close()


@pytest.fixture
def httpcore_queue(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The most requests ever queued inside httpcore's pools (sync and async), as [peak]."""
    peak = [0]

    def watch(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def assign(pool: Any) -> Any:
            closing = original(pool)
            # Left waiting after the assignment: requests httpcore had no connection for.
            queued = sum(1 for r in pool._requests if r.is_queued())
            peak[0] = max(peak[0], queued)
            return closing

        return assign

    for cls in (httpcore.AsyncConnectionPool, httpcore.ConnectionPool):
        original = cls._assign_requests_to_connections
        monkeypatch.setattr(cls, "_assign_requests_to_connections", watch(original))
    return peak


def _model(emu: Emulator, **kw: Any) -> ChatFriendli:
    model = on_emulator(ChatFriendli, emu, emu.friendli_base_url, MODEL, **kw)

    async def no_sleep(_s: float) -> None:
        return None

    model.transport.asleep = no_sleep
    return model


def _expected(emu: Emulator) -> str:
    """The emulator's default reply to PROMPT, read with one plain call."""
    with httpx.Client() as client:
        response = client.post(
            f"{emu.friendli_base_url}/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]},
            headers={"Authorization": f"Bearer {emu.api_key}"},
        )
    text = response.json()["choices"][0]["message"]["content"]
    assert PROMPT in text
    return str(text)


async def _text(model: ChatFriendli) -> str:
    return "".join([str(chunk.content) async for chunk in model.astream(PROMPT)])


async def _spin(done: Callable[[], bool], what: str) -> None:
    """Yield to the loop until ``done()`` (bounded: a hang fails instead of blocking)."""
    for _ in range(100_000):
        if done():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never happened: {what}")


async def _until_waiting(slots: Any, count: int) -> None:
    await _spin(lambda: len(slots._waiters) >= count, f"{count} waiters")


async def _until_free(slots: Any) -> None:
    await _spin(lambda: slots._free == slots.limit, "every slot free")


async def _pool() -> Any:
    return await _transport._shared_async_pool()


@pytest.mark.usefixtures("small_pool")
async def test_a_burst_10x_the_pool_completes_exactly_without_queueing_in_httpcore(
    emu: Emulator, httpcore_queue: list[int]
) -> None:
    expected = _expected(emu)
    watch = ServerWatch(emu)
    model = _model(emu)
    texts = await asyncio.wait_for(asyncio.gather(*(_text(model) for _ in range(BURST))), GUARD_S)
    assert texts == [expected] * BURST
    assert watch.requests == BURST
    assert watch.peak_in_flight <= LIMIT
    assert watch.peak_connections <= LIMIT
    assert httpcore_queue[0] == 0  # without the bound, BURST - LIMIT would queue there
    slots = (await _pool()).slots
    assert (slots._free, len(slots._waiters)) == (LIMIT, 0)


@pytest.mark.usefixtures("small_pool")
async def test_waiting_past_the_pool_timeout_is_an_api_timeout_error(emu: Emulator) -> None:
    expected = _expected(emu)
    watch = ServerWatch(emu)
    holder = _model(emu)
    held = [holder.astream(PROMPT) for _ in range(LIMIT)]
    firsts = [await stream.__anext__() for stream in held]  # every connection busy
    impatient = _model(emu, timeout=httpx.Timeout(30.0, pool=0.05), max_retries=2)

    with pytest.raises(APITimeoutError) as caught:
        await impatient.ainvoke(PROMPT)

    message = str(caught.value)
    assert "waiting for a free connection" in message
    assert f"all {LIMIT} connections" in message
    assert emu.api_key not in message
    assert watch.requests == LIMIT  # the timed-out call never reached the server, nor retried
    for first, stream in zip(firsts, held, strict=True):
        rest = "".join([str(chunk.content) async for chunk in stream])
        assert str(first.content) + rest == expected


@pytest.mark.usefixtures("small_pool")
async def test_cancelled_waiters_and_streams_left_early_give_their_slots_back(
    emu: Emulator,
) -> None:
    expected = _expected(emu)
    model = _model(emu)
    held = [model.astream(PROMPT) for _ in range(LIMIT)]
    for stream in held:
        await stream.__anext__()
    slots = (await _pool()).slots
    waiters = [asyncio.create_task(_text(model)) for _ in range(5)]
    await _until_waiting(slots, len(waiters))
    for task in waiters:
        task.cancel()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    for stream in held:
        await stream.aclose()  # left after one chunk
    # langchain-core's astream does not close our inner generator itself: asyncio's
    # async-generator finalizer does, in a task of its own, once it is collected.
    await _until_free(slots)

    assert (slots._free, len(slots._waiters)) == (LIMIT, 0)
    texts = await asyncio.wait_for(asyncio.gather(*(_text(model) for _ in range(BURST))), GUARD_S)
    assert texts == [expected] * BURST


@pytest.mark.usefixtures("small_pool")
async def test_errors_and_retries_give_their_slots_back(emu: Emulator) -> None:
    expected = _expected(emu)
    # A leaked slot would make later calls wait out this pool timeout and fail.
    model = _model(emu, timeout=httpx.Timeout(30.0, pool=10.0), max_retries=BURST)
    # Each call is answered 503 at least once, then retried: each retry re-acquires.
    emu.queue(*[Fault.status(503) for _ in range(BURST)])
    texts = await asyncio.wait_for(asyncio.gather(*(_text(model) for _ in range(BURST))), GUARD_S)
    assert texts == [expected] * BURST
    emu.queue(*[Fault.status(400) for _ in range(BURST)])  # not retried: raised
    errors = await asyncio.gather(*(_text(model) for _ in range(BURST)), return_exceptions=True)
    assert all(isinstance(e, Exception) for e in errors)
    slots = (await _pool()).slots
    assert (slots._free, len(slots._waiters)) == (LIMIT, 0)


@pytest.mark.usefixtures("small_pool")
def test_sync_threads_beyond_the_pool_complete_exactly_without_queueing_in_httpcore(
    emu: Emulator, httpcore_queue: list[int]
) -> None:
    expected = _expected(emu)
    watch = ServerWatch(emu)
    model = _model(emu)

    def text() -> str:
        return "".join(str(chunk.content) for chunk in model.stream(PROMPT))

    with ThreadPoolExecutor(max_workers=BURST) as pool:
        texts = list(pool.map(lambda _i: text(), range(BURST)))
        # a stream left early, then a wait past the pool timeout while all slots are held
        held = [model.stream(PROMPT) for _ in range(LIMIT)]
        for stream in held:
            next(stream)
        impatient = _model(emu, timeout=httpx.Timeout(30.0, pool=0.05))
        with pytest.raises(APITimeoutError, match="waiting for a free connection"):
            impatient.invoke(PROMPT)
        for stream in held:
            stream.close()
        again = list(pool.map(lambda _i: text(), range(BURST)))

    assert texts == [expected] * BURST
    assert again == [expected] * BURST
    assert watch.peak_in_flight <= LIMIT
    assert watch.peak_connections <= LIMIT
    assert httpcore_queue[0] == 0

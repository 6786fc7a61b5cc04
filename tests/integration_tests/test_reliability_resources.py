"""Reliability (issue 7), parts 4 and 7: resource safety and the soak.

Part 4: streams abandoned after their first chunk (1000 times, sync and async, for an
SSE class and for MonsterAPI's NUL-delimited stream; 100 times for every other
streaming class) leave no connection checked out of the httpx pool and no growth in
open sockets, measured on an injected client's pool and on /proc/self/fd.

Part 7 (marked slow, still part of ``make test``): 2000 sequential and 500 concurrent
streamed calls on one instance, with no error and no growth in open connections.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import Any

import httpx
import pytest

from langchain_ffm_friendli.testing import Emulator

from ._reliability import (
    BY_NAME,
    PROMPT,
    TARGETS,
    Target,
    call,
    checked_out,
    make,
    open_fds,
    piece,
)

FD_SLACK = 5  # a few pooled keep-alive sockets (client and emulator ends) may stay open
ABANDON_MAIN = [
    pytest.param(BY_NAME["ChatFFM"], id="sse-ChatFFM"),
    pytest.param(BY_NAME["ChatMonsterAPI"], id="nul-ChatMonsterAPI"),
]
ABANDON_OTHERS = [
    pytest.param(t, id=t.name)
    for t in TARGETS
    if t.kind != "embeddings" and t.name not in ("ChatFFM", "ChatMonsterAPI")
]


def _pool_size(client: httpx.Client | httpx.AsyncClient) -> int:
    return len(client._transport._pool.connections)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- abandoned streams


def _abandon_sync(emu: Emulator, target: Target, times: int) -> None:
    with httpx.Client() as client:
        obj, _ = make(target, emu, http_client=client)
        assert "".join(piece(c) for c in obj.stream(PROMPT))  # warm up: one full stream
        assert emu.wait_for_connections(1)
        before = open_fds()
        for _ in range(times):
            for chunk in obj.stream(PROMPT):
                assert piece(chunk)
                break
            assert checked_out(client) == 0
            assert _pool_size(client) <= 1
        assert emu.wait_for_connections(_pool_size(client))
        assert open_fds() <= before + FD_SLACK
        # the instance still works after all that
        assert "".join(piece(c) for c in obj.stream(PROMPT))
    assert emu.wait_for_connections(0)


async def _abandon_async(emu: Emulator, target: Target, times: int, *, close: bool) -> None:
    async with httpx.AsyncClient() as client:
        obj, _ = make(target, emu, http_async_client=client)
        assert await call(obj, "astream")  # warm up: one full stream
        await asyncio.to_thread(emu.wait_for_connections, 1)
        before = open_fds()
        for _ in range(times):
            if close:  # the consumer closes the generator (``async with aclosing(...)``)
                async with aclosing(obj.astream(PROMPT)) as stream:
                    async for chunk in stream:
                        assert piece(chunk)
                        break
                assert checked_out(client) == 0
            else:  # the consumer just drops it: the loop's async-generator finalizer closes it
                async for chunk in obj.astream(PROMPT):
                    assert piece(chunk)
                    break
                await asyncio.sleep(0)
                assert checked_out(client) <= 1
        for _ in range(10):
            await asyncio.sleep(0)
        assert checked_out(client) == 0
        assert _pool_size(client) <= 1
        assert await asyncio.to_thread(emu.wait_for_connections, _pool_size(client))
        assert open_fds() <= before + FD_SLACK
        assert await call(obj, "astream")
    assert await asyncio.to_thread(emu.wait_for_connections, 0)


@pytest.mark.parametrize("target", ABANDON_MAIN)
def test_1000_sync_streams_abandoned_after_the_first_chunk(emu: Emulator, target: Target) -> None:
    _abandon_sync(emu, target, 1000)


@pytest.mark.parametrize("close", [True, False], ids=["aclose", "dropped"])
@pytest.mark.parametrize("target", ABANDON_MAIN)
async def test_1000_async_streams_abandoned_after_the_first_chunk(
    emu: Emulator, target: Target, *, close: bool
) -> None:
    await _abandon_async(emu, target, 1000, close=close)


@pytest.mark.parametrize("target", ABANDON_OTHERS)
async def test_every_other_streaming_class_abandoned_100_times(
    emu: Emulator, target: Target
) -> None:
    _abandon_sync(emu, target, 100)
    await _abandon_async(emu, target, 100, close=False)


def test_abandoned_streams_on_the_shared_pool_leak_nothing(emu: Emulator) -> None:
    """Without an injected client: the process-wide pool, measured by open sockets."""
    obj, _ = make(BY_NAME["ChatFFM"], emu)
    list(obj.stream(PROMPT))
    before = open_fds()
    for _ in range(300):
        for _chunk in obj.stream(PROMPT):
            break
    assert emu.wait_for_connections(0)
    assert open_fds() <= before + FD_SLACK


# --------------------------------------------------------------------------- soak


@pytest.mark.slow
def test_soak_2000_sequential_streams(emu: Emulator) -> None:
    with httpx.Client() as client:
        obj, waits = make(BY_NAME["ChatFFM"], emu, http_client=client)
        expected = "".join(piece(c) for c in obj.stream(PROMPT))
        before = open_fds()
        for i in range(2000):
            assert "".join(piece(c) for c in obj.stream(PROMPT)) == expected, i
            assert checked_out(client) == 0
        assert _pool_size(client) == 1  # one keep-alive connection served them all
        assert emu.active_connections == 1
        assert open_fds() <= before + FD_SLACK
        assert waits.sync == []
    assert emu.wait_for_connections(0)


async def _gather_streams(obj: Any, count: int) -> list[str]:
    async def one(i: int) -> str:
        parts = [piece(c) async for c in obj.astream(f"{PROMPT} {i}")]
        return "".join(parts)

    return await asyncio.gather(*(one(i) for i in range(count)))


@pytest.mark.slow
async def test_soak_500_concurrent_streams_on_one_instance(emu: Emulator) -> None:
    before = open_fds()
    client = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000))
    async with client:
        obj, waits = make(BY_NAME["ChatFFM"], emu, http_async_client=client)
        answers = await _gather_streams(obj, 500)
        assert [a.endswith(f"{PROMPT} {i}") for i, a in enumerate(answers)] == [True] * 500
        assert checked_out(client) == 0
        after_burst = open_fds()
        # a second burst reuses the pooled keep-alive connections: no growth
        # (httpcore's pool assignment is quadratic in the pool size: kept small)
        answers = await _gather_streams(obj, 20)
        assert all(a.endswith(f"{PROMPT} {i}") for i, a in enumerate(answers))
        assert checked_out(client) == 0
        assert open_fds() <= after_burst + FD_SLACK
        assert waits.async_ == []
    # every connection the burst opened is gone once the client is closed
    assert await asyncio.to_thread(emu.wait_for_connections, 0)
    assert open_fds() <= before + FD_SLACK


@pytest.mark.slow
async def test_soak_concurrent_streams_on_the_shared_pool(emu: Emulator) -> None:
    """The default configuration (no injected client): bursts reuse the pool, no growth."""
    obj, waits = make(BY_NAME["ChatMonsterAPI"], emu)
    rounds: list[int] = []
    for _ in range(2):
        answers = await _gather_streams(obj, 100)
        assert all(a.endswith(f"{PROMPT} {i}") for i, a in enumerate(answers))
        rounds.append(open_fds())
    assert rounds[1] <= rounds[0] + FD_SLACK
    assert waits.async_ == []

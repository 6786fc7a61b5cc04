"""The FIFO bound in front of the pooled clients (``_transport._AsyncSlots`` / ``_SyncSlots``).

Nothing here is timed: waits are driven by yielding to the loop, and the only
timeouts are zero (expire at once) or None (never).
"""

from __future__ import annotations

import asyncio
import threading

from langchain_ffm_friendli._transport import _AsyncSlots, _SyncSlots


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_waiters_are_served_in_arrival_order() -> None:
    slots = _AsyncSlots(1)
    assert await slots.acquire(None)
    order: list[int] = []

    async def wait(i: int) -> None:
        assert await slots.acquire(None)
        order.append(i)
        slots.release()

    tasks = [asyncio.create_task(wait(i)) for i in range(5)]
    await _settle()
    assert order == []
    slots.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert (slots._free, len(slots._waiters)) == (1, 0)


async def test_a_newcomer_does_not_jump_the_queue() -> None:
    slots = _AsyncSlots(1)
    assert await slots.acquire(None)
    waiter = asyncio.create_task(slots.acquire(None))
    await _settle()
    slots.release()  # handed to the waiter, not left free for whoever comes next
    assert slots._free == 0
    newcomer = asyncio.create_task(slots.acquire(0))
    assert await waiter is True
    assert await newcomer is False


async def test_a_wait_past_the_timeout_returns_false_and_leaves_no_trace() -> None:
    slots = _AsyncSlots(1)
    assert await slots.acquire(None)
    assert await slots.acquire(0) is False
    assert len(slots._waiters) == 0
    slots.release()
    assert (slots._free, len(slots._waiters)) == (1, 0)


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    slots = _AsyncSlots(1)
    assert await slots.acquire(None)
    waiter = asyncio.create_task(slots.acquire(None))
    await _settle()
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert len(slots._waiters) == 0
    slots.release()
    assert slots._free == 1


async def test_a_waiter_cancelled_as_it_is_handed_a_slot_gives_it_back() -> None:
    slots = _AsyncSlots(1)
    assert await slots.acquire(None)
    waiter = asyncio.create_task(slots.acquire(None))
    await _settle()
    slots.release()  # the slot is now the waiter's ...
    waiter.cancel()  # ... but it is cancelled before it runs again
    await asyncio.gather(waiter, return_exceptions=True)
    assert waiter.cancelled()
    assert (slots._free, len(slots._waiters)) == (1, 0)


def test_sync_slots_bound_threads_and_time_out() -> None:
    slots = _SyncSlots(2)
    assert slots.acquire(None)
    assert slots.acquire(None)
    assert slots.acquire(0) is False
    got = threading.Event()

    def wait() -> None:
        if slots.acquire(None):
            got.set()

    thread = threading.Thread(target=wait)
    thread.start()
    slots.release()
    thread.join()
    assert got.is_set()

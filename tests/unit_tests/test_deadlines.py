"""Deadlines: the bookkeeping (pure, on a given clock) and what interrupts a waiting call.

The watchdog and alarm tests use bounds of a fraction of a second and generous
waits (seconds) for what must happen: they check that an interruption happens,
or does not, never how fast anything runs.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from langchain_ffm_friendli._deadlines import (
    CHUNK,
    TOTAL,
    Alarm,
    Deadline,
    Watchdog,
    socket_interrupt,
)


def test_no_bound_means_no_deadline_at_all() -> None:
    assert Deadline.of(None, None) is None
    assert Deadline.of(0, 0) is None
    assert Deadline.of(5, None) is not None


def test_only_waiting_counts_and_keepalives_do_not_reset_the_wait_for_content() -> None:
    d = Deadline(chunk=10.0, total=None, now=0.0)
    d.start_stream(0.0)
    d.resume(0.0)
    assert d.pause(4.0) is None  # a ping after 4 s: no content
    d.resume(100.0)  # the caller took 96 s with the chunk: not counted
    assert d.due() == pytest.approx(106.0)  # 6 s of the 10 are left
    assert d.pause(105.0) is None  # another ping: 9 s waited in all
    d.resume(105.0)
    assert d.pause(106.5) == CHUNK  # 10.5 s of waiting without content
    assert d.expired == CHUNK


def test_content_starts_the_wait_again() -> None:
    d = Deadline(chunk=10.0, total=None, now=0.0)
    d.start_stream(0.0)
    d.resume(0.0)
    d.pause(9.0)
    d.content()
    d.resume(9.0)
    assert d.pause(18.0) is None
    assert d.due() == pytest.approx(9.0 + 10.0 - 9.0)


def test_the_chunk_bound_applies_once_the_stream_started_the_total_always() -> None:
    d = Deadline(chunk=1.0, total=5.0, now=0.0)
    assert d.due() == 5.0  # headers not yet here: only the total bound
    assert d.overdue(3.0) is None
    d.start_stream(3.0)
    assert d.due() == 4.0
    assert d.resume(6.0) == TOTAL  # the total passed while the caller was busy
    assert d.remaining(6.0) == 0.0


def _wait(event: threading.Event, seconds: float) -> bool:
    return event.wait(seconds)


def test_the_watchdog_interrupts_a_waiting_call_that_passed_its_bound() -> None:
    fired = threading.Event()
    d = Deadline(chunk=0.2, total=None)
    d.start_stream(time.monotonic())
    d.resume(time.monotonic())
    Watchdog().watch(d, fired.set)
    assert _wait(fired, 5.0)
    assert d.expired == CHUNK


def test_the_watchdog_leaves_a_busy_caller_alone_and_follows_moving_deadlines() -> None:
    fired = threading.Event()
    d = Deadline(chunk=0.3, total=None)
    d.start_stream(time.monotonic())
    d.pause(time.monotonic())  # the caller's own code runs
    watchdog = Watchdog()
    watch = watchdog.watch(d, fired.set)
    assert not _wait(fired, 0.8)  # past the bound, but nobody is waiting for the server
    d.resume(time.monotonic())  # waiting again: the bound counts from here
    assert _wait(fired, 5.0)
    watch.cancel()


def test_a_cancelled_watch_never_fires() -> None:
    fired = threading.Event()
    d = Deadline(chunk=None, total=0.2)
    Watchdog().watch(d, fired.set).cancel()
    assert not _wait(fired, 0.6)


def test_a_socket_interrupt_wakes_a_blocked_read() -> None:
    left, right = socket.socketpair()
    woke = threading.Event()

    class Stream:
        def get_extra_info(self, name: str) -> object:
            return left if name == "socket" else None

    class Response:
        extensions = {"network_stream": Stream()}

    def read() -> None:
        left.recv(10)  # blocks: nothing is ever sent
        woke.set()

    threading.Thread(target=read, daemon=True).start()
    interrupt = socket_interrupt(Response())
    assert interrupt is not None
    time.sleep(0.1)
    interrupt()
    assert woke.wait(5.0)
    left.close()
    right.close()


async def test_the_alarm_cancels_only_the_waiting_task_and_knows_its_own_cancellation() -> None:
    d = Deadline(chunk=None, total=0.2)
    alarm = Alarm(d)
    alarm.arm()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.sleep(5)
    assert alarm.expired()  # ours: the caller turns it into the timeout error
    alarm.disarm()


async def test_the_alarm_lets_the_callers_own_cancellation_through() -> None:
    d = Deadline(chunk=None, total=30.0)
    alarm = Alarm(d)

    async def waiting() -> None:
        alarm.arm()
        await asyncio.sleep(5)

    task = asyncio.create_task(waiting())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not alarm.expired()
    alarm.disarm()


async def test_the_alarm_does_not_cancel_while_the_caller_is_busy() -> None:
    d = Deadline(chunk=None, total=0.1)
    alarm = Alarm(d)
    alarm.arm()
    d.pause(time.monotonic())  # not waiting for the server
    await asyncio.sleep(0.4)  # would have been cancelled if the alarm fired here
    assert d.resume(time.monotonic()) == TOTAL  # the next wait sees it instead
    alarm.disarm()

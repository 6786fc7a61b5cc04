"""Every call ends: one call's deadlines, and what interrupts a read that passed one.

Two bounds, both in seconds, both optional:

- ``stream_chunk_timeout``: the longest a stream may wait for content. Only
  time spent waiting for the server counts (not the time the caller takes
  with each chunk), and reads that bring no content (keep-alive pings,
  comments, empty deltas) do not reset it.
- ``total_timeout``: the whole call, retries, backoff waits and the whole body
  or stream included.

:class:`Deadline` is the pure bookkeeping (the transport marks each read, the
stream driver marks content). What interrupts a blocked read differs by mode:
a sync read is interrupted by :class:`Watchdog` (one thread per process, which
shuts the socket down), an async read by :class:`Alarm` (a timer on the event
loop, which cancels the waiting task). Both act only while the call is waiting
for the server, never while the caller's own code runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Final

__all__ = ["CHUNK", "TOTAL", "Alarm", "Deadline", "Watchdog", "socket_interrupt", "watchdog"]

CHUNK: Final = "stream_chunk_timeout"
TOTAL: Final = "total_timeout"

_clock: Final = time.monotonic


class Deadline:
    """One call's time bounds, and how long it has waited for content so far.

    Attributes:
        chunk: ``stream_chunk_timeout`` in seconds (None: unbounded).
        total_at: the clock time at which ``total_timeout`` passes (None: unbounded).
        streaming: the stream's headers arrived; the chunk bound applies from now on.
        reading: the call is waiting for the server (a read, a connect, a retry wait).
        expired: which bound passed (:data:`CHUNK` or :data:`TOTAL`), once one has.
        clamped: the current attempt's connect/read timeouts were shortened to
            what is left of ``total_timeout`` (so when one of them fires, the
            total bound is what passed).
    """

    __slots__ = (
        "chunk",
        "clamped",
        "expired",
        "idle",
        "reading",
        "resumed_at",
        "streaming",
        "total_at",
    )

    def __init__(self, chunk: float | None, total: float | None, now: float | None = None) -> None:
        now = _clock() if now is None else now
        self.chunk = chunk or None
        self.total_at = now + total if total else None
        self.idle = 0.0
        self.resumed_at = now
        self.reading = True
        self.streaming = False
        self.clamped = False
        self.expired: str | None = None

    @classmethod
    def of(cls, chunk: float | None, total: float | None) -> Deadline | None:
        """A deadline, or None when neither bound is set (nothing to pay per read)."""
        return cls(chunk, total) if chunk or total else None

    def start_stream(self, now: float) -> None:
        """The response headers arrived: the chunk bound counts from here."""
        self.streaming = True
        self.idle = 0.0
        self.resumed_at = now

    def resume(self, now: float) -> str | None:
        """The call waits for the server again; the bound that already passed, if any."""
        self.reading = True
        self.resumed_at = now
        if self.total_at is not None and now >= self.total_at:
            return self._expire(TOTAL)
        return None

    def pause(self, now: float) -> str | None:
        """A read returned; the bound that passed while it waited, if any."""
        self.reading = False
        self.idle += now - self.resumed_at
        # overdue(now, waited=0.0), inline: this runs after every read of every stream.
        if self.total_at is not None and now >= self.total_at:
            return self._expire(TOTAL)
        if self.streaming and self.chunk is not None and self.idle >= self.chunk:
            return self._expire(CHUNK)
        return None

    def content(self) -> None:
        """A record with content arrived: the wait for content starts again."""
        self.idle = 0.0

    def due(self) -> float | None:
        """The clock time at which a bound passes if the current wait goes on."""
        due = self.total_at
        if self.streaming and self.chunk is not None:
            chunk_due = self.resumed_at + self.chunk - self.idle
            due = chunk_due if due is None else min(due, chunk_due)
        return due

    def overdue(self, now: float, *, waited: float | None = None) -> str | None:
        """The bound that has passed at ``now`` (``waited``: the current wait, if reading)."""
        if self.total_at is not None and now >= self.total_at:
            return self._expire(TOTAL)
        if self.streaming and self.chunk is not None:
            current = now - self.resumed_at if waited is None else waited
            if self.idle + current >= self.chunk:
                return self._expire(CHUNK)
        return None

    def remaining(self, now: float) -> float | None:
        """Seconds left of ``total_timeout`` (None when unbounded)."""
        return None if self.total_at is None else max(self.total_at - now, 0.0)

    def _expire(self, bound: str) -> str:
        self.expired = self.expired or bound
        return self.expired


class _Watch:
    __slots__ = ("deadline", "interrupt", "live")

    def __init__(self, deadline: Deadline, interrupt: Callable[[], None]) -> None:
        self.deadline = deadline
        self.interrupt = interrupt
        self.live = True

    def cancel(self) -> None:
        """The call is over: never interrupt it (dropped lazily from the heap)."""
        self.live = False


class Watchdog:
    """Interrupts sync reads that passed their deadline: one daemon thread per process.

    A blocked socket read cannot be given a new timeout from outside (the HTTP
    stack sets its own before every read), so the watchdog shuts the socket
    down, which wakes the read with an error; the transport then sees
    ``deadline.expired`` and raises the timeout error. Deadlines move on with
    every content record, so a watch is checked lazily: when its time comes it
    is pushed back to the deadline's new due time, if any.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline, interrupt: Callable[[], None]) -> _Watch:
        """Interrupt with ``interrupt`` when ``deadline`` passes while its call waits."""
        entry = _Watch(deadline, interrupt)
        due = deadline.due()
        if due is not None:
            self._push(due, entry)
        return entry

    def _push(self, due: float, entry: _Watch) -> None:
        with self._cond:
            earliest = not self._heap or due < self._heap[0][0]
            heapq.heappush(self._heap, (due, next(self._seq), entry))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="langchain-ffm-friendli-watchdog", daemon=True
                )
                self._thread.start()
            elif earliest:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                due, _, entry = self._heap[0]
                now = _clock()
                if entry.live and due > now:
                    self._cond.wait(due - now)
                    continue
                heapq.heappop(self._heap)
            if entry.live:
                self._check(entry, now)

    def _check(self, entry: _Watch, now: float) -> None:
        deadline = entry.deadline
        if deadline.reading and deadline.overdue(now):
            entry.live = False
            with contextlib.suppress(Exception):
                entry.interrupt()
            return
        due = deadline.due()
        if due is not None:
            # Not waiting (the caller is busy): look again one full bound later at the earliest.
            self._push(max(due, now + 0.01) if deadline.reading else _later(deadline, now), entry)


def _later(deadline: Deadline, now: float) -> float:
    """When to look again at a call that is not waiting: its next wait cannot pass before."""
    candidates = [deadline.total_at] if deadline.total_at is not None else []
    if deadline.streaming and deadline.chunk is not None:
        candidates.append(now + max(deadline.chunk - deadline.idle, 0.01))
    return min(candidates) if candidates else now + 3600.0


_watchdog: Watchdog | None = None
_watchdog_lock = threading.Lock()


def watchdog() -> Watchdog:
    """The process's watchdog (a forked child starts its own)."""
    global _watchdog  # noqa: PLW0603
    if _watchdog is None:
        with _watchdog_lock:
            if _watchdog is None:
                _watchdog = Watchdog()
    return _watchdog


def _forget_watchdog() -> None:
    global _watchdog, _watchdog_lock
    _watchdog, _watchdog_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere nothing forks a worker
    os.register_at_fork(after_in_child=_forget_watchdog)


def socket_interrupt(response: Any) -> Callable[[], None] | None:
    """What wakes a blocked read of ``response``: shutting its socket down (None if unknown).

    httpcore exposes the connection's network stream for HTTP/1.1; a client
    with another transport (a mock, HTTP/2) has none, and its reads end only
    through the per-read checks and the read timeout.
    """
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if not isinstance(sock, socket.socket):
        return None

    def interrupt() -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    return interrupt


class Alarm:
    """Cancels the task waiting in an async call when a deadline passes.

    The async counterpart of :class:`Watchdog`: a timer on the event loop,
    pushed back lazily as the deadline moves. It cancels only while the call
    is waiting for the server (never inside the caller's code between chunks)
    and :meth:`expired` tells the call that the cancellation was its own, as
    ``asyncio.timeout`` does, so the caller's own cancellations pass through.
    """

    __slots__ = ("_cancelling", "_fired", "_handle", "_task", "deadline")

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelling = 0
        self._fired = False

    def arm(self) -> None:
        """Watch the current task's wait (call when it starts waiting)."""
        task = asyncio.current_task()
        if task is not self._task:
            self._task = task
            self._cancelling = task.cancelling() if task is not None else 0
        if self._handle is None:
            self._schedule()

    def _schedule(self) -> None:
        due = self.deadline.due()
        if due is not None:
            delay = max(due - _clock(), 0.0)
            self._handle = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        deadline = self.deadline
        if not deadline.reading:
            return  # the caller's code runs: arm() schedules again at the next wait
        if deadline.overdue(_clock()) and self._task is not None and not self._task.done():
            self._fired = True
            self._task.cancel()
            return
        self._schedule()

    def expired(self) -> bool:
        """Whether a CancelledError passing now is this alarm's own (then it is consumed)."""
        if not self._fired or self._task is None:
            return False
        self._fired = False
        return self._task.uncancel() <= self._cancelling

    def disarm(self) -> None:
        """The call is over."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

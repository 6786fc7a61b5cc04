"""Fault injection: what can go wrong on the wire, and how a stream is played out.

A :class:`Fault` is queued like a :class:`~langchain_ffm_friendli.testing.Reply`. HTTP-level
faults (error status, slow first byte, dropped connection) apply to any request; stream
faults apply only to streaming requests and act on a provider-neutral
:class:`StreamScript`, so every provider's stream framing (SSE, NUL-delimited records)
gets the same faults for free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._model import Reply
    from ._server import ResponseWriter

__all__ = [
    "FAULT_KINDS",
    "Fault",
    "FaultValueError",
    "StreamEvent",
    "StreamScript",
    "play_stream",
    "split_at_first_multibyte",
]

FaultKind = Literal[
    "status",
    "slow_first_byte",
    "disconnect",
    "malformed",
    "error_record",
    "truncated",
    "stall",
    "ping_storm",
    "mixed_records",
]

#: Every fault kind; each is also the name of the :class:`Fault` constructor that builds it.
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

_STREAM_ONLY = frozenset(
    {"malformed", "error_record", "truncated", "stall", "ping_storm", "mixed_records"}
)


@dataclass(frozen=True)
class Fault:
    """A scripted failure for one request; build it with the classmethods.

    Stream faults (``malformed``, ``error_record``, ``truncated``, ``stall``,
    ``ping_storm``, ``mixed_records``) apply only to streaming requests: a non-streaming
    request skips them in the queue and leaves them for the next streaming one. The streamed content
    is what the model would have produced, or ``reply`` when given.

    Attributes:
        kind: Which fault this is.
        status_code: HTTP status (``status``) or the in-stream error code
            (``error_record``).
        body: Error body: None for the provider's default, a dict sent as JSON, a str
            sent verbatim as ``text/plain``.
        headers: Extra response headers (``status``).
        seconds: Delay for ``slow_first_byte`` and ``stall``.
        after: Number of data records sent before the fault strikes.
        message: The in-stream error message (``error_record``).
        as_event: Send the error record as ``event: error`` (``error_record``).
        count: Pings before each record (``ping_storm``).
        reply: What to stream or answer instead of the default model's output.
    """

    kind: FaultKind
    status_code: int = 500
    body: str | dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    after: int = 0
    message: str = "Internal server error during generation"
    as_event: bool = False
    count: int = 0
    reply: Reply | None = None

    def __post_init__(self) -> None:
        """Refuse values no server could act on, naming the attribute.

        Both faces of the emulator build faults through here (the Python constructors
        and the HTTP control API), so they refuse the same values.

        Raises:
            FaultValueError: For an unknown kind, a status outside 100-599, or a
                negative (or non-finite) ``seconds``, ``after`` or ``count``.
        """
        if self.kind not in FAULT_KINDS:
            raise FaultValueError("kind", f"must be one of {', '.join(FAULT_KINDS)}")
        if not 100 <= self.status_code <= 599:
            raise FaultValueError("status_code", f"must be 100-599; got {self.status_code}")
        if not (math.isfinite(self.seconds) and self.seconds >= 0):
            raise FaultValueError("seconds", f"must be a finite number >= 0; got {self.seconds}")
        for name in ("after", "count"):
            value = getattr(self, name)
            if value < 0:
                raise FaultValueError(name, f"must be >= 0; got {value}")

    @property
    def stream_only(self) -> bool:
        """True for faults that only make sense inside a stream."""
        return self.kind in _STREAM_ONLY

    @classmethod
    def status(
        cls,
        code: int,
        body: str | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retry_after: str | None = None,
        retry_after_ms: int | None = None,
    ) -> Fault:
        """Answer with an HTTP error instead of generating.

        Args:
            code: The HTTP status code (e.g. 429, 500, 503).
            body: None for the provider's default error body (FFM: FastAPI
                ``{"detail": ...}``); a dict is sent as JSON; a str is sent verbatim
                as ``text/plain`` (e.g. an HTML page from a gateway).
            headers: Extra response headers.
            retry_after: Value of the ``Retry-After`` header (seconds or HTTP date).
            retry_after_ms: Value of the ``retry-after-ms`` header.

        Returns:
            The fault.
        """
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        if retry_after_ms is not None:
            extra["retry-after-ms"] = str(retry_after_ms)
        return cls(kind="status", status_code=code, body=body, headers=extra)

    @classmethod
    def slow_first_byte(cls, seconds: float, *, reply: Reply | None = None) -> Fault:
        """Wait before sending the status line, then answer normally.

        Args:
            seconds: The delay.
            reply: Optional scripted answer sent after the delay.

        Returns:
            The fault.
        """
        return cls(kind="slow_first_byte", seconds=seconds, reply=reply)

    @classmethod
    def disconnect(cls, after: int = 0, *, reply: Reply | None = None) -> Fault:
        """Drop the connection mid-answer.

        A stream sends its headers and ``after`` data records, then the connection is
        closed with no final record and no chunked terminator. A non-streaming request
        gets its connection closed without any response.

        Args:
            after: Data records sent before the drop (streams only).
            reply: Optional scripted content for the partial stream.

        Returns:
            The fault.
        """
        return cls(kind="disconnect", after=after, reply=reply)

    @classmethod
    def malformed(cls, after: int, *, reply: Reply | None = None) -> Fault:
        """Insert a record that is not JSON (``data: {not json``) after ``after`` records.

        Args:
            after: Data records sent before the malformed one; the stream then goes on.
            reply: Optional scripted content.

        Returns:
            The fault.
        """
        return cls(kind="malformed", after=after, reply=reply)

    @classmethod
    def error_record(
        cls,
        after: int,
        message: str = "Internal server error during generation",
        status_code: int = 500,
        *,
        as_event: bool = False,
        reply: Reply | None = None,
    ) -> Fault:
        """Send an in-stream error record after ``after`` records, then end cleanly.

        Args:
            after: Data records sent before the error.
            message: The ``error`` text.
            status_code: The ``status_code`` field of the record.
            as_event: Send it as an ``event: error`` event instead of plain data.
            reply: Optional scripted content.

        Returns:
            The fault.
        """
        return cls(
            kind="error_record",
            after=after,
            message=message,
            status_code=status_code,
            as_event=as_event,
            reply=reply,
        )

    @classmethod
    def truncated(cls, after: int, *, reply: Reply | None = None) -> Fault:
        """End the stream cleanly after ``after`` records, without the final record.

        Args:
            after: Data records sent before the (clean) end.
            reply: Optional scripted content.

        Returns:
            The fault.
        """
        return cls(kind="truncated", after=after, reply=reply)

    @classmethod
    def stall(cls, after: int, seconds: float, *, reply: Reply | None = None) -> Fault:
        """Pause ``seconds`` after ``after`` records, then continue normally.

        Args:
            after: Data records sent before the pause.
            seconds: Length of the pause.
            reply: Optional scripted content.

        Returns:
            The fault.
        """
        return cls(kind="stall", after=after, seconds=seconds, reply=reply)

    @classmethod
    def ping_storm(cls, count: int, *, reply: Reply | None = None) -> Fault:
        """Send ``count`` keep-alive pings before every data record.

        Args:
            count: Pings per record; the provider's ping forms alternate.
            reply: Optional scripted content.

        Returns:
            The fault.
        """
        return cls(kind="ping_storm", count=count, reply=reply)

    @classmethod
    def mixed_records(cls, *, reply: Reply | None = None) -> Fault:
        """MonsterAPI ``/v1/generate`` only: stream records in three shapes, not vLLM's one.

        vLLM's ``/generate`` (which MonsterAPI serves) writes every record as
        ``json.dumps({"text": [...]})``; that is the emulator's default. This fault makes
        record ``i`` take shape ``i % 3``: vLLM's ``{"text": [...]}``, then
        ``{"response": {"text": [...]}}`` and a bare JSON list (both raw UTF-8, compact),
        the shapes the protocol notes tell clients to tolerate (protocols/monsterapi.md
        §2.2). Other routes stream normally.

        Args:
            reply: Optional scripted content.

        Returns:
            The fault.
        """
        return cls(kind="mixed_records", reply=reply)


class FaultValueError(ValueError):
    """A fault attribute no server could act on (e.g. a negative delay).

    Attributes:
        field: The :class:`Fault` attribute at fault.
        message: What is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        """Name the attribute and what is wrong with it.

        Args:
            field: The attribute.
            message: What is wrong.
        """
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class StreamEvent:
    """One framed event of a stream.

    Attributes:
        data: The exact bytes of the event, framing included.
        is_record: True for data records (counted by faults), False for pings/comments.
    """

    data: bytes
    is_record: bool = True


class ErrorRecordEncoder(Protocol):
    """A provider's framing of an in-stream error record."""

    def __call__(self, message: str, status_code: int, *, as_event: bool) -> bytes:
        """Frame ``message``/``status_code`` (as ``event: error`` when ``as_event``)."""
        ...


@dataclass(frozen=True)
class StreamScript:
    """A stream as a provider frames it, plus the provider's encoders for faults.

    Attributes:
        events: The events of a normal stream; the last record is the final one.
        content_type: The response's ``content-type``.
        pings: The provider's keep-alive forms, alternated by a ping storm.
        malformed: The framed non-JSON record.
        error_record: Builds a framed in-stream error from message, status, as_event.
        split: Where to split an event into two socket writes.
        headers: Extra response headers.
        cut_record: What a ``truncated`` stream sends of the record it stops at (the
            framing's detectable truncation); None sends nothing of it.
    """

    events: list[StreamEvent]
    content_type: str
    pings: tuple[bytes, ...]
    malformed: bytes
    error_record: ErrorRecordEncoder
    split: Callable[[bytes], int]
    headers: dict[str, str] = field(default_factory=dict)
    cut_record: Callable[[bytes], bytes] | None = None


class _StreamPlayer:
    """Writes a script's events, each in two socket writes, and strikes a fault."""

    def __init__(self, script: StreamScript, writer: ResponseWriter) -> None:
        self.script = script
        self.writer = writer
        self.pings = 0

    async def emit(self, data: bytes) -> None:
        """One event in two writes, cut at ``script.split``."""
        cut = self.script.split(data)
        await self.writer.write(data[:cut])
        await self.writer.write(data[cut:])

    async def strike(self, fault: Fault, event: StreamEvent) -> bool:
        """Apply ``fault`` before ``event``; True when that ended the stream."""
        kind = fault.kind
        if kind == "disconnect":
            await self.writer.abort()
            return True
        if kind == "truncated" and self.script.cut_record is not None:
            await self.emit(self.script.cut_record(event.data))
        if kind == "error_record":
            record = self.script.error_record(
                fault.message, fault.status_code, as_event=fault.as_event
            )
            await self.emit(record)
        if kind in ("truncated", "error_record"):
            await self.writer.finish()
            return True
        if kind == "malformed":
            await self.emit(self.script.malformed)
        if kind == "stall":
            await self.writer.pause(fault.seconds)
        return False

    async def storm(self, fault: Fault) -> None:
        """The pings of a ``ping_storm`` before a record, the provider's forms in turn."""
        count = fault.count if fault.kind == "ping_storm" else 0
        for _ in range(count):
            pings = self.script.pings
            await self.emit(pings[self.pings % len(pings)])
            self.pings += 1


async def play_stream(script: StreamScript, writer: ResponseWriter, fault: Fault | None) -> None:
    """Write a started chunked stream, applying a stream fault if there is one.

    Every event goes out in two writes split at ``script.split(event)``, so clients
    see records (and sometimes multi-byte characters) cut across network chunks.

    Args:
        script: The framed stream.
        writer: A response writer whose chunked response has been started.
        fault: The fault to apply, or None.
    """
    player = _StreamPlayer(script, writer)
    records = sum(1 for e in script.events if e.is_record)
    # Faults strike before the final record at the latest.
    after = min(fault.after, max(records - 1, 0)) if fault is not None else -1
    sent = 0
    for event in script.events:
        if event.is_record and fault is not None:
            if sent == after and await player.strike(fault, event):
                return
            await player.storm(fault)
        await player.emit(event.data)
        sent += event.is_record
    await writer.finish()


def split_at_first_multibyte(event: bytes) -> int:
    """Where to cut an event in two writes: inside its first multi-byte character.

    Events without one are cut in the middle, so clients always meet records (and
    UTF-8 characters) split across network chunks.

    Args:
        event: The framed event.

    Returns:
        The cut offset (at least 1).
    """
    for index, byte in enumerate(event):
        if byte >= 0x80:
            return index + 1
    return max(1, len(event) // 2)

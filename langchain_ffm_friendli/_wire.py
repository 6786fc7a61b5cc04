"""Stream framing: turn what the transport reads into decoded JSON records.

Pure code only (no I/O). Two framings, one shape (``feed(item) -> records``,
``close()``), so the stream driver and every decoder are the same whatever the
wire:

- :class:`SSEFraming`: Server-Sent Events parsed from the body's bytes
  (:class:`SSEParser`). It decides which carry data, which are keep-alives to
  skip (``event: ping`` with a bare timestamp, ``: ping`` comments), which end
  the stream (``[DONE]``) and which are errors inside a 200 stream.
- :class:`NulFraming`: raw bytes holding NUL-terminated JSON records
  (MonsterAPI's ``/generate``), split before UTF-8 decoding.

Provider ``_protocol.py`` modules see only :class:`Record` values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Protocol

from langchain_ffm_friendli.errors import (
    MalformedRecordError,
    ProviderError,
    error_for_status,
    provider_message,
)

__all__ = [
    "DONE",
    "SHAPE_ERRORS",
    "Done",
    "Framing",
    "NulFraming",
    "Record",
    "SSEFraming",
    "SSEParser",
    "decode_json_bytes",
    "decode_json_record",
    "decode_sse_event",
    "shape_error",
]


@dataclass(slots=True)
class Record:
    """One decoded stream record.

    Attributes:
        event: the SSE event name ("" for plain data events and NUL records).
        data: the decoded JSON value (an object, except in NUL records).
        raw: the record's data text as received, kept for error reports.
    """

    event: str
    data: Any
    raw: str


class Done:
    """The ``[DONE]`` sentinel that ends OpenAI-style streams."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DONE"


DONE: Final = Done()

# ``json.loads`` with default arguments, minus the frame ``json.loads`` adds (once per record).
_json: Final = json.JSONDecoder().decode

_SKIPPED_EVENTS: Final = frozenset({"ping", "keepalive", "keep-alive", "heartbeat"})


def decode_sse_event(name: str, data: str, *, provider: str) -> Record | Done | None:
    """Classify one SSE event (its ``event`` field, ``""`` when absent, and its data).

    Returns None for events to skip (keep-alive pings, empty events), ``DONE`` for
    the end-of-stream sentinel, or a :class:`Record`. Raises a typed error for an
    error record (``{"error": ..., "status_code": ...}`` or ``event: error``) and
    :class:`MalformedRecordError` for a data event that is not JSON, because
    silently skipping it could truncate the answer without anyone noticing.
    """
    if name == "message":
        name = ""
    elif name.lower() in _SKIPPED_EVENTS:
        return None
    stripped = data.strip()
    if not stripped:
        if name == "error":
            raise error_for_status(
                provider=provider,
                status_code=None,
                detail="error event without a body",
                where=" in stream",
            )
        return None
    if stripped == "[DONE]":
        return DONE
    return decode_json_record(data, provider=provider, event=name)


def decode_json_record(raw: str, *, provider: str, event: str = "") -> Record:
    """Decode one record's JSON text, raising a typed error for error records."""
    try:
        payload = _json(raw)
    except json.JSONDecodeError as exc:
        raise _not_json(provider, raw, exc) from None
    if not isinstance(payload, dict):
        if event == "error":
            raise _in_stream_error(provider, {"error": payload}, raw)
        raise MalformedRecordError(
            f"{provider} stream record is not a JSON object: {raw[:200]!r}",
            provider=provider,
            raw_record=raw,
        )
    # Only data records can be error records: named events such as Friendli's
    # ``tool_status`` carry an ``error`` field that describes a tool, not the stream.
    is_data = event in ("", "token")
    if event == "error" or (is_data and (payload.get("error") or payload.get("detail"))):
        raise _in_stream_error(provider, payload, raw)
    return Record(event=event, data=payload, raw=raw)


def _not_json(provider: str, raw: str, exc: json.JSONDecodeError) -> MalformedRecordError:
    return MalformedRecordError(
        f"{provider} stream record is not valid JSON ({exc.msg}): {raw[:200]!r}",
        provider=provider,
        raw_record=raw,
    )


SHAPE_ERRORS: Final = (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError)
"""What a decoder raises on a record of an unexpected shape (see :func:`shape_error`)."""


def shape_error(raw: str, exc: BaseException, *, provider: str) -> MalformedRecordError:
    """A record whose JSON has an unexpected shape, reported as a malformed record.

    Decoders read records as the protocol documents them (``choices`` a list of
    objects, token counts numbers...). A record of another shape makes them fail
    with one of :data:`SHAPE_ERRORS`; the stream driver turns that failure into
    :class:`MalformedRecordError` carrying the raw record, so a stream never
    breaks with an untyped exception.
    """
    return MalformedRecordError(
        f"{provider} stream record has an unexpected shape "
        f"({type(exc).__name__}: {exc}): {raw[:200]!r}",
        provider=provider,
        raw_record=raw,
    )


def _in_stream_error(provider: str, payload: Any, raw: str) -> ProviderError:
    status = payload.get("status_code") if isinstance(payload, dict) else None
    if not isinstance(status, int):
        status = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and status is None:
        code = error.get("code") or error.get("status_code")
        status = code if isinstance(code, int) else None
    return error_for_status(
        provider=provider,
        status_code=status,
        detail=provider_message(payload, raw),
        raw_record=raw,
        where=" in stream",
    )


def decode_json_bytes(raw: bytes, *, provider: str) -> Any:
    """Decode one NUL-delimited record (any JSON value; strings decoded twice).

    Raises :class:`MalformedRecordError` for bytes that are not UTF-8 JSON, and
    a typed error for an error record (``{"error": ...}`` / ``{"detail": ...}``).
    """
    return _nul_record(raw, provider).data


def _nul_record(raw: bytes | bytearray, provider: str) -> Record:
    """:func:`decode_json_bytes`, keeping the text (decoded once) for error reports."""
    text = raw.decode("utf-8", errors="replace")
    try:
        value = _json(text)
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            value = _json(value)  # Monster Deploy's double-encoded JSON
    except json.JSONDecodeError as exc:
        raise _not_json(provider, text, exc) from None
    if isinstance(value, dict) and (value.get("error") or value.get("detail")):
        raise _in_stream_error(provider, value, text)
    return Record("", value, text)


class Framing(Protocol):
    """Cuts the body's bytes into records, and knows when the stream's protocol has ended."""

    @property
    def ended(self) -> bool:
        """The terminal record (``[DONE]``) arrived: nothing after it is a record."""
        ...

    def start(self, content_type: str) -> None:
        """The answer's ``Content-Type``, before its first byte."""
        ...

    def feed(self, item: bytes) -> list[Record]:
        """The records that one read of the body completes."""
        ...

    def close(self) -> list[Record]:
        """End of input: the records it completes; raise if it stopped inside a record."""
        ...


_NOTHING: Final[list[Record]] = []


class SSEParser:
    """Server-Sent Events from bytes, as the WHATWG event-stream rules read them.

    Lines end at CR LF, LF or CR (a CR LF cut between two reads is one line
    end); ``data`` lines are joined with LF; a blank line dispatches the event;
    comments, ``id``, ``retry`` and unknown fields change nothing we read; a
    leading byte-order mark is dropped; an event not ended by a blank line when
    the body ends is dropped. It parses bytes rather than text: CR and LF never
    occur inside a UTF-8 sequence, so each value is decoded once, whole. The
    tests hold it to ``httpx-sse`` (the same rules, on decoded text) on
    arbitrary streams and splits; it exists because it does the same in a
    fraction of the time, on every read of every stream.

    Its cost is linear in the size of the body, however it is cut: the reads of
    an unfinished line are kept as pieces and joined once, when the line ends,
    so one line of 100 MB in many reads costs what it costs in one.
    """

    __slots__ = ("_data", "_event", "_pieces", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._pieces: list[bytes] = []  # reads of the unfinished last line
        self._skip_lf = False
        self._started = False
        self._event = b""
        self._data: list[bytes] = []

    def feed(self, item: bytes) -> list[tuple[str, str]]:
        """The events (name, data) that one read completes."""
        if self._skip_lf:  # the read before ended in CR: an LF now is the same line end
            self._skip_lf = False
            if item[:1] == b"\n":
                item = item[1:]
        if self._pieces:
            if b"\n" not in item and b"\r" not in item:
                self._pieces.append(item)  # the line goes on: keep the piece, join later
                return []
            self._pieces.append(item)
            data = b"".join(self._pieces)
            self._pieces = []
        else:
            data = item
        if not self._started:
            if len(data) < 3 and b"\xef\xbb\xbf".startswith(data):
                self._pieces = [data] if data else []  # may still become a byte-order mark
                return []
            self._started = True
            if data[:3] == b"\xef\xbb\xbf":
                data = data[3:]
        if b"\r" in data:
            self._skip_lf = data[-1:] == b"\r"
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, rest = data.split(b"\n")
        if rest:
            self._pieces = [rest]
        events: list[tuple[str, str]] = []
        for line in lines:
            if line[:6] == b"data: ":
                self._data.append(line[6:])
            elif not line:
                if self._data or self._event:
                    events.append(self._dispatch())
            else:
                self._field(line)
        return events

    def close(self) -> None:
        """End of body: an unfinished last line or event is dropped, as the rules say."""
        self._pieces = []
        self._data = []
        self._event = b""

    def _dispatch(self) -> tuple[str, str]:
        data = self._data
        text = data[0] if len(data) == 1 else b"\n".join(data)
        event = self._event.decode("utf-8", errors="replace")
        self._data, self._event = [], b""
        return event, text.decode("utf-8", errors="replace")

    def _field(self, line: bytes) -> None:
        if line[:1] == b":":
            return  # a comment (keep-alive)
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value


class SSEFraming:
    """Server-Sent Events bytes -> records (pings skipped); ``[DONE]`` ends the stream.

    After ``[DONE]`` nothing is a record: the framing is :attr:`ended` and the
    stream driver stops reading, whatever the server sends next. A 200 answer
    that is not an event stream (a JSON error, a whole answer from a proxy) is
    read whole and reported as one data event, like any other record.
    """

    __slots__ = ("_body", "_parser", "ended", "provider")

    def __init__(self, provider: str) -> None:
        self._parser = SSEParser()
        self._body: list[bytes] | None = None  # the pieces of a body that is not SSE
        self.provider = provider
        self.ended = False

    def start(self, content_type: str) -> None:
        """A body of another type than ``text/event-stream`` is kept whole, for :meth:`close`."""
        if "text/event-stream" not in content_type:
            self._body = []

    def feed(self, item: bytes) -> list[Record]:
        """The records of the events that one read completes (none after ``[DONE]``)."""
        if self._body is not None:
            self._body.append(item)
            return _NOTHING
        return self._records(self._parser.feed(item))

    def close(self) -> list[Record]:
        """End of body: a body that was not SSE is one data event (its lines joined by LF)."""
        self._parser.close()
        if self._body is None:
            return _NOTHING
        body = b"\n".join(b"".join(self._body).splitlines())
        return self._records([("", body.decode("utf-8", errors="replace"))])

    def _records(self, events: list[tuple[str, str]]) -> list[Record]:
        out: list[Record] = []
        for name, data in events:
            record = decode_sse_event(name, data, provider=self.provider)
            if isinstance(record, Record):
                out.append(record)
            elif record is DONE:
                self.ended = True
                break
        return out


class NulFraming:
    """NUL-delimited JSON byte stream -> records (strings holding JSON decoded twice).

    Bytes are buffered and cut only at NUL bytes before any UTF-8 decoding, so a
    multi-byte character split across network chunks survives. Empty records
    (such as the one after a trailing NUL, or a lone NUL sent to keep the
    connection alive) are skipped. The protocol has no terminal record: the
    stream ends with the body.
    """

    __slots__ = ("_buffer", "provider")
    ended: ClassVar[bool] = False

    def __init__(self, provider: str) -> None:
        self._buffer = bytearray()
        self.provider = provider

    def start(self, content_type: str) -> None:
        """Every body is read as NUL-delimited records, whatever its declared type."""

    def feed(self, item: bytes) -> list[Record]:
        """The records that one network read completes."""
        if b"\0" not in item:  # the middle of a record: nothing to decode yet
            self._buffer += item
            return _NOTHING
        # Split inline (paid for every record): the buffer itself, with no copy to bytes.
        raws: Sequence[bytes | bytearray]
        if self._buffer:
            self._buffer += item
            *raws, self._buffer = self._buffer.split(b"\0")
        else:
            *raws, rest = item.split(b"\0")
            self._buffer = bytearray(rest)
        out: list[Record] = []
        for raw in raws:  # a loop, not a comprehension: one frame less per read
            if raw and not raw.isspace():
                out.append(_nul_record(raw, self.provider))
        return out

    def close(self) -> list[Record]:
        """End of stream: leftover bytes are a record cut off mid-way."""
        if self._buffer.strip():
            raw = self._buffer.decode("utf-8", errors="replace")
            raise MalformedRecordError(
                f"{self.provider} stream ended inside a record (no closing NUL): {raw[:200]!r}",
                provider=self.provider,
                raw_record=raw,
            )
        return _NOTHING

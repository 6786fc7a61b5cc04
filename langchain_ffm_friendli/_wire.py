"""Stream framing: turn what the transport reads into decoded JSON records.

Pure code only (no I/O). Two framings, one shape (``feed(item) -> records``,
``close()``), so the stream driver and every decoder are the same whatever the
wire:

- :class:`SSEFraming`: the events ``httpx-sse`` parses from the socket. It
  decides which carry data, which are keep-alives to skip (``event: ping`` with
  a bare timestamp, ``: ping`` comments, which httpx-sse already drops), which
  end the stream (``[DONE]``) and which are errors inside a 200 stream.
- :class:`NulFraming`: raw bytes holding NUL-terminated JSON records
  (MonsterAPI's ``/generate``), split before UTF-8 decoding.

Provider ``_protocol.py`` modules see only :class:`Record` values.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol

from langchain_ffm_friendli.errors import (
    MalformedRecordError,
    ProviderError,
    error_for_status,
    provider_message,
)

if TYPE_CHECKING:
    from httpx_sse import ServerSentEvent

__all__ = [
    "DONE",
    "Done",
    "Framing",
    "NulFraming",
    "NulRecordSplitter",
    "Record",
    "SSEFraming",
    "decode_json_bytes",
    "decode_json_record",
    "decode_sse_event",
    "record_shape",
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

_SKIPPED_EVENTS: Final = frozenset({"ping", "keepalive", "keep-alive", "heartbeat"})


def decode_sse_event(event: ServerSentEvent, *, provider: str) -> Record | Done | None:
    """Classify one SSE event.

    Returns None for events to skip (keep-alive pings, empty events), ``DONE`` for
    the end-of-stream sentinel, or a :class:`Record`. Raises a typed error for an
    error record (``{"error": ..., "status_code": ...}`` or ``event: error``) and
    :class:`MalformedRecordError` for a data event that is not JSON, because
    silently skipping it could truncate the answer without anyone noticing.
    """
    name = event.event
    if name == "message":
        name = ""
    if name.lower() in _SKIPPED_EVENTS:
        return None
    data = event.data
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
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedRecordError(
            f"{provider} stream record is not valid JSON ({exc.msg}): {raw[:200]!r}",
            provider=provider,
            raw_record=raw,
        ) from None
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


_SHAPE_ERRORS: Final = (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError)


class _RecordShape:
    """The context manager behind :func:`record_shape`.

    A plain class rather than ``contextlib.contextmanager``: it wraps every
    stream record, and a generator-based context manager costs several times more.
    """

    __slots__ = ("provider", "raw")

    def __init__(self, raw: str, provider: str) -> None:
        self.raw = raw
        self.provider = provider

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, ProviderError) or not isinstance(exc, _SHAPE_ERRORS):
            return
        raw, provider = self.raw, self.provider
        raise MalformedRecordError(
            f"{provider} stream record has an unexpected shape "
            f"({type(exc).__name__}: {exc}): {raw[:200]!r}",
            provider=provider,
            raw_record=raw,
        ) from exc


def record_shape(raw: str, *, provider: str) -> AbstractContextManager[None]:
    """Report a record whose JSON has an unexpected shape as a malformed record.

    Decoders read records as the protocol documents them (``choices`` a list of
    objects, token counts numbers...). A record of another shape makes them fail
    with a TypeError, AttributeError or ValueError; this turns that failure into
    :class:`MalformedRecordError` carrying the raw record, so a stream never
    breaks with an untyped exception.
    """
    return _RecordShape(raw, provider)


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


class NulRecordSplitter:
    """Split a byte stream into NUL-terminated records, whatever the chunking.

    Bytes are buffered and cut only at NUL bytes before any UTF-8 decoding, so a
    multi-byte character split across network chunks survives. Empty records
    (such as the one after a trailing NUL) are skipped.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return the records they complete."""
        self._buffer += data
        if b"\0" not in data:
            return []
        *records, rest = bytes(self._buffer).split(b"\0")
        self._buffer = bytearray(rest)
        return [r for r in records if r.strip()]

    def close(self, *, provider: str) -> None:
        """End of stream: leftover bytes are a record cut off mid-way."""
        if bytes(self._buffer).strip():
            raw = bytes(self._buffer).decode("utf-8", errors="replace")
            raise MalformedRecordError(
                f"{provider} stream ended inside a record (no closing NUL): {raw[:200]!r}",
                provider=provider,
                raw_record=raw,
            )


def decode_json_bytes(raw: bytes, *, provider: str) -> Any:
    """Decode one NUL-delimited record (any JSON value; strings decoded twice).

    Raises :class:`MalformedRecordError` for bytes that are not UTF-8 JSON, and
    a typed error for an error record (``{"error": ...}`` / ``{"detail": ...}``).
    """
    text = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            value = json.loads(value)  # Monster Deploy's double-encoded JSON
    except json.JSONDecodeError as exc:
        raise MalformedRecordError(
            f"{provider} stream record is not valid JSON ({exc.msg}): {text[:200]!r}",
            provider=provider,
            raw_record=text,
        ) from None
    if isinstance(value, dict) and (value.get("error") or value.get("detail")):
        raise _in_stream_error(provider, value, text)
    return value


class Framing(Protocol):
    """Cuts what the transport reads into records; ``source`` says what it reads."""

    source: ClassVar[Literal["events", "bytes"]]

    def feed(self, item: Any) -> list[Record | Done]:
        """The records (and the end marker) that one transport item completes."""
        ...

    def close(self) -> None:
        """End of input: raise if it stopped inside a record."""
        ...


_NOTHING: Final[list[Record | Done]] = []


class SSEFraming:
    """Server-Sent Events -> records (pings skipped, ``[DONE]`` as :data:`DONE`)."""

    __slots__ = ("provider",)
    source: ClassVar[Literal["events", "bytes"]] = "events"

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def feed(self, item: ServerSentEvent) -> list[Record | Done]:
        """At most one record per event."""
        record = decode_sse_event(item, provider=self.provider)
        return _NOTHING if record is None else [record]

    def close(self) -> None:
        """SSE events arrive whole: nothing can be left over."""


class NulFraming:
    """NUL-delimited JSON byte stream -> records (strings holding JSON decoded twice)."""

    __slots__ = ("provider", "splitter")
    source: ClassVar[Literal["events", "bytes"]] = "bytes"

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.splitter = NulRecordSplitter()

    def feed(self, item: bytes) -> list[Record | Done]:
        """The records that one network read completes."""
        out: list[Record | Done] = []
        for raw in self.splitter.feed(item):
            value = decode_json_bytes(raw, provider=self.provider)
            out.append(Record("", value, raw.decode("utf-8", errors="replace")))
        return out

    def close(self) -> None:
        """Leftover bytes at the end are a record cut off mid-way."""
        self.splitter.close(provider=self.provider)

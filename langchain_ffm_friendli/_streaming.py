"""One stream driver for every class: transport reads in, LangChain chunks out.

The work per read is pure and shared by sync and async: :class:`StreamRun`
feeds the read to a :class:`~langchain_ffm_friendli._wire.Framing` (bytes to
records), each record to a :class:`Decoder` (records to
:class:`~langchain_ffm_friendli._deltas.Delta` values), and each delta to a chunk
function; it knows when the stream has ended (its protocol's terminal record,
the client's stop, or the end of the body). :func:`drive` and :func:`adrive`
only do what differs: iterating the reads, the callbacks, and giving the
connection back (or closing it) when the consumer leaves.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, Generic, Protocol, TypeVar

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk

from langchain_ffm_friendli._deltas import CustomEvent, Delta, stamp_request_id
from langchain_ffm_friendli._events import adispatch, dispatch
from langchain_ffm_friendli._transport import Exchange, Progress
from langchain_ffm_friendli._wire import SHAPE_ERRORS, Framing, Record, shape_error
from langchain_ffm_friendli.errors import ProviderError

__all__ = ["Decoder", "Guard", "StreamRun", "adrive", "drive"]

Chunk = TypeVar("Chunk", ChatGenerationChunk, GenerationChunk)

Guard = Callable[[Progress], AbstractContextManager[None]]
"""Finishes the errors leaving a stream (the transport's ``guard`` for its call)."""


class Decoder(Protocol):
    """A provider's stream decoding, in the shape of h11: records in, deltas out."""

    @property
    def text(self) -> str:
        """Text delivered so far (carried by errors as ``partial_text``)."""
        ...

    @property
    def done(self) -> bool:
        """True when the client wants no more (a stop sequence): the stream is closed."""
        ...

    @property
    def ended(self) -> bool:
        """True once the protocol's terminal record arrived (FFM's final record)."""
        ...

    def feed(self, record: Record) -> list[Delta]:
        """Decode one record."""
        ...

    def close(self) -> list[Delta]:
        """End of stream: flush held-back text; raise if the stream is incomplete."""
        ...


class StreamRun(Generic[Chunk]):
    """One stream's pure state: reads in, (custom event, chunk) pairs out.

    It stamps the server's request id on the first chunk, counts the chunks,
    tells the call's deadline when content arrives, and marks the call
    complete when the protocol's terminal record arrived (so the transport
    may read the rest of the body briefly and reuse the connection).

    Attributes:
        ended: nothing more is to be read (terminal record, client's stop, end of body).
        chunks: chunks produced so far.
    """

    __slots__ = (
        "chunks",
        "decoder",
        "ended",
        "exchange",
        "framing",
        "make",
        "provider",
        "started",
    )

    def __init__(
        self,
        framing: Framing,
        decoder: Decoder,
        make: Callable[[Delta], Chunk],
        exchange: Exchange,
        provider: str,
    ) -> None:
        self.framing = framing
        self.decoder = decoder
        self.make: Callable[[Delta], Chunk] = make
        self.exchange = exchange
        self.provider = provider
        self.ended = False
        self.started = False
        self.chunks = 0

    @property
    def text(self) -> str:
        """The text delivered so far."""
        return self.decoder.text

    def step(self, item: bytes | None) -> list[tuple[CustomEvent | None, Chunk]]:
        """What one read of the body (None: the end of the body) gives the caller."""
        framing, decoder = self.framing, self.decoder
        if not self.started:
            self.started = True
            framing.start(self.exchange.content_type)
        out = self._decode(framing.close() if item is None else framing.feed(item))
        if out and self.exchange.deadline is not None:
            self.exchange.deadline.content()
        if item is None or decoder.done or decoder.ended or framing.ended:
            self.exchange.complete = not decoder.done
            self.ended = True
            self._emit(decoder.close(), out)
        return out

    def _decode(self, records: list[Record]) -> list[tuple[CustomEvent | None, Chunk]]:
        """The chunks of ``records``, up to where the decoder wants no more."""
        out: list[tuple[CustomEvent | None, Chunk]] = []
        decoder = self.decoder
        for record in records:
            try:
                deltas = decoder.feed(record)
            except ProviderError:
                raise
            except SHAPE_ERRORS as exc:
                raise shape_error(record.raw, exc, provider=self.provider) from exc
            if deltas:
                self._emit(deltas, out)
            if decoder.done or decoder.ended:
                break
        return out

    def _emit(self, deltas: list[Delta], out: list[tuple[CustomEvent | None, Chunk]]) -> None:
        for delta in deltas:
            chunk = self.make(delta)
            if not self.chunks:
                stamp_request_id(chunk, self.exchange.request_id)
            self.chunks += 1
            out.append((delta.event, chunk))


def drive(
    items: Iterator[bytes],
    run: StreamRun[Chunk],
    run_manager: CallbackManagerForLLMRun | None,
    guard: Guard,
) -> Iterator[Chunk]:
    """Run a sync stream: yield chunks, fire callbacks, close the source on exit."""
    try:
        with guard(run):
            for item in items:
                for event, chunk in run.step(item):
                    if event is not None or run_manager is not None:
                        _notify(run_manager, event, chunk)
                    yield chunk
                if run.ended:
                    break
            else:
                for event, chunk in run.step(None):
                    if event is not None or run_manager is not None:
                        _notify(run_manager, event, chunk)
                    yield chunk
    finally:
        close: Any = getattr(items, "close", None)
        if close is not None:
            close()


async def adrive(
    items: AsyncIterator[bytes],
    run: StreamRun[Chunk],
    run_manager: AsyncCallbackManagerForLLMRun | None,
    guard: Guard,
) -> AsyncGenerator[Chunk, None]:
    """Async :func:`drive`."""
    try:
        with guard(run):
            async for item in items:
                for event, chunk in run.step(item):
                    if event is not None or run_manager is not None:
                        await _anotify(run_manager, event, chunk)
                    yield chunk
                if run.ended:
                    break
            else:
                for event, chunk in run.step(None):
                    if event is not None or run_manager is not None:
                        await _anotify(run_manager, event, chunk)
                    yield chunk
    finally:
        aclose: Any = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()


def _notify(
    run_manager: CallbackManagerForLLMRun | None, event: CustomEvent | None, chunk: Chunk
) -> None:
    """The custom event (before its chunk), then the token callback."""
    if event is not None:
        dispatch(event, run_manager)
    if run_manager is not None:
        run_manager.on_llm_new_token(chunk.text, chunk=chunk)


async def _anotify(
    run_manager: AsyncCallbackManagerForLLMRun | None, event: CustomEvent | None, chunk: Chunk
) -> None:
    """Async :func:`_notify`."""
    if event is not None:
        await adispatch(event, run_manager)
    if run_manager is not None:
        await run_manager.on_llm_new_token(chunk.text, chunk=chunk)

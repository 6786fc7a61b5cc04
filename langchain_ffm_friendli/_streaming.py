"""One stream driver for every class: transport items in, LangChain chunks out.

The pieces it joins are pure: a :class:`~langchain_ffm_friendli._wire.Framing`
cuts transport items into records, a :class:`Decoder` turns records into
:class:`~langchain_ffm_friendli._deltas.Delta` values, and a chunk function
makes the LangChain chunk. The driver does the rest the same way everywhere:
callbacks, custom events, the partial text stamped on errors, stopping early,
and giving the connection back (or closing it) when the consumer leaves.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any, Protocol, TypeVar

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk

from langchain_ffm_friendli._deltas import Delta
from langchain_ffm_friendli._events import adispatch, dispatch
from langchain_ffm_friendli._wire import DONE, SHAPE_ERRORS, Framing, Record, shape_error
from langchain_ffm_friendli.errors import ProviderError, attach_partial_text

__all__ = ["Decoder", "adrive", "drive"]

Chunk = TypeVar("Chunk", ChatGenerationChunk, GenerationChunk)


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

    def feed(self, record: Record) -> list[Delta]:
        """Decode one record."""
        ...

    def close(self) -> list[Delta]:
        """End of stream: flush held-back text; raise if the stream is incomplete."""
        ...


# After the end marker a server sends only the end of the body; a few items at
# most are read (and ignored) so that the connection can be reused, as the
# OpenAI SDK does. Anything longer is not worth waiting for: the connection is
# closed instead.
_TAIL_ITEMS = 16


def _drain(items: Iterator[Any]) -> None:
    """Read what follows the end marker; errors there cannot affect the answer."""
    with contextlib.suppress(ProviderError):
        for count, _ in enumerate(items, 1):
            if count >= _TAIL_ITEMS:
                return


async def _adrain(items: AsyncIterator[Any]) -> None:
    """Async :func:`_drain`."""
    with contextlib.suppress(ProviderError):
        count = 0
        async for _ in items:
            count += 1
            if count >= _TAIL_ITEMS:
                return


def drive(
    items: Iterator[Any],
    framing: Framing,
    decoder: Decoder,
    run_manager: CallbackManagerForLLMRun | None,
    make: Callable[[Delta], Chunk],
) -> Iterator[Chunk]:
    """Run a sync stream: yield chunks, fire callbacks, close the source on exit."""
    provider = getattr(framing, "provider", "")
    try:
        with attach_partial_text(lambda: decoder.text):
            ended = False
            for item in items:
                for record in framing.feed(item):
                    if record is DONE:
                        ended = True
                        break
                    try:
                        deltas = decoder.feed(record)  # type: ignore[arg-type]
                    except ProviderError:
                        raise
                    except SHAPE_ERRORS as exc:
                        raise shape_error(record.raw, exc, provider=provider) from exc  # type: ignore[union-attr]
                    for delta in deltas:
                        if delta.event is not None:
                            dispatch(delta.event, run_manager)
                        chunk = make(delta)
                        if run_manager:
                            run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                        yield chunk
                if ended:
                    _drain(items)
                    break
                if decoder.done:
                    break
            else:
                framing.close()
            for delta in decoder.close():
                chunk = make(delta)
                if run_manager:
                    run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


async def adrive(
    items: AsyncIterator[Any],
    framing: Framing,
    decoder: Decoder,
    run_manager: AsyncCallbackManagerForLLMRun | None,
    make: Callable[[Delta], Chunk],
) -> AsyncGenerator[Chunk, None]:
    """Async :func:`drive`."""
    provider = getattr(framing, "provider", "")
    try:
        with attach_partial_text(lambda: decoder.text):
            ended = False
            async for item in items:
                for record in framing.feed(item):
                    if record is DONE:
                        ended = True
                        break
                    try:
                        deltas = decoder.feed(record)  # type: ignore[arg-type]
                    except ProviderError:
                        raise
                    except SHAPE_ERRORS as exc:
                        raise shape_error(record.raw, exc, provider=provider) from exc  # type: ignore[union-attr]
                    for delta in deltas:
                        if delta.event is not None:
                            await adispatch(delta.event, run_manager)
                        chunk = make(delta)
                        if run_manager:
                            await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                        yield chunk
                if ended:
                    await _adrain(items)
                    break
                if decoder.done:
                    break
            else:
                framing.close()
            for delta in decoder.close():
                chunk = make(delta)
                if run_manager:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()

"""One stream driver for every class: transport items in, LangChain chunks out.

Each provider supplies a :class:`StreamSteps` (pure: it turns one transport item,
an SSE event or a byte chunk, into chunks); the driver does the rest the same
way everywhere: callbacks, custom events, the partial text stamped on errors,
stopping early, and closing the connection when the consumer leaves.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID, uuid4

from httpx_sse import ServerSentEvent
from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.callbacks.manager import (
    AsyncCallbackManager,
    CallbackManager,
    adispatch_custom_event,
    ahandle_event,
    dispatch_custom_event,
    handle_event,
)
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk
from langchain_core.runnables import RunnableConfig, ensure_config

from langchain_ffm_friendli._openai_format import generation_chunks
from langchain_ffm_friendli._wire import Done, Record, decode_sse_event, record_shape
from langchain_ffm_friendli.errors import ProviderError, attach_partial_text

__all__ = [
    "CustomEvent",
    "CustomEventsMixin",
    "SSEChatSteps",
    "SSETextSteps",
    "StreamSteps",
    "adrive",
    "drive",
]

# LangChain's stream()/astream() do not hand _stream/_astream a run manager, so
# models that emit custom events record the run's config and id here first.
_RUN: ContextVar[tuple[RunnableConfig, UUID] | None] = ContextVar(
    "langchain_ffm_friendli_run", default=None
)


class CustomEventsMixin:
    """Lets ``stream``/``astream`` dispatch custom events under the model's own run.

    It gives the run a known id and records the config for the duration of the
    stream; :func:`drive` and :func:`adrive` use it when no run manager is given.
    """

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Stream, with custom events attributed to this run."""
        config = ensure_config(config)
        run_id = config.get("run_id") or uuid4()
        config["run_id"] = run_id
        token = _RUN.set((config, run_id))
        try:
            yield from super().stream(input, dict(config), **kwargs)  # type: ignore[misc]
        finally:
            _reset(token)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """Async :meth:`stream`."""
        config = ensure_config(config)
        run_id = config.get("run_id") or uuid4()
        config["run_id"] = run_id
        token = _RUN.set((config, run_id))
        try:
            async for chunk in super().astream(input, dict(config), **kwargs):  # type: ignore[misc]
                yield chunk
        finally:
            _reset(token)


def _reset(token: Token[Any]) -> None:
    try:
        _RUN.reset(token)
    except ValueError:  # closed from another context (e.g. an async generator finalizer)
        _RUN.set(None)


def _dispatch(event: CustomEvent) -> None:
    run = _RUN.get()
    if run is None:
        # Implicit streaming (agents, astream_events on invoke) runs _stream
        # without a run manager: use the ambient runnable config, if any.
        with contextlib.suppress(RuntimeError):  # no parent run: nobody listens
            dispatch_custom_event(event.name, event.data)
        return
    config, run_id = run
    manager = CallbackManager.configure(config.get("callbacks"), None, False, config.get("tags"))
    manager.on_custom_event(event.name, event.data, run_id=run_id)


async def _adispatch(event: CustomEvent) -> None:
    run = _RUN.get()
    if run is None:
        with contextlib.suppress(RuntimeError):  # no parent run: nobody listens
            await adispatch_custom_event(event.name, event.data)
        return
    config, run_id = run
    manager = AsyncCallbackManager.configure(
        config.get("callbacks"), None, False, config.get("tags")
    )
    await manager.on_custom_event(event.name, event.data, run_id=run_id)


Chunk = ChatGenerationChunk | GenerationChunk


@dataclass(frozen=True, slots=True)
class CustomEvent:
    """A LangChain custom event to dispatch (e.g. Friendli's ``tool_status``)."""

    name: str
    data: Any


class StreamSteps(Protocol):
    """A provider's pure stream decoding, driven by :func:`drive` / :func:`adrive`."""

    @property
    def text(self) -> str:
        """Text delivered so far (carried by errors as ``partial_text``)."""
        ...

    @property
    def done(self) -> bool:
        """True once the stream has said everything (stop reading)."""
        ...

    @property
    def ended(self) -> bool:
        """True when ``done`` because the server marked the end (e.g. ``[DONE]``).

        The few bytes after the marker are then read, so the connection goes
        back to the pool; when ``done`` for a client-side reason (a stop
        sequence), the connection is closed instead.
        """
        ...

    def step(self, item: Any) -> Sequence[Chunk | CustomEvent]:
        """Decode one transport item."""
        ...

    def finish(self) -> Sequence[Chunk]:
        """End of stream: flush held-back text; raise if the stream is incomplete."""
        ...


def _notify_args(run_manager: Any, event: CustomEvent) -> tuple[Any, ...]:
    return (run_manager.handlers, "on_custom_event", "ignore_custom_event", event.name, event.data)


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
    steps: StreamSteps,
    run_manager: CallbackManagerForLLMRun | None,
) -> Iterator[Any]:
    """Run a sync stream: yield chunks, fire callbacks, close the source on exit."""
    try:
        with attach_partial_text(lambda: steps.text):
            for item in items:
                for out in steps.step(item):
                    if isinstance(out, CustomEvent):
                        if run_manager:
                            handle_event(
                                *_notify_args(run_manager, out),
                                run_id=run_manager.run_id,
                                tags=run_manager.tags,
                                metadata=run_manager.metadata,
                            )
                        else:
                            _dispatch(out)
                        continue
                    if run_manager:
                        run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
                if steps.done:
                    if steps.ended:
                        _drain(items)
                    break
            for out in steps.finish():
                if run_manager:
                    run_manager.on_llm_new_token(out.text, chunk=out)
                yield out
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


async def adrive(
    items: AsyncIterator[Any],
    steps: StreamSteps,
    run_manager: AsyncCallbackManagerForLLMRun | None,
) -> AsyncGenerator[Any, None]:
    """Async :func:`drive`."""
    try:
        with attach_partial_text(lambda: steps.text):
            async for item in items:
                for out in steps.step(item):
                    if isinstance(out, CustomEvent):
                        if run_manager:
                            await ahandle_event(
                                *_notify_args(run_manager, out),
                                run_id=run_manager.run_id,
                                tags=run_manager.tags,
                                metadata=run_manager.metadata,
                            )
                        else:
                            await _adispatch(out)
                        continue
                    if run_manager:
                        await run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
                if steps.done:
                    if steps.ended:
                        await _adrain(items)
                    break
            for out in steps.finish():
                if run_manager:
                    await run_manager.on_llm_new_token(out.text, chunk=out)
                yield out
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()


class _ChunkDecoder(Protocol):
    text: str

    def feed(self, record: Any) -> list[AIMessageChunk]: ...

    def close(self) -> None: ...


class _TextDecoder(_ChunkDecoder, Protocol):
    def plain_text(self, record: Any) -> str | None: ...


class SSEChatSteps:
    """SSE events -> chat chunks, through a record decoder (FFM's or OpenAI's).

    ``named`` maps an SSE event name (e.g. Friendli's ``tool_status``) to a
    handler that turns its record into outputs of its own.
    """

    def __init__(
        self,
        decoder: _ChunkDecoder,
        provider: str,
        named: dict[str, Callable[[dict[str, Any]], list[Any]]] | None = None,
    ) -> None:
        self.decoder = decoder
        self.provider = provider
        self.named = named or {}
        self.done = False

    @property
    def text(self) -> str:
        """Text delivered so far."""
        return self.decoder.text

    @property
    def ended(self) -> bool:
        """Only ``[DONE]`` makes an SSE stream done: the server's end marker."""
        return self.done

    def records(self, event: ServerSentEvent) -> Record | None:
        """The record an event carries (None to skip); ``[DONE]`` marks the end."""
        record = decode_sse_event(event, provider=self.provider)
        if isinstance(record, Done):
            self.done = True
            return None
        return record

    def step(self, item: ServerSentEvent) -> list[Any]:
        """Chunks (and custom events) for one SSE event."""
        record = self.records(item)
        if record is None:
            return []
        with record_shape(record.raw, provider=self.provider):
            if record.event in self.named:
                return self.named[record.event](record.data)
            return generation_chunks(self.decoder.feed(record.data))

    def finish(self) -> list[Any]:
        """Raise if the stream never sent its final record."""
        self.decoder.close()
        return []


class SSETextSteps(SSEChatSteps):
    """SSE events -> text (LLM) chunks; ``info`` builds the final chunk's generation_info."""

    def __init__(
        self,
        decoder: _TextDecoder,
        provider: str,
        info: Callable[[AIMessageChunk], dict[str, Any] | None],
    ) -> None:
        super().__init__(decoder, provider)
        self.text_decoder = decoder
        self.info = info

    def step(self, item: ServerSentEvent) -> list[Any]:
        """Text chunks for one SSE event.

        Plain text records (most of them) skip the message chunk the chat path
        needs: they carry no metadata for ``info`` to read.
        """
        record = self.records(item)
        if record is None:
            return []
        with record_shape(record.raw, provider=self.provider):
            text = self.text_decoder.plain_text(record.data)
            if text is not None:
                return [GenerationChunk(text=text)] if text else []
            return [
                GenerationChunk(text=str(c.content), generation_info=self.info(c))
                for c in self.decoder.feed(record.data)
            ]

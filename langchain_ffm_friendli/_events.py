"""Custom events (e.g. Friendli's ``tool_status``) delivered under the model's own run.

LangChain's ``stream()``/``astream()`` do not hand ``_stream``/``_astream`` a run
manager, so a model that emits custom events records the run's config and id
for the duration of the stream; the stream driver dispatches through it, or
through the ambient runnable config when there is none (agents, implicit
streaming), or through the run manager when LangChain gives one.

Inside a LangGraph node each event also goes to the graph's stream writer, as
``{event.name: event.data}`` (e.g. ``{"tool_status": {...}}``), so
``graph.stream(..., stream_mode="custom")`` shows it too. LangGraph is optional:
without it, or outside a graph, nothing is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar, Token
from typing import Any
from uuid import UUID, uuid4

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
from langchain_core.runnables import RunnableConfig, ensure_config

from langchain_ffm_friendli._deltas import CustomEvent

__all__ = ["CustomEventsMixin", "adispatch", "dispatch"]

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


def _dispatch_in_current_run(event: CustomEvent) -> None:
    run = _RUN.get()
    if run is None:
        # Implicit streaming (agents, astream_events on invoke) runs _stream
        # without a run manager: use the ambient runnable config, if any.
        with contextlib.suppress(RuntimeError):  # no parent run: nobody listens
            dispatch_custom_event(event.name, event.data)
        return
    config, run_id = run
    manager = CallbackManager.configure(
        config.get("callbacks"), verbose=False, inheritable_tags=config.get("tags")
    )
    manager.on_custom_event(event.name, event.data, run_id=run_id)


async def _adispatch_in_current_run(event: CustomEvent) -> None:
    run = _RUN.get()
    if run is None:
        with contextlib.suppress(RuntimeError):  # no parent run: nobody listens
            await adispatch_custom_event(event.name, event.data)
        return
    config, run_id = run
    manager = AsyncCallbackManager.configure(
        config.get("callbacks"), verbose=False, inheritable_tags=config.get("tags")
    )
    await manager.on_custom_event(event.name, event.data, run_id=run_id)


def _write_to_graph(event: CustomEvent) -> None:
    """Hand the event to the enclosing LangGraph node's stream writer, if there is one.

    ``get_stream_writer`` raises ``RuntimeError`` outside any runnable and
    ``KeyError`` inside a runnable that is not a graph node; both mean that no
    graph listens. LangGraph is imported here because it is an optional extra.
    """
    try:
        from langgraph.config import get_stream_writer

        writer = get_stream_writer()
    except (ImportError, RuntimeError, KeyError):
        return
    writer({event.name: event.data})


def _notify_args(run_manager: Any, event: CustomEvent) -> tuple[Any, ...]:
    return (run_manager.handlers, "on_custom_event", "ignore_custom_event", event.name, event.data)


def dispatch(event: CustomEvent, run_manager: CallbackManagerForLLMRun | None) -> None:
    """Deliver a custom event to the run's handlers (and a LangGraph node's writer)."""
    _write_to_graph(event)
    if run_manager is None:
        _dispatch_in_current_run(event)
        return
    handle_event(
        *_notify_args(run_manager, event),
        run_id=run_manager.run_id,
        tags=run_manager.tags,
        metadata=run_manager.metadata,
    )


async def adispatch(event: CustomEvent, run_manager: AsyncCallbackManagerForLLMRun | None) -> None:
    """Async :func:`dispatch`."""
    _write_to_graph(event)
    if run_manager is None:
        await _adispatch_in_current_run(event)
        return
    await ahandle_event(
        *_notify_args(run_manager, event),
        run_id=run_manager.run_id,
        tags=run_manager.tags,
        metadata=run_manager.metadata,
    )

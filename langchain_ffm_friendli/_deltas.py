"""What a stream decoder says, in neutral terms, and the two ways LangChain wants it.

Decoders (one per wire format, in the provider ``_protocol.py`` modules) know
nothing of LangChain's chunk classes: they return :class:`Delta` values. One
function turns a delta into a chat chunk and one into a text (LLM) chunk, so the
rules LangChain's chunk merging depends on (usage and metadata on exactly one
chunk, finish reason mirrored into ``generation_info``) live in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import ToolCallChunk
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
)

__all__ = [
    "CustomEvent",
    "DeliveredText",
    "Delta",
    "TextResult",
    "chat_chunk",
    "stamp_request_id",
    "text_chunk",
    "usage_metadata",
    "with_request_id",
]


@dataclass(frozen=True, slots=True)
class CustomEvent:
    """A LangChain custom event to dispatch (e.g. Friendli's ``tool_status``)."""

    name: str
    data: Any


@dataclass(slots=True)
class Delta:
    """One step of a stream, whatever the provider.

    Attributes:
        text: answer text to append.
        tool_calls: tool-call fragments (merged by LangChain by ``index``).
        usage: token usage (sent once, on the chunk that carries it).
        metadata: response metadata (finish reason, model name, ...), once.
        extra: ``additional_kwargs`` (reasoning text, tool status, ...).
        info: ``generation_info`` for text (LLM) chunks, in the provider's names.
        event: a custom event to dispatch before the chunk is emitted.
        last: the final chunk (``chunk_position="last"``).
    """

    text: str = ""
    tool_calls: list[ToolCallChunk] | None = None
    usage: UsageMetadata | None = None
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None
    info: dict[str, Any] | None = None
    event: CustomEvent | None = None
    last: bool = False


class DeliveredText:
    """The text a stream decoder has delivered, kept as pieces.

    Appending to a ``str`` attribute copies the whole text every time (the
    in-place concatenation shortcut works for local variables only), which
    makes a long answer's per-event cost grow with its length. Pieces cost
    each event the same; the text is joined only when asked for (by an error,
    or once at the end).
    """

    __slots__ = ()
    _pieces: list[str]

    @property
    def text(self) -> str:
        """Everything delivered so far (what an error carries as ``partial_text``)."""
        return "".join(self._pieces)


@dataclass(frozen=True, slots=True)
class TextResult:
    """The generations of one prompt and the usage they cost (None when not sent)."""

    generations: list[Generation]
    usage: UsageMetadata | None = None


_INFO_KEYS = ("finish_reason", "logprobs")


def chat_chunk(delta: Delta) -> ChatGenerationChunk:
    """The chat chunk for a delta; finish_reason and logprobs are also generation_info."""
    if (
        delta.tool_calls is None
        and delta.usage is None
        and delta.metadata is None
        and delta.extra is None
        and not delta.last
    ):
        return ChatGenerationChunk(message=AIMessageChunk(content=delta.text))  # plain text
    meta = delta.metadata or {}
    message = AIMessageChunk(
        content=delta.text,
        tool_call_chunks=delta.tool_calls or [],
        usage_metadata=delta.usage,
        response_metadata=meta,
        additional_kwargs=delta.extra or {},
        chunk_position="last" if delta.last else None,
    )
    info = {k: meta[k] for k in _INFO_KEYS if k in meta}
    return ChatGenerationChunk(message=message, generation_info=info or None)


def text_chunk(delta: Delta) -> GenerationChunk:
    """The text (LLM) chunk for a delta: its text and provider-named generation_info."""
    return GenerationChunk(text=delta.text, generation_info=delta.info)


def stamp_request_id(chunk: ChatGenerationChunk | GenerationChunk, request_id: str | None) -> bool:
    """Put the server's request id on the first chunk of a stream (once: merging joins strings).

    Chat chunks carry it in ``response_metadata``, text chunks in
    ``generation_info``. Returns False, so the caller stamps only once.
    """
    if request_id is not None:
        if isinstance(chunk, ChatGenerationChunk):
            chunk.message.response_metadata = {
                **chunk.message.response_metadata,
                "request_id": request_id,
            }
        else:
            chunk.generation_info = {**(chunk.generation_info or {}), "request_id": request_id}
    return False


def with_request_id(generations: Sequence[Generation], request_id: str | None) -> None:
    """Put the server's request id on each generation of a non-stream answer."""
    if request_id is None:
        return
    for generation in generations:
        if isinstance(generation, ChatGeneration):
            generation.message.response_metadata["request_id"] = request_id
        else:
            generation.generation_info = {
                **(generation.generation_info or {}),
                "request_id": request_id,
            }


def usage_metadata(
    input_tokens: Any, output_tokens: Any, total_tokens: Any = None
) -> UsageMetadata | None:
    """LangChain usage metadata from provider counts (None when none were sent)."""
    if input_tokens is None and output_tokens is None:
        return None
    inp = int(input_tokens or 0)
    out = int(output_tokens or 0)
    total = int(total_tokens) if total_tokens is not None else inp + out
    return UsageMetadata(input_tokens=inp, output_tokens=out, total_tokens=total)

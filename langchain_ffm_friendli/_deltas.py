"""What a stream decoder says, in neutral terms, and the two ways LangChain wants it.

Decoders (one per wire format, in the provider ``_protocol.py`` modules) know
nothing of LangChain's chunk classes: they return :class:`Delta` values. One
function turns a delta into a chat chunk and one into a text (LLM) chunk, so the
rules LangChain's chunk merging depends on (usage and metadata on exactly one
chunk, finish reason mirrored into ``generation_info``) live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import ToolCallChunk
from langchain_core.outputs import ChatGenerationChunk, Generation, GenerationChunk

__all__ = ["CustomEvent", "Delta", "TextResult", "chat_chunk", "text_chunk"]


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

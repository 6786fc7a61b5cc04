"""LangChain messages as OpenAI-style message dicts (content parts, media, reasoning, tool calls).

FFM's Conversation API, Friendli's chat completions and MonsterAPI's chat route
all take OpenAI-style messages, with differences the caller states (media parts
and replayed reasoning only where the provider takes them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolMessage,
)

from langchain_ffm_friendli._openai.tools import new_tool_call_id
from langchain_ffm_friendli.errors import InvalidParameterError

__all__ = [
    "MEDIA_PARTS",
    "content_to_parts",
    "content_to_text",
    "media_part",
    "media_url",
    "message_to_dict",
    "messages_to_dicts",
    "reasoning_text",
]

# Content blocks that duplicate information already carried by ``tool_calls``
# (Anthropic-style histories), that hold only model-internal reasoning (sent, where
# the provider takes it, as the assistant's ``reasoning_content``: see ``reasoning_text``),
# or that record tools the server ran itself (Friendli built-in tools under
# ``output_version="v1"``: the answer text already says what they found, and the
# chat API has no field to replay them).
_REDUNDANT_BLOCKS = frozenset(
    {
        "tool_use",
        "tool_call",
        "thinking",
        "reasoning",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
    }
)


#: LangChain's standard media block types and the OpenAI-style part each becomes.
MEDIA_PARTS: Final = {"image": "image_url", "audio": "audio_url", "video": "video_url"}


#: OpenAI-style media parts, passed through (normalised to ``{"url": ...}``).
_WIRE_MEDIA: Final = frozenset(MEDIA_PARTS.values())


def _media_error(field: str, message: str, provider: str) -> InvalidParameterError:
    return InvalidParameterError(field, message, provider=provider)


def media_url(block: Mapping[str, Any], *, provider: str, field: str) -> str:
    """The URL a standard LangChain media block points at.

    ``url`` is used as is (a ``data:`` URL included); base64 data becomes a
    ``data:<mime_type>;base64,...`` URL. Both the current blocks (``url`` /
    ``base64`` + ``mime_type``) and the older ``source_type`` form (``"url"`` /
    ``"base64"`` with ``data``) are read. Provider file ids cannot be sent: the
    OpenAI-style parts carry a URL only.
    """
    source = block.get("source_type")
    kind = block.get("type")
    if source not in (None, "url", "base64"):
        raise _media_error(
            field,
            f"a {kind} block with source_type={source!r} cannot be sent; "
            "give a url or base64 data (with mime_type)",
            provider,
        )
    url = block.get("url")
    if source in (None, "url") and isinstance(url, str) and url:
        return url
    data = block.get("base64") if source is None else block.get("data")
    if source in (None, "base64") and isinstance(data, str) and data:
        mime = block.get("mime_type")
        if not isinstance(mime, str) or "/" not in mime:
            raise _media_error(
                field,
                f"base64 {kind} data needs a mime_type such as '{kind}/...'; got {mime!r}",
                provider,
            )
        return f"data:{mime};base64,{data}"
    if block.get("file_id") or source == "id":
        raise _media_error(
            field,
            f"a {kind} block with a file id cannot be sent; give a url or base64 data",
            provider,
        )
    raise _media_error(field, f"a {kind} block needs a url or base64 data", provider)


def media_part(block: Mapping[str, Any], *, provider: str, field: str) -> dict[str, Any]:
    """A LangChain media block (or an OpenAI-style ``*_url`` part) as an OpenAI-style part.

    ``{"type": "image", ...}`` becomes ``{"type": "image_url", "image_url": {"url": ...}}``
    (``audio`` -> ``audio_url``, ``video`` -> ``video_url``). An OpenAI-style part is
    passed on with only its ``url``: the schemas we send to document nothing else
    (an OpenAI ``detail`` hint is dropped).
    """
    kind = str(block.get("type"))
    if kind in _WIRE_MEDIA:
        inner = block.get(kind)
        url = inner.get("url") if isinstance(inner, Mapping) else inner
        if not isinstance(url, str) or not url:
            raise _media_error(
                field, f"a {kind} part needs {kind}={{'url': ...}}; got {inner!r}", provider
            )
        return {"type": kind, kind: {"url": url}}
    wire = MEDIA_PARTS[kind]
    return {"type": wire, wire: {"url": media_url(block, provider=provider, field=field)}}


def _content_parts(
    content: list[Any], *, provider: str, role: str, media: bool
) -> list[dict[str, Any]]:
    """Content blocks as OpenAI-style parts (text, and media parts when ``media``).

    ``media`` says the provider takes media parts; they are allowed in user
    messages only (other roles' content is a string on such APIs).

    Blocks that repeat ``tool_calls`` or hold reasoning are dropped (they travel
    as ``tool_calls`` / ``reasoning_content``); anything else the wire cannot take
    raises a clear error instead of being dropped silently.
    """
    allow_media = media and role == "user"
    parts: list[dict[str, Any]] = []
    for number, block in enumerate(content):
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
            continue
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind in _REDUNDANT_BLOCKS:
            continue
        elif allow_media and (kind in MEDIA_PARTS or kind in _WIRE_MEDIA):
            field = f"messages[{role}].content[{number}]"
            parts.append(media_part(block, provider=provider, field=field))
        else:
            raise InvalidParameterError(
                f"messages[{role}].content",
                _refusal(kind, provider=provider, role=role, media=media),
                provider=provider,
            )
    return parts


def _refusal(kind: Any, *, provider: str, role: str, media: bool) -> str:
    """Why a content block cannot be sent (the provider and the reason named)."""
    if media and role == "user":
        supported = ", ".join([*MEDIA_PARTS, *sorted(_WIRE_MEDIA)])
        return (
            f"content block of type {kind!r} is not supported by {provider} "
            f"(text and {supported} only)"
        )
    if media:
        return (
            f"content block of type {kind!r} is not supported by {provider} in {role} messages "
            "(their content is text only; media goes in user messages)"
        )
    if kind in MEDIA_PARTS or kind in _WIRE_MEDIA:
        return (
            f"{provider} does not accept {kind} input: its chat API documents text content "
            "only, so the block is refused rather than silently dropped"
        )
    return f"content block of type {kind!r} is not supported by {provider} (text only)"


def content_to_text(content: str | list[Any], *, provider: str, role: str) -> str:
    """Flatten message content to the plain string a text-only API accepts.

    Text blocks are joined; blocks that repeat ``tool_calls`` or hold reasoning
    are dropped. Any other block (image, audio, file) raises a clear error
    instead of being dropped silently.
    """
    return _flat_text(content, provider=provider, role=role, media=False)


def _flat_text(content: str | list[Any], *, provider: str, role: str, media: bool) -> str:
    """Text-only content; ``media`` (the provider takes media elsewhere) words the refusal."""
    if isinstance(content, str):
        return content
    parts = _content_parts(content, provider=provider, role=role, media=media)
    return "".join(part["text"] for part in parts)


def content_to_parts(
    content: str | list[Any], *, provider: str, role: str = "user"
) -> str | list[dict[str, Any]]:
    """User content for an API that takes OpenAI-style media parts (Friendli).

    All-text content stays the plain string a text-only message would send;
    content with media becomes a list of ``text`` / ``image_url`` / ``audio_url`` /
    ``video_url`` parts in the original order.
    """
    if isinstance(content, str):
        return content
    parts = _content_parts(content, provider=provider, role=role, media=True)
    if all(part["type"] == "text" for part in parts):
        return "".join(part["text"] for part in parts)
    return parts


def reasoning_text(message: AIMessage) -> str | None:
    """The reasoning an assistant turn carries, or None.

    ``additional_kwargs["reasoning_content"]`` (what our parsers store) wins;
    otherwise the text of ``reasoning`` blocks (LangChain standard, including
    ``summary`` lists) and ``thinking`` blocks (Anthropic-style) is joined.
    """
    stored = message.additional_kwargs.get("reasoning_content")
    if isinstance(stored, str) and stored:
        return stored
    if isinstance(message.content, str):
        return None
    pieces: list[str] = []
    for block in message.content:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "reasoning":
            if isinstance(block.get("reasoning"), str):
                pieces.append(block["reasoning"])
            for item in block.get("summary") or ():
                if isinstance(item, Mapping) and isinstance(item.get("text"), str):
                    pieces.append(item["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            pieces.append(block["thinking"])
    return "".join(pieces) or None


def _tool_call_dict(call: ToolCall | InvalidToolCall) -> dict[str, Any]:
    args = call.get("args")
    arguments = args if isinstance(args, str) else json.dumps(args or {}, ensure_ascii=False)
    return {
        "id": call.get("id") or new_tool_call_id(),
        "type": "function",
        "function": {"name": call.get("name") or "", "arguments": arguments},
    }


def message_to_dict(
    message: BaseMessage, *, provider: str, media: bool = False, reasoning: bool = False
) -> dict[str, Any]:
    """Convert one LangChain message to an OpenAI-style message dict.

    An assistant turn that carries tool calls and no text is sent with
    ``content: null`` (FFM requires it; OpenAI-compatible servers accept it).

    The provider switches:

    * ``media``: user content may hold image/audio/video blocks, sent as
      OpenAI-style parts (:func:`content_to_parts`); otherwise they are refused.
    * ``reasoning``: an assistant turn's reasoning (:func:`reasoning_text`) is
      sent back as ``reasoning_content``; otherwise it is left off the wire on
      purpose (it is not part of the prompt on such APIs).
    """
    if isinstance(message, AIMessage):
        text = _flat_text(message.content, provider=provider, role="assistant", media=media)
        calls = [
            *(_tool_call_dict(c) for c in message.tool_calls),
            *(_tool_call_dict(c) for c in message.invalid_tool_calls),
        ]
        if not calls and message.additional_kwargs.get("tool_calls"):
            calls = list(message.additional_kwargs["tool_calls"])
        result: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            result["tool_calls"] = calls
        elif result["content"] is None:
            result["content"] = ""
        thought = reasoning_text(message) if reasoning else None
        if thought:
            result["reasoning_content"] = thought
        return result
    if isinstance(message, ToolMessage):
        result = {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": _tool_content(message, provider),
        }
        if message.name:
            result["name"] = message.name
        return result
    role = _role_of(message)
    result = {
        "role": role,
        "content": content_to_parts(message.content, provider=provider, role=role)
        if media and role == "user"
        else _flat_text(message.content, provider=provider, role=role, media=media),
    }
    if message.name and role in ("user", "function"):
        result["name"] = message.name
    return result


def _tool_content(message: ToolMessage, provider: str) -> str:
    if isinstance(message.content, str):
        return message.content
    try:
        return content_to_text(message.content, provider=provider, role="tool")
    except InvalidParameterError:
        return json.dumps(message.content, ensure_ascii=False)


def _role_of(message: BaseMessage) -> str:
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, ChatMessage):
        return message.role
    if isinstance(message, FunctionMessage):
        return "function"
    msg = f"unsupported message type {type(message).__name__}"
    raise TypeError(msg)


def messages_to_dicts(
    messages: Sequence[BaseMessage],
    *,
    provider: str,
    media: bool = False,
    reasoning: bool = False,
) -> list[dict[str, Any]]:
    """Convert a whole history, refusing an empty one before any request.

    ``media`` and ``reasoning`` are the provider switches of :func:`message_to_dict`.
    """
    if not messages:
        raise InvalidParameterError(
            "messages", "at least one message is required", provider=provider
        )
    return [
        message_to_dict(m, provider=provider, media=media, reasoning=reasoning) for m in messages
    ]

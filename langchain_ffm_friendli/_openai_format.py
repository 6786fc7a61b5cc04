"""LangChain messages and tools <-> OpenAI-style dicts, shared by every provider.

FFM's Conversation API, Friendli's chat completions and MonsterAPI's chat route
all speak the OpenAI message/tool dialect (with small differences that the
provider modules apply on top). Everything here is pure: dicts in, dicts out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_ffm_friendli._deltas import DeliveredText, Delta
from langchain_ffm_friendli._wire import Record
from langchain_ffm_friendli.errors import IncompleteStreamError, InvalidParameterError

__all__ = [
    "MEDIA_PARTS",
    "content_to_parts",
    "content_to_text",
    "format_tools",
    "media_part",
    "media_url",
    "message_to_dict",
    "messages_to_dicts",
    "new_tool_call_id",
    "parse_tool_calls",
    "place_strict",
    "reasoning_text",
    "tool_call_chunks_from_deltas",
    "tool_choice_to_openai",
    "tool_names",
    "usage_metadata",
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


def new_tool_call_id() -> str:
    """A fresh id for a tool call the provider sent without one."""
    return f"call_{uuid.uuid4().hex[:24]}"


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


def format_tools(tools: Sequence[Any], *, strict: bool | None = None) -> list[dict[str, Any]]:
    """Convert LangChain tools (functions, BaseTools, pydantic models, dicts) to OpenAI tools.

    Dicts whose ``type`` is a namespaced built-in (``math:calculator``,
    ``web:search``, ...) pass through unchanged; the provider decides whether it
    accepts them. Everything else, JSON-schema dicts included, is converted.
    ``strict`` (when not None) goes where OpenAI's schema puts it,
    ``tools[i].function.strict``; :func:`place_strict` then keeps it, drops it
    or refuses it for the provider at hand.
    """
    formatted: list[dict[str, Any]] = []
    for item in tools:
        if isinstance(item, Mapping) and ":" in str(item.get("type", "")):
            formatted.append(dict(item))
            continue
        tool = convert_to_openai_tool(item, strict=strict)
        if strict is not None and tool.get("type") == "function" and "function" in tool:
            tool = {**tool, "function": {**tool["function"], "strict": strict}}
        formatted.append(tool)
    return formatted


StrictPlace = Literal["sent", "implied", "none"]
"""Where a provider's schema has room for ``strict``.

``sent``: the OpenAI place exists and the flag is sent there. ``implied``: the
provider always decodes under the schema, so the flag is accepted and not sent.
``none``: no place; ``strict=True`` is refused (``strict=False`` asks for
nothing and is dropped).
"""


def place_strict(
    tools: Sequence[Mapping[str, Any]] | None,
    response_format: Mapping[str, Any] | None,
    *,
    strict: bool | None,
    provider: str,
    tools_place: StrictPlace,
    schema_place: StrictPlace,
) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
    """Tools and response_format with ``strict`` where the provider's schema puts it.

    A per-call ``strict`` (``bind(strict=...)``, ``invoke(..., strict=...)``) is
    first written where OpenAI puts it: on every function tool
    (``function.strict``) and on a ``json_schema`` response_format that has none
    (``json_schema.strict``). Then, for each place, the provider's rule
    (:data:`StrictPlace`) keeps, drops or refuses it, before any request.
    """
    out_tools: list[dict[str, Any]] | None = None
    if tools is not None:
        out_tools = []
        for index, tool in enumerate(tools):
            function = tool.get("function")
            if tool.get("type") != "function" or not isinstance(function, Mapping):
                out_tools.append(dict(tool))
                continue
            function = dict(function)
            if strict is not None:
                function["strict"] = strict
            _apply_place(
                function, tools_place, provider, f"tools[{index}].function.strict", "function tools"
            )
            out_tools.append({**tool, "function": function})
    out_format: dict[str, Any] | None = None
    if response_format is not None:
        out_format = dict(response_format)
        spec = out_format.get("json_schema")
        if out_format.get("type") == "json_schema" and isinstance(spec, Mapping):
            spec = dict(spec)
            if strict is not None and "strict" not in spec:
                spec["strict"] = strict
            _apply_place(
                spec,
                schema_place,
                provider,
                "response_format.json_schema.strict",
                "a json_schema response_format",
            )
            out_format["json_schema"] = spec
    return out_tools, out_format


def _apply_place(
    holder: dict[str, Any], place: StrictPlace, provider: str, where: str, what: str
) -> None:
    if "strict" not in holder or place == "sent":
        return
    value = holder.pop("strict")
    if value and place == "none":
        raise InvalidParameterError(
            "strict",
            f"{provider} has no strict flag for {what} (OpenAI's {where}); "
            "drop strict=True (the output is still parsed and validated client-side)",
            provider=provider,
        )


def tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names of the function tools in an OpenAI-style tool list."""
    return [t["function"]["name"] for t in tools if t.get("type") == "function" and "function" in t]


def tool_choice_to_openai(
    tool_choice: Any, names: Sequence[str], *, provider: str
) -> str | dict[str, Any] | None:
    """Map LangChain's ``tool_choice`` spellings to the OpenAI wire value.

    ``"any"``, ``"required"`` and ``True`` force some tool ("required"); a tool
    name forces that tool; ``"auto"`` and ``"none"`` pass through; ``False`` is
    "none"; a dict passes through. Anything else is an error naming the field.
    """
    if tool_choice is None:
        return None
    if tool_choice is True or tool_choice in ("any", "required"):
        return "required"
    if tool_choice is False:
        return "none"
    if tool_choice in ("auto", "none"):
        return str(tool_choice)
    if isinstance(tool_choice, str):
        if tool_choice in names:
            return {"type": "function", "function": {"name": tool_choice}}
        raise InvalidParameterError(
            "tool_choice",
            f"{tool_choice!r} is not a bound tool (bound: {', '.join(names) or 'none'})",
            provider=provider,
        )
    if isinstance(tool_choice, Mapping):
        return dict(tool_choice)
    raise InvalidParameterError(
        "tool_choice", f"unsupported value {tool_choice!r}", provider=provider
    )


def parse_tool_calls(
    raw_calls: Sequence[Mapping[str, Any]],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parse wire tool calls; bad argument JSON becomes an invalid tool call.

    Missing ids are generated so that LangGraph can match each ToolMessage to
    its call. Arguments may arrive as a JSON string or (leniently) an object.
    """
    calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for raw in raw_calls:
        function = raw.get("function") or {}
        name = str(function.get("name") or "")
        call_id = str(raw.get("id") or new_tool_call_id())
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):
            calls.append(tool_call(name=name, args=dict(arguments), id=call_id))
            continue
        text = arguments if isinstance(arguments, str) else ""
        try:
            args = json.loads(text) if text.strip() else {}
        except ValueError as exc:
            invalid.append(
                invalid_tool_call(name=name, args=text, id=call_id, error=f"invalid JSON: {exc}")
            )
            continue
        if not isinstance(args, dict):
            invalid.append(
                invalid_tool_call(
                    name=name,
                    args=text,
                    id=call_id,
                    error="arguments are not a JSON object",
                )
            )
            continue
        calls.append(tool_call(name=name, args=args, id=call_id))
    return calls, invalid


def tool_call_chunks_from_deltas(
    deltas: Sequence[Mapping[str, Any]],
) -> list[ToolCallChunk]:
    """Turn streamed tool-call fragments into LangChain chunks keyed by ``index``.

    LangChain merges chunks with the same index, concatenating argument pieces,
    so each fragment is passed on as it arrives.
    """
    chunks: list[ToolCallChunk] = []
    for position, delta in enumerate(deltas):
        function = delta.get("function") or {}
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):
            arguments = json.dumps(arguments, ensure_ascii=False)
        index = delta.get("index")
        chunks.append(
            tool_call_chunk(
                name=function.get("name") or None,
                args=arguments if isinstance(arguments, str) else None,
                id=delta.get("id") or None,
                index=index if isinstance(index, int) else position,
            )
        )
    return chunks


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


# --------------------------------------------------------------------------- responses


def _message_metadata(payload: Mapping[str, Any], model: str, provider: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "model_name": payload.get("model") or model,
        "model_provider": provider,
    }
    for key in ("id", "created"):
        if payload.get(key) is not None:
            meta[key] = payload[key]
    return meta


def openai_usage(usage: Any) -> UsageMetadata | None:
    """LangChain usage from an OpenAI-style ``usage`` object (cached tokens included)."""
    if not isinstance(usage, Mapping):
        return None
    result = usage_metadata(
        usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens")
    )
    details = usage.get("prompt_tokens_details")
    if result is not None and isinstance(details, Mapping) and details.get("cached_tokens"):
        result["input_token_details"] = {"cache_read": int(details["cached_tokens"])}
    return result


def parse_chat_completion(
    payload: Mapping[str, Any], *, model: str, provider: str
) -> list[tuple[AIMessage, dict[str, Any]]]:
    """Turn a ``chat.completion`` body into (message, generation_info), one per choice.

    Usage is put on the first choice's message only, since it covers all of them.
    """
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        raise IncompleteStreamError(
            f"{provider} response has no choices: {json.dumps(payload, ensure_ascii=False)[:300]}",
            provider=provider,
            raw_record=json.dumps(payload, ensure_ascii=False),
        )
    usage = openai_usage(payload.get("usage"))
    results: list[tuple[AIMessage, dict[str, Any]]] = []
    for position, choice in enumerate(choices):
        message = choice.get("message") or {}
        calls, invalid = parse_tool_calls(message.get("tool_calls") or [])
        info: dict[str, Any] = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs") is not None:
            info["logprobs"] = choice["logprobs"]
        extra: dict[str, Any] = {}
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            extra["reasoning_content"] = reasoning
        results.append(
            (
                AIMessage(
                    content=message.get("content") or "",
                    tool_calls=calls,
                    invalid_tool_calls=invalid,
                    additional_kwargs=extra,
                    usage_metadata=usage if position == 0 else None,
                    response_metadata={**_message_metadata(payload, model, provider), **info},
                ),
                info,
            )
        )
    return results


@dataclass
class OpenAIChatStream(DeliveredText):
    """Incremental decoder of ``chat.completion.chunk`` records into deltas.

    Tool-call fragments are passed on by ``index`` (an id is generated for calls
    that arrive without one); finish_reason and model_name go on the finishing
    delta and usage on the usage delta (``choices: []``), each exactly once, so
    LangChain's chunk merging keeps them intact.
    """

    model: str
    provider: str
    finished: bool = False
    done: ClassVar[bool] = False
    """The client never stops these streams early."""
    ended: ClassVar[bool] = False
    """They end at the framing's ``[DONE]``."""
    _ids: dict[int, str] = field(default_factory=dict)
    _pieces: list[str] = field(default_factory=list, repr=False)

    def feed(self, record: Record) -> list[Delta]:
        """Decode one chunk record."""
        data = record.data
        deltas: list[Delta] = []
        for choice in data.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # streaming carries one generation (n > 1 is refused earlier)
            delta = self._choice(data, choice)
            if delta is not None:
                deltas.append(delta)
        if "usage" in data:
            usage = openai_usage(data["usage"])
            if usage is not None:
                deltas.append(Delta(usage=usage))
        return deltas

    def _choice(self, record: Mapping[str, Any], choice: Mapping[str, Any]) -> Delta | None:
        delta = choice.get("delta") or {}
        text = delta.get("content") or ""
        if (
            not delta.get("tool_calls")
            and not delta.get("reasoning_content")
            and not delta.get("reasoning")
            and choice.get("logprobs") is None
            and choice.get("finish_reason") in (None, "null")
        ):
            if not text:  # the common case, a plain text delta
                return None
            self._pieces.append(text)
            return Delta(text)
        tool_chunks = tool_call_chunks_from_deltas(delta.get("tool_calls") or [])
        for tc in tool_chunks:
            index = tc["index"] if tc["index"] is not None else 0
            if index not in self._ids:
                self._ids[index] = tc["id"] or new_tool_call_id()
                tc["id"] = self._ids[index]
        extra: dict[str, Any] = {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            extra["reasoning_content"] = reasoning
        metadata: dict[str, Any] = {}
        if choice.get("logprobs") is not None:
            metadata["logprobs"] = choice["logprobs"]
        reason = choice.get("finish_reason")
        if reason is not None and reason != "null":
            self.finished = True
            metadata.update(_message_metadata(record, self.model, self.provider))
            metadata["finish_reason"] = reason
        if not (text or tool_chunks or extra or metadata):
            return None
        if text:
            self._pieces.append(text)
        return Delta(
            text,
            tool_calls=tool_chunks or None,
            extra=extra or None,
            metadata=metadata or None,
        )

    def close(self) -> list[Delta]:
        """End of stream: a stream without a finish_reason is incomplete."""
        if not self.finished:
            raise IncompleteStreamError(
                f"{self.provider} stream ended before a finish_reason; the answer is incomplete",
                provider=self.provider,
                partial_text=self.text,
            )
        return []


_JSON_ONLY = "Respond with a single JSON object and nothing else: no prose, no code fences."


def json_instruction(response_format: Mapping[str, Any] | None) -> str | None:
    """The instruction that asks a model for JSON matching ``response_format``.

    APIs without a JSON mode (FFM) rely on it entirely; constrained decoders
    (Friendli) still need it, or the model may emit whitespace until max_tokens.
    """
    if not response_format:
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return _JSON_ONLY
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema", spec)
        return f"{_JSON_ONLY} The JSON object must conform to this JSON schema:\n" + json.dumps(
            schema, ensure_ascii=False
        )
    return None


def with_system_instruction(
    messages: list[dict[str, Any]], instruction: str | None
) -> list[dict[str, Any]]:
    """Append ``instruction`` to the system prompt (adding one if there is none)."""
    if not instruction:
        return messages
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0].get('content') or ''}\n\n{instruction}".strip()
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out


def openai_chat_body(
    *,
    model: str,
    messages: list[dict[str, Any]],
    params: Mapping[str, Any],
    stream: bool,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    response_format: Mapping[str, Any] | None = None,
    stream_options: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An OpenAI-style chat-completions body; unset (None) params are omitted.

    A JSON ``response_format`` also adds an instruction to the system prompt:
    constrained decoders still need the model to be told to answer in JSON.
    """
    body: dict[str, Any] = {"model": model}
    body.update({k: v for k, v in params.items() if v is not None})
    if response_format:
        body["response_format"] = dict(response_format)
        messages = with_system_instruction(messages, json_instruction(response_format))
    body["messages"] = messages
    if tools:
        body["tools"] = list(tools)
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
    body.update(extra or {})
    if stream:
        body["stream"] = True
        if stream_options is not None:
            body["stream_options"] = dict(stream_options)
    return body


def chat_result(payload: Mapping[str, Any], *, model: str, provider: str) -> ChatResult:
    """A ChatResult (one generation per choice) from a ``chat.completion`` body."""
    choices = parse_chat_completion(payload, model=model, provider=provider)
    first = choices[0][0]
    return ChatResult(
        generations=[ChatGeneration(message=m, generation_info=info) for m, info in choices],
        llm_output={
            "model_name": first.response_metadata.get("model_name"),
            "token_usage": first.usage_metadata,
        },
    )

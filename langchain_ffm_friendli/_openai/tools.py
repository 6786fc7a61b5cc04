"""Tools as OpenAI-style tool dicts, and tool calls back to LangChain.

``strict`` is placed where each provider's schema puts it (or refused before
any request); ``tool_choice`` is spelled the OpenAI way; tool calls, whole or
as stream fragments, become LangChain's ``tool_calls`` / ``invalid_tool_calls``
/ ``tool_call_chunks`` with an id for every call.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import InvalidToolCall, ToolCall, ToolCallChunk
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk
from langchain_core.utils.function_calling import convert_to_openai_tool

from langchain_ffm_friendli.errors import InvalidParameterError

__all__ = [
    "StrictPlace",
    "format_tools",
    "new_tool_call_id",
    "parse_tool_calls",
    "place_strict",
    "tool_call_chunks_from_deltas",
    "tool_choice_to_openai",
    "tool_names",
]


def new_tool_call_id() -> str:
    """A fresh id for a tool call the provider sent without one."""
    return f"call_{uuid.uuid4().hex[:24]}"


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

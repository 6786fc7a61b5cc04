"""The scripted model behind OpenAI-compatible chat completions.

* ``response_format``: ``json_object`` gives the default model's JSON-mode answer,
  ``json_schema`` a schema-valid instance of ``json_schema.schema``, and ``regex`` the
  string :func:`regex_instance` writes for the pattern. A queued
  :class:`~langchain_ffm_friendli.testing.Reply` is sent as scripted instead.
* Stop sequences cut the text *before* the stop string (``finish_reason: "stop"``);
  ``max_tokens`` cuts it to that many tokens (``finish_reason: "length"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .._model import (
    Completion,
    ModelRequest,
    Reply,
    complete,
    count_tokens,
    cut_text,
    json_answer,
    schema_instance,
    scripted_counts,
)
from .._regex import regex_instance
from .requests import ChatRequest

__all__ = ["apply_limits", "generate", "structured_text"]


def structured_text(
    response_format: Mapping[str, Any] | None,
    messages: Sequence[Mapping[str, Any]],
    *,
    provider: str,
) -> str | None:
    """The default model's text for a ``response_format``, or None for free text.

    Args:
        response_format: The validated ``response_format``.
        messages: The conversation (the last user text supplies values).
        provider: Provider display name for the default greeting.

    Returns:
        The JSON document or regex match, or None for ``text``/no format.
    """
    kind = response_format.get("type") if response_format else None
    if response_format is None or kind == "text":
        return None
    if kind == "json_object":
        return json_answer(messages, provider=provider)
    if kind == "json_schema":
        schema = response_format["json_schema"]["schema"]
        return json.dumps(schema_instance(schema, messages), ensure_ascii=False)
    return regex_instance(str(response_format.get("schema", "")))


def apply_limits(
    completion: Completion,
    *,
    stop: Sequence[str],
    max_tokens: int | None,
    reply: Reply | None = None,
) -> Completion:
    """Apply OpenAI-style stop sequences (cut before the stop string) and ``max_tokens``.

    Tool-call answers are left as they are. Token counts are recomputed unless the
    scripted reply fixes them.

    Args:
        completion: The model's completion, produced without stop/limit.
        stop: Stop strings.
        max_tokens: Completion token limit, None for none.
        reply: The scripted reply, if any (its ``completion_tokens`` wins).

    Returns:
        The limited completion.
    """
    if completion.tool_calls:
        return completion
    text, tokens, cut = cut_text(completion.text, stop, max_tokens, keep_stop=False)
    _, generated = scripted_counts(reply, 0, len(tokens))
    return replace(
        completion,
        text=text,
        tokens=tokens,
        finish_reason=cut or completion.finish_reason,
        completion_tokens=generated,
    )


def generate(request: ChatRequest, reply: Reply | None, *, provider: str) -> Completion:
    """Run the scripted model for a chat request (one generation).

    Args:
        request: The validated request.
        reply: A scripted reply, if one was queued.
        provider: Provider display name for the default greeting.

    Returns:
        The completion with OpenAI stop/limit semantics applied.
    """
    scripted = reply
    if reply is None:
        text = structured_text(request.options.response_format, request.messages, provider=provider)
        if text is not None:
            reply = Reply(text=text)
    completion = complete(
        ModelRequest(
            messages=request.messages, tools=request.tools, tool_choice=request.tool_choice
        ),
        reply,
        provider=provider,
        reasoning_field=request.parse_reasoning,
    )
    if not request.include_reasoning:
        completion = replace(completion, reasoning="")
    if not request.parallel_tool_calls and len(completion.tool_calls) > 1:
        calls = completion.tool_calls[:1]
        generated = len(completion.tokens) + sum(
            count_tokens(c.name) + count_tokens(c.arguments) for c in calls
        )
        _, generated = scripted_counts(scripted, 0, generated)
        completion = replace(completion, tool_calls=calls, completion_tokens=generated)
    return apply_limits(
        completion,
        stop=request.options.stop,
        max_tokens=request.options.max_tokens,
        reply=scripted,
    )

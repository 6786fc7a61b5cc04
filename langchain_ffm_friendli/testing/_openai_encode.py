"""OpenAI-compatible chat completions: the JSON body and SSE chunk encoders.

The wire shapes Friendli documents (protocols/friendli.md §2) and every OpenAI-style
client parses: ``chat.completion`` bodies, ``chat.completion.chunk`` records (role first,
one delta per token, tool-call fragments keyed by ``index``, a finish chunk, an optional
usage chunk), deterministic fake ``logprobs``, in-stream error events and the stream
script with the provider-neutral faults.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from ._faults import StreamEvent, StreamScript, split_arguments, split_at_first_multibyte
from ._model import Completion, tokenize

# --------------------------------------------------------------------------- logprobs


def _digest(text: str) -> int:
    """A stable integer digest of a text."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def token_logprob(token: str, position: int) -> float:
    """A deterministic fake log probability in (-2.5, 0) for a token at a position.

    Args:
        token: The token text.
        position: Its position in the output.

    Returns:
        The log probability.
    """
    return -round(0.001 + (_digest(f"{position}:{token}") % 2500) / 1000, 4)


def top_alternatives(token: str, position: int, count: int) -> list[tuple[str, float]]:
    """The ``count`` most likely tokens at a position: the sampled one, then fakes.

    Args:
        token: The sampled token.
        position: Its position.
        count: How many entries to return.

    Returns:
        ``(token, logprob)`` pairs, most likely first.
    """
    best = token_logprob(token, position)
    others = [alt for alt in _ALTERNATIVES if alt != token]
    pairs = [(token, best)]
    pairs.extend((alt, round(best - 0.75 * (k + 1), 4)) for k, alt in enumerate(others))
    return pairs[:count]


def _logprob_entry(token: str, position: int, top: int) -> dict[str, Any]:
    """One ``logprobs.content`` item of a chat completion."""
    return {
        "token": token,
        "logprob": token_logprob(token, position),
        "bytes": list(token.encode("utf-8")),
        "top_logprobs": [
            {"token": alt, "logprob": value, "bytes": list(alt.encode("utf-8"))}
            for alt, value in top_alternatives(token, position, top)
        ],
    }


__all__ = [
    "DONE",
    "chunk_records",
    "encode_response",
    "error_event",
    "finish_reason",
    "new_id",
    "sse",
    "stream_script",
    "token_logprob",
    "top_alternatives",
    "usage",
]

if TYPE_CHECKING:
    from ._openai_chat import ChatRequest

DONE = b"data: [DONE]\n\n"
_PINGS = (b": keep-alive\n\n", b"\n")
_MALFORMED = b"data: {not json\n\n"
_FINISH_REASONS = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
}
_ALTERNATIVES = (" the", ",", " a", ".", " and", " of", " to", " is", " in", "\n")


# ------------------------------------------------------------------------- encoding


def new_id(prefix: str) -> str:
    """A response id such as ``chatcmpl-<32 hex>``.

    Args:
        prefix: ``"chatcmpl-"`` or ``"cmpl-"``.

    Returns:
        The id.
    """
    return prefix + uuid.uuid4().hex


def finish_reason(completion: Completion) -> str:
    """The OpenAI-style finish reason (a scripted raw value wins).

    Args:
        completion: The completion.

    Returns:
        ``stop``, ``length``, ``tool_calls`` or the scripted value.
    """
    if completion.finish_reason_override is not None:
        return completion.finish_reason_override
    return _FINISH_REASONS[completion.finish_reason]


def usage(completions: Sequence[Completion]) -> dict[str, int]:
    """The ``usage`` object of one request with one completion per generation.

    Args:
        completions: The generations (they share the prompt).

    Returns:
        ``prompt_tokens``, ``completion_tokens`` (all generations) and ``total_tokens``.
    """
    prompt = completions[0].prompt_tokens if completions else 0
    generated = sum(c.completion_tokens for c in completions)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "total_tokens": prompt + generated,
    }


def _message(completion: Completion) -> dict[str, Any]:
    """The ``message`` of a non-streaming choice (content null for tool-call-only answers)."""
    content = completion.text if completion.text or not completion.tool_calls else None
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if completion.reasoning:
        message["reasoning_content"] = completion.reasoning
    if completion.tool_calls:
        calls = []
        for call in completion.tool_calls:
            item: dict[str, Any] = {} if call.id is None else {"id": call.id}
            item["type"] = "function"
            item["function"] = {"name": call.name, "arguments": call.arguments}
            calls.append(item)
        message["tool_calls"] = calls
    return message


def encode_response(
    request: ChatRequest,
    completions: Sequence[Completion],
    *,
    response_id: str,
    created: int,
) -> dict[str, Any]:
    """The ``chat.completion`` body (key order as in Friendli's documented example).

    Args:
        request: The validated request.
        completions: One completion per generation (``n``).
        response_id: The ``chatcmpl-...`` id.
        created: Unix seconds.

    Returns:
        The JSON object.
    """
    choices = []
    for index, completion in enumerate(completions):
        choice: dict[str, Any] = {
            "index": index,
            "message": _message(completion),
            "finish_reason": finish_reason(completion),
        }
        if request.logprobs:
            choice["logprobs"] = {
                "content": [
                    _logprob_entry(token, position, request.top_logprobs)
                    for position, token in enumerate(completion.tokens)
                ]
            }
        choices.append(choice)
    return {
        "id": response_id,
        "model": request.model,
        "object": "chat.completion",
        "choices": choices,
        "usage": usage(completions),
        "created": created,
    }


def _choice_deltas(index: int, completion: Completion, request: ChatRequest) -> list[Any]:
    """The streamed ``choices[]`` items of one generation, finish item last."""
    items: list[dict[str, Any]] = []

    def add(delta: dict[str, Any], logprobs: Any = None) -> None:
        if not items:
            delta = {"role": "assistant", **delta}
        items.append({"index": index, "delta": delta, "finish_reason": None, "logprobs": logprobs})

    for piece in tokenize(completion.reasoning):
        add({"reasoning_content": piece})
    for position, token in enumerate(completion.tokens):
        logprobs = None
        if request.logprobs:
            logprobs = {"content": [_logprob_entry(token, position, request.top_logprobs)]}
        add({"content": token}, logprobs)
    for number, call in enumerate(completion.tool_calls):
        head: dict[str, Any] = {"index": number}
        if call.id is not None:
            head["id"] = call.id
        head["type"] = "function"
        head["function"] = {"name": call.name, "arguments": ""}
        add({"tool_calls": [head]})
        for piece in split_arguments(call.arguments):
            fragment = {"index": number, "type": "function", "function": {"arguments": piece}}
            add({"tool_calls": [fragment]})
    if not items:
        add({"content": ""})
    items.append(
        {"index": index, "delta": {}, "finish_reason": finish_reason(completion), "logprobs": None}
    )
    return items


def chunk_records(
    request: ChatRequest,
    completions: Sequence[Completion],
    *,
    response_id: str,
    created: int,
) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` records of a stream (without ``[DONE]``).

    Args:
        request: The validated request.
        completions: One completion per generation; their chunks are interleaved.
        response_id: The id shared by every chunk.
        created: Unix seconds.

    Returns:
        The records, the usage chunk last when ``include_usage`` is set.
    """
    per_choice = [_choice_deltas(i, c, request) for i, c in enumerate(completions)]
    records: list[dict[str, Any]] = []
    for group in zip_longest(*per_choice):
        for choice in group:
            if choice is None:
                continue
            records.append(
                {
                    "id": response_id,
                    "object": "chat.completion.chunk",
                    "model": request.model,
                    "choices": [choice],
                    "usage": None,
                    "created": created,
                }
            )
    if request.options.include_usage:
        records.append(
            {
                "id": response_id,
                "object": "chat.completion.chunk",
                "model": request.model,
                "choices": [],
                "usage": usage(completions),
                "created": created,
            }
        )
    return records


def sse(record: Any, event: str | None = None) -> bytes:
    """Frame one SSE event: an optional ``event:`` line, ``data: <compact JSON>``, blank line.

    Args:
        record: The JSON value.
        event: The event name, None for none.

    Returns:
        The framed bytes (LF line ends).
    """
    data = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = b"event: " + event.encode("utf-8") + b"\n" if event else b""
    return head + b"data: " + data + b"\n\n"


def _error_type(status: int) -> str:
    """The OpenAI-style error ``type`` for a status code."""
    if status == 429:
        return "rate_limit_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_event(message: str, status_code: int, *, as_event: bool) -> bytes:
    """An in-stream error: ``data: {"error": {"message", "type", "param", "code"}}``.

    Args:
        message: The error text.
        status_code: Reported as ``code``.
        as_event: Add an ``event: error`` line.

    Returns:
        The framed event.
    """
    record = {
        "error": {
            "message": message,
            "type": _error_type(status_code),
            "param": None,
            "code": status_code,
        }
    }
    return sse(record, "error" if as_event else None)


def stream_script(events: list[StreamEvent]) -> StreamScript:
    """Wrap framed events with the OpenAI-style keep-alives, malformed and error records.

    Args:
        events: The stream's events, ``[DONE]`` included (it counts as the final record).

    Returns:
        The script for :func:`play_stream`.
    """
    return StreamScript(
        events=events,
        pings=_PINGS,
        malformed=_MALFORMED,
        error_record=error_event,
        split=split_at_first_multibyte,
    )

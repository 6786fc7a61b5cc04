"""OpenAI-compatible chat completions responses: the JSON body and the SSE stream.

The wire shapes Friendli documents (protocols/friendli.md §2) and every OpenAI-style
client parses:

* ``chat.completion`` bodies carry ``n`` choices, ``tool_calls`` whose ``arguments`` is a
  JSON string (Unicode kept as is), ``finish_reason`` ``stop``/``length``/``tool_calls``,
  ``logprobs`` when requested (deterministic fake values) and ``usage``.
* Streams are ``data: {chat.completion.chunk}`` lines without ``event:`` lines (compact
  JSON, LF framing): the role on the first delta, one text delta per token, tool-call
  fragments keyed by ``index`` (``id``/``type``/``function.name`` and empty ``arguments``
  first, then ``arguments`` pieces), a finish chunk with an empty delta, a usage chunk with
  ``choices: []`` when ``stream_options.include_usage`` is true, then ``data: [DONE]``.
  With ``n`` > 1 the choices' chunks are interleaved. An in-stream error (fault
  ``error_record``) is ``data: {"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

from .._faults import StreamEvent, StreamScript, split_at_first_multibyte
from .._model import Completion, tokenize
from .requests import ChatRequest

__all__ = [
    "DONE",
    "chat_events",
    "chunk_records",
    "encode_response",
    "error_event",
    "new_id",
    "sse",
    "sse_stream",
    "token_logprob",
    "top_alternatives",
    "usage",
]

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


# ------------------------------------------------------------------------- encoding


def new_id(prefix: str) -> str:
    """A response id such as ``chatcmpl-<32 hex>``.

    Args:
        prefix: ``"chatcmpl-"`` or ``"cmpl-"``.

    Returns:
        The id.
    """
    return prefix + uuid.uuid4().hex


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
        message["tool_calls"] = [call.to_json() for call in completion.tool_calls]
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
            "finish_reason": completion.finish_reason_in(_FINISH_REASONS),
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
        for fragment in call.fragments(number, repeat_type=True):
            add({"tool_calls": [fragment]})
    if not items:
        add({"content": ""})
    items.append(
        {
            "index": index,
            "delta": {},
            "finish_reason": completion.finish_reason_in(_FINISH_REASONS),
            "logprobs": None,
        }
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


def chat_events(
    request: ChatRequest,
    completions: Sequence[Completion],
    *,
    response_id: str,
    created: int,
    event: str | None = None,
) -> list[StreamEvent]:
    """The framed chunk records of a chat stream, then ``data: [DONE]``.

    Args:
        request: The validated request.
        completions: One completion per generation.
        response_id: The id shared by every chunk.
        created: Unix seconds.
        event: The ``event:`` name of the chunks, None for none (``[DONE]`` never has one).

    Returns:
        The events.
    """
    records = chunk_records(request, completions, response_id=response_id, created=created)
    return [*(StreamEvent(sse(record, event)) for record in records), StreamEvent(DONE)]


def sse_stream(events: list[StreamEvent]) -> StreamScript:
    """Wrap framed events as an OpenAI-style SSE stream, with its faults' records.

    Args:
        events: The stream's events, ``[DONE]`` included (it counts as the final record).

    Returns:
        The script for :meth:`Exchange.send_stream <.._exchange.Exchange.send_stream>`.
    """
    return StreamScript(
        events=events,
        content_type="text/event-stream; charset=utf-8",
        headers={"cache-control": "no-cache"},
        pings=_PINGS,
        malformed=_MALFORMED,
        error_record=error_event,
        split=split_at_first_multibyte,
    )

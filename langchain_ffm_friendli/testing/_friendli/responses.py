"""Friendli responses: text completions bodies and streams, ``tool_status`` events.

The current completions stream sends ``data:`` chunks with the sampled ``token`` id, a
finish chunk, a usage chunk when ``stream_options.include_usage`` is true, then
``data: [DONE]``. The legacy stream (``data: {"event": "token_sampled", "index",
"text", "token"}`` lines, then one final ``{"choices": [{"index", "seed", "text",
"tokens"}], "usage"}`` record and no ``[DONE]``) is sent on request. A tool-assisted
stream carries ``event: tool_status`` events before the chat chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

from .._faults import StreamEvent
from .._model import tokenize
from .._openai_compatible.responses import DONE, sse, token_logprob, top_alternatives
from .builtin_tools import ToolRun
from .models import CompletionChoice, token_id
from .requests import CompletionsRequest

__all__ = [
    "completion_events",
    "encode_completions",
    "encode_tokens",
    "tool_status_events",
]

#: Completions report ``stop`` or ``length`` (a tool call is a stop).
_FINISH_REASONS = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "stop",
}


def _logprobs(tokens: Sequence[str], top: int, offset: int, start: int = 0) -> dict[str, Any]:
    """The completions ``logprobs`` object (OpenAI legacy shape) for some tokens."""
    offsets, position = [], offset
    for token in tokens:
        offsets.append(position)
        position += len(token)
    return {
        "text_offset": offsets,
        "token_logprobs": [token_logprob(t, start + i) for i, t in enumerate(tokens)],
        "tokens": list(tokens),
        "top_logprobs": [dict(top_alternatives(t, start + i, top)) for i, t in enumerate(tokens)],
    }


def _usage(request: CompletionsRequest, choices: Sequence[CompletionChoice]) -> dict[str, int]:
    """The ``usage`` object: every prompt once, every choice's output."""
    prompt = sum(request.prompt_tokens)
    if choices and choices[0].completion.prompt_tokens != request.prompt_tokens[0]:
        prompt = choices[0].completion.prompt_tokens  # scripted by a Reply
    generated = sum(c.completion.completion_tokens for c in choices)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "total_tokens": prompt + generated,
    }


def encode_completions(
    request: CompletionsRequest, choices: Sequence[CompletionChoice], response_id: str
) -> dict[str, Any]:
    """The non-streaming ``text_completion`` body (no ``created``, as documented).

    Args:
        request: The validated request.
        choices: The generated choices.
        response_id: The ``cmpl-...`` id.

    Returns:
        The JSON object.
    """
    encoded = []
    for choice in choices:
        completion = choice.completion
        item: dict[str, Any] = {
            "index": choice.index,
            "seed": choice.seed,
            "text": completion.text,
            "tokens": [token_id(t) for t in completion.tokens],
            "finish_reason": completion.finish_reason_in(_FINISH_REASONS),
        }
        if request.logprobs is not None:
            item["logprobs"] = _logprobs(completion.tokens, request.logprobs, len(choice.prompt))
        encoded.append(item)
    return {
        "id": response_id,
        "model": request.model,
        "object": "text_completion",
        "choices": encoded,
        "usage": _usage(request, choices),
    }


def stream_records(
    request: CompletionsRequest, choices: Sequence[CompletionChoice], response_id: str, created: int
) -> list[dict[str, Any]]:
    """The current stream: one chunk per token (with its id), finish chunks, usage."""

    def chunk(choice: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": response_id,
            "object": "text_completion",
            "model": request.model,
            "choices": [choice],
            "created": created,
        }

    per_choice = []
    for choice in choices:
        items: list[dict[str, Any]] = []
        offset = len(choice.prompt)
        for position, token in enumerate(choice.completion.tokens):
            logprobs = None
            if request.logprobs is not None:
                logprobs = _logprobs([token], request.logprobs, offset, position)
            offset += len(token)
            items.append(
                {
                    "index": choice.index,
                    "text": token,
                    "token": token_id(token),
                    "finish_reason": None,
                    "logprobs": logprobs,
                }
            )
        reason = choice.completion.finish_reason_in(_FINISH_REASONS)
        items.append({"index": choice.index, "text": "", "finish_reason": reason, "logprobs": None})
        per_choice.append(items)
    records = [chunk(item) for group in zip_longest(*per_choice) for item in group if item]
    if request.include_usage:
        records.append(
            {
                "id": response_id,
                "object": "text_completion",
                "model": request.model,
                "choices": [],
                "usage": _usage(request, choices),
                "created": created,
            }
        )
    return records


def legacy_records(request: CompletionsRequest, choices: Sequence[CompletionChoice]) -> list[Any]:
    """The legacy stream: ``token_sampled`` lines, then the complete record."""
    per_choice = [
        [
            {"event": "token_sampled", "index": c.index, "text": t, "token": token_id(t)}
            for t in c.completion.tokens
        ]
        for c in choices
    ]
    records: list[Any] = [item for group in zip_longest(*per_choice) for item in group if item]
    records.append(
        {
            "choices": [
                {
                    "index": c.index,
                    "seed": c.seed,
                    "text": c.completion.text,
                    "tokens": [token_id(t) for t in c.completion.tokens],
                }
                for c in choices
            ],
            "usage": _usage(request, choices),
        }
    )
    return records


def completion_events(
    request: CompletionsRequest,
    choices: Sequence[CompletionChoice],
    response_id: str,
    created: int,
    *,
    legacy: bool,
) -> list[StreamEvent]:
    """The framed events of a completions stream, current or legacy.

    Args:
        request: The validated request.
        choices: The generated choices.
        response_id: The ``cmpl-...`` id (the legacy stream has none).
        created: Unix seconds.
        legacy: Send the legacy stream (``token_sampled`` events, no ``[DONE]``).

    Returns:
        The events.
    """
    if legacy:
        return [StreamEvent(sse(record)) for record in legacy_records(request, choices)]
    records = stream_records(request, choices, response_id, created)
    return [*(StreamEvent(sse(record)) for record in records), StreamEvent(DONE)]


def _status_records(run: ToolRun, timestamp: int) -> list[dict[str, Any]]:
    """The ``tool_status`` data objects of one run: STARTED, [UPDATING], ENDED or ERRORED."""
    outcome = run.outcome

    def record(status: str, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "tool_call_id": run.call_id,
            "name": run.name,
            "status": status,
            "parameters": [{"name": k, "value": v} for k, v in outcome.parameters],
            "result": None,
            "files": None,
            "message": None,
            "error": None,
            "usage": None,
            "timestamp": timestamp,
        }
        base.update(fields)
        return base

    records = [record("STARTED")]
    if outcome.progress is not None:
        records.append(record("UPDATING", message=outcome.progress))
    if outcome.error is not None:
        records.append(record("ERRORED", error={"type": "INVALID_PARAMETER", "msg": outcome.error}))
    else:
        records.append(record("ENDED", result=outcome.result))
    return records


def tool_status_events(runs: Sequence[ToolRun], timestamp: int) -> list[StreamEvent]:
    """The ``event: tool_status`` events of the built-in runs, in order.

    Args:
        runs: The runs.
        timestamp: Unix seconds.

    Returns:
        The framed events.
    """
    return [
        StreamEvent(sse(record, "tool_status"))
        for run in runs
        for record in _status_records(run, timestamp)
    ]


def encode_tokens(prompt: str) -> dict[str, Any]:
    """The ``/tokenize`` body: the pseudo tokenizer's ids (``*TokenizationSuccess``).

    Args:
        prompt: The text.

    Returns:
        ``{"tokens": [ids...]}``, one id per pseudo token (its counts everywhere).
    """
    return {"tokens": [token_id(piece) for piece in tokenize(prompt)]}

"""FFM responses: flat JSON bodies and sse-starlette streams (``protocols/ffm.md``).

A non-streaming answer is one flat object (``generated_text``, ``generated_tokens``, a
string ``total_time_taken``, root-level ``tool_calls``); a stream is ``data:`` records
framed with CRLF, both ping forms early, an empty delta before each multi-byte character,
counts only on the final record and no ``[DONE]``.
"""

from __future__ import annotations

import random
from typing import Any

from .._exchange import json_bytes
from .._faults import StreamEvent, StreamScript, split_at_first_multibyte
from .._model import Completion, count_tokens
from .models import embedding

__all__ = ["encode_embeddings", "encode_response", "stream_records", "stream_script"]

#: Ordinary replies end with ``stop_sequence``: every example on FFM's Conversation API
#: page shows it, stream and non-stream (protocols/ffm.md §0.3). TGI's
#: ``eos_token`` exists (§1.5) but FFM's examples never show it; script it with
#: ``Reply(finish_reason="eos_token")``.
_FINISH_REASONS = {
    "stop": "stop_sequence",
    "stop_sequence": "stop_sequence",
    "length": "length",
    "tool_calls": "tool_calls",
}
_PING_EVENT = b"event: ping\r\ndata: 2024-05-20 06:00:15.123456\r\n\r\n"
_PING_COMMENT = b": ping - 2024-05-20 06:00:15.123456+00:00\r\n"


def _time_taken(completion: Completion) -> str:
    """A deterministic ``total_time_taken`` string such as ``"0.12 sec"``."""
    return f"{0.05 + 0.01 * completion.completion_tokens:.2f} sec"


def _summary_fields(completion: Completion) -> dict[str, Any]:
    """What the response and a stream's final record say after ``generated_text``."""
    return {
        "details": None,
        "total_time_taken": _time_taken(completion),
        "prompt_tokens": completion.prompt_tokens,
        "generated_tokens": completion.completion_tokens,
        "total_tokens": completion.total_tokens,
        "finish_reason": completion.finish_reason_in(_FINISH_REASONS),
    }


def encode_response(completion: Completion) -> dict[str, Any]:
    """The flat non-streaming FFM response for a completion.

    Args:
        completion: What the model produced.

    Returns:
        The JSON object.
    """
    body: dict[str, Any] = {
        "generated_text": completion.text,
        **_summary_fields(completion),
        "function_call": None,
    }
    if completion.tool_calls:
        body["tool_calls"] = [call.to_json() for call in completion.tool_calls]
    return body


def _delta(text: str) -> dict[str, Any]:
    """An intermediate stream record: only the delta, details and a null reason."""
    return {"generated_text": text, "details": None, "finish_reason": None}


def stream_records(completion: Completion) -> list[dict[str, Any]]:
    """The data records of an FFM stream for a completion.

    The first record has an empty delta; each token containing non-ASCII characters
    is preceded by one empty record per such character (the partial-UTF-8 quirk);
    tool calls arrive as root-level fragments; the final record has an empty delta,
    the finish reason, the token counts and ``total_time_taken``.

    Args:
        completion: What the model produced.

    Returns:
        The records, in order.
    """
    records: list[dict[str, Any]] = []
    if completion.tokens or not completion.tool_calls:
        records.append(_delta(""))
    for token in completion.tokens:
        records.extend(_delta("") for char in token if ord(char) > 0x7F)
        records.append(_delta(token))
    for index, call in enumerate(completion.tool_calls):
        records.extend(
            {"tool_calls": [fragment], **_delta("")}
            for fragment in call.fragments(index, repeat_type=False)
        )
    records.append({"generated_text": "", **_summary_fields(completion)})
    return records


def _frame(record: Any) -> bytes:
    """Frame a record as sse-starlette does: ``data: {json}`` and CRLF CRLF."""
    return b"data: " + json_bytes(record) + b"\r\n\r\n"


def _error_event(message: str, status_code: int, *, as_event: bool) -> bytes:
    """An in-stream error record (optionally as ``event: error``)."""
    data = _frame({"error": message, "status_code": status_code})
    return b"event: error\r\n" + data if as_event else data


def stream_script(completion: Completion) -> StreamScript:
    """Frame a completion as the FFM SSE stream, with both ping forms placed early.

    Args:
        completion: What the model produced.

    Returns:
        The stream script.
    """
    events = [StreamEvent(_frame(r)) for r in stream_records(completion)]
    count = len(events)
    # ``event: ping`` before record 3 and ``: ping`` before record 4 (or before
    # the final record of a short stream); insert the later one first.
    events.insert(min(3, count - 1), StreamEvent(_PING_COMMENT, is_record=False))
    events.insert(min(2, count - 1), StreamEvent(_PING_EVENT, is_record=False))
    return StreamScript(
        events=events,
        content_type="text/event-stream; charset=utf-8",
        headers={
            "cache-control": "no-store",
            "connection": "keep-alive",
            "x-accel-buffering": "no",
        },
        pings=(_PING_EVENT, _PING_COMMENT),
        malformed=b"data: {not json\r\n\r\n",
        error_record=_error_event,
        split=split_at_first_multibyte,
    )


def encode_embeddings(inputs: list[str]) -> dict[str, Any]:
    """The embeddings body: ``data[i]`` carries its ``index``, in a shuffled order.

    The documented contract is the ``index`` field, not the list order: the list is
    shuffled (deterministically) so clients that rely on order are caught.

    Args:
        inputs: The texts.

    Returns:
        ``{"data", "total_time_taken", "usage"}``.
    """
    tokens = sum(count_tokens(text) for text in inputs)
    data = [
        {"embedding": embedding(text), "index": index, "object": "embedding"}
        for index, text in enumerate(inputs)
    ]
    random.Random(len(inputs)).shuffle(data)  # noqa: S311 - not crypto
    return {
        "data": data,
        "total_time_taken": f"{0.02 + 0.001 * tokens:.2f} sec",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }

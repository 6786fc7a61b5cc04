r"""MonsterAPI ``/v1/generate`` responses: the JSON body and the NUL-delimited stream.

The non-streaming body is ``{"model", "response": {"text", "token_counts",
"credits_consumed"}}``; the stream is NUL-terminated JSON records with the cumulative
text of every sequence, as vLLM's demo server writes them.
"""

from __future__ import annotations

import json
from typing import Any

from .._exchange import json_bytes
from .._faults import StreamEvent, StreamScript
from .models import Generation
from .requests import GenerateRequest

__all__ = ["encode_record", "encode_response", "error_object", "stream_script", "stream_texts"]


def encode_response(request: GenerateRequest, generation: Generation) -> dict[str, Any]:
    """The non-streaming body.

    Args:
        request: The request.
        generation: What the model produced.

    Returns:
        ``{"model", "response": {"text", "token_counts", "credits_consumed"}}``.
    """
    return {
        "model": request.model,
        "response": {
            "text": generation.texts,
            "token_counts": {
                "input": generation.input_tokens,
                "output": generation.output_tokens,
            },
            "credits_consumed": generation.credits,
        },
    }


def stream_texts(generation: Generation) -> list[list[str]]:
    """The cumulative ``n`` texts of every stream record, echo included.

    Sequences that finished early repeat their final text in later records.

    Args:
        generation: What the model produced.

    Returns:
        One list of ``n`` texts per record.
    """
    steps = max(len(s) for s in generation.snapshots)
    return [
        [generation.echo + s[min(step, len(s) - 1)] for s in generation.snapshots]
        for step in range(steps)
    ]


def encode_record(texts: list[str], form: int) -> bytes:
    r"""One NUL-terminated stream record in one of the three documented forms.

    Args:
        texts: The cumulative texts of all sequences.
        form: 0: ``{"text": [...]}`` as vLLM's demo server writes it
            (``json.dumps``: ASCII escapes); 1: ``{"response": {"text": [...]}}``;
            2: a bare list (1 and 2 in raw UTF-8, compact).

    Returns:
        The record bytes, ``\0`` included.
    """
    if form % 3 == 0:
        return json.dumps({"text": texts}).encode("ascii") + b"\0"
    value: Any = {"response": {"text": texts}} if form % 3 == 1 else texts
    return json_bytes(value, compact=True) + b"\0"


def _split_point(event: bytes) -> int:
    r"""Cut inside a multi-byte character if any, else before the NUL or in the middle.

    The choices vary with the event length so that clients see every kind of cut:
    a character split between writes, a record whose ``\0`` arrives alone, a record
    cut in half.
    """
    leads = [index for index, byte in enumerate(event) if byte >= 0xC0]
    if leads:
        return leads[len(event) % len(leads)] + 1
    if len(event) > 2 and len(event) % 2 == 0:
        return len(event) - 1
    return max(1, len(event) // 2)


def error_object(message: str, status: int) -> dict[str, Any]:
    """The error object Portkey's MonsterAPI client parses, in a body or a stream record.

    Args:
        message: The error text.
        status: The HTTP status (or the in-stream code).

    Returns:
        ``{"error": {"message", "type", "code"}}``.
    """
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "code": status}}


def _error_record(message: str, status_code: int, *, as_event: bool) -> bytes:
    """The in-stream error record: :func:`error_object`, NUL-terminated."""
    del as_event  # no event names in a NUL-delimited stream
    return json_bytes(error_object(message, status_code), compact=True) + b"\0"


def _cut_record(record: bytes) -> bytes:
    r"""What a truncated stream sends of its last record: the first half, without ``\0``."""
    record = record[:-1]
    return record[: max(1, len(record) // 2)]


def stream_script(generation: Generation, *, mixed: bool = False) -> StreamScript:
    """Frame a generation as the NUL-delimited stream.

    Args:
        generation: What the model produced.
        mixed: Rotate the record shapes (fault ``mixed_records``); by default every
            record has vLLM's shape.

    Returns:
        The stream script.
    """
    events = [
        StreamEvent(encode_record(texts, index if mixed else 0))
        for index, texts in enumerate(stream_texts(generation))
    ]
    return StreamScript(
        events=events,
        content_type="application/octet-stream",
        pings=(b"\0",),
        malformed=b"{not json\0",
        error_record=_error_record,
        split=_split_point,
        cut_record=_cut_record,
    )

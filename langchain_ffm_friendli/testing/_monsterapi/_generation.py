"""MonsterAPI ``/v1/generate`` answers: the scripted generation and its wire encodings.

The non-streaming body is ``{"model", "response": {"text", "token_counts",
"credits_consumed"}}``; the stream is NUL-terminated JSON records with the cumulative
text of every sequence, as vLLM's demo server writes them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from .._faults import StreamEvent, StreamScript
from .._model import ModelRequest, Reply, complete, count_tokens, tokenize
from ._request import Params, apply_chat_template, messages_from_prompt

__all__ = [
    "Generation",
    "encode_response",
    "fastapi_json",
    "generate",
    "stream_script",
    "truncated_script",
]

#: A deterministic price, in the order of magnitude of the documented example.
_CREDITS_PER_TOKEN = 7e-6
_GREETING = "Hello!"
_OPENERS = ("Hello!", "Hi!", "Hey there!", "Greetings!", "Good day!")
_BEAM_WORDS = ("Well", "Perhaps", "Indeed")
_BEAM_PUNCTUATION = ("?", ",", ";")

# ------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Generation:
    """What the model produced for one request, before encoding.

    Attributes:
        echo: The text every output starts with (the prompt, or "" for ``messages``).
        outputs: Per returned sequence, its generated text (without the echo).
        snapshots: Per sequence, the cumulative generated text at each stream step;
            beam search includes a step where another beam leads.
        input_tokens: ``token_counts.input``.
        output_tokens: ``token_counts.output`` (all returned sequences).
    """

    echo: str
    outputs: list[str]
    snapshots: list[list[str]]
    input_tokens: int
    output_tokens: int

    @property
    def texts(self) -> list[str]:
        """The final ``response.text`` list."""
        return [self.echo + output for output in self.outputs]

    @property
    def credits(self) -> float:
        """A deterministic ``credits_consumed``."""
        return round((self.input_tokens + self.output_tokens) * _CREDITS_PER_TOKEN, 8)


def _variants(text: str, count: int, *, scripted: bool) -> list[str]:
    """``count`` outputs: the default greeting varies per sequence, scripted text does not."""
    outputs = [text]
    for index in range(1, count):
        if scripted or not text.startswith(_GREETING):
            outputs.append(text)
            continue
        variant = _OPENERS[index % len(_OPENERS)] + text[len(_GREETING) :]
        if index >= len(_OPENERS):
            variant += f" ({index + 1})"
        outputs.append(variant)
    return outputs


def _cut(text: str, max_tokens: int) -> str:
    """Keep the first ``max_tokens`` tokens (no stop sequences in this API)."""
    tokens = tokenize(text)
    return text if len(tokens) <= max_tokens else "".join(tokens[:max_tokens])


def _beam_snapshots(tokens: list[str]) -> list[str]:
    """Cumulative steps with one step where a losing beam led, rewriting earlier text.

    The extra step replaces the token before step ``at`` (``at = min(2, len - 1)``) by
    another word (or punctuation by other punctuation), so it is not an extension of
    the step before it, and the step after it (the winning beam again) is not an
    extension of it; the last step is the final text.
    """
    if not tokens:
        return [""]
    steps = ["".join(tokens[: i + 1]) for i in range(len(tokens))]
    at = min(2, len(tokens) - 1)
    changed_index = max(at - 1, 0)
    head = "".join(tokens[:changed_index])
    changed = tokens[changed_index]
    tail = tokens[at] if at >= 1 else ""
    stripped = changed.lstrip()
    lead = changed[: len(changed) - len(stripped)]
    words = _BEAM_WORDS if stripped[:1].isalnum() or not stripped else _BEAM_PUNCTUATION
    previous = steps[at - 1] if at >= 1 else None
    alternative = head + lead + words[-1] + tail
    for word in words:
        candidate = head + lead + word + tail
        extends_previous = previous is not None and candidate.startswith(previous)
        if not extends_previous and not steps[at].startswith(candidate):
            alternative = candidate
            break
    steps.insert(at, alternative)
    return steps


def generate(params: Params, reply: Reply | None) -> Generation:
    """Run the scripted model for a validated request.

    Args:
        params: The request.
        reply: A scripted reply overriding the default model, if any. Tool calls are
            written into the text (``<function=NAME>{json}</function>``): this raw
            generation API has no structured tool calls.

    Returns:
        The generation, cut to ``max_tokens`` per sequence.
    """
    if params.prompt is not None:
        echo = params.prompt
        messages = messages_from_prompt(params.prompt)
        input_tokens = count_tokens(params.prompt)
    else:
        assert params.messages is not None
        echo = ""
        messages = params.messages
        input_tokens = count_tokens(apply_chat_template(params.model, params.messages))
    if reply is not None and reply.tool_calls:
        reply = dataclasses.replace(reply, tool_call_style="text")
    completion = complete(ModelRequest(messages=messages), reply, provider="MonsterAPI")
    variants = _variants(completion.text, params.n, scripted=reply is not None)
    outputs = [_cut(text, params.max_tokens) for text in variants]
    snapshots = []
    for output in outputs:
        tokens = tokenize(output)
        if params.use_beam_search:
            snapshots.append(_beam_snapshots(tokens))
        else:
            snapshots.append(["".join(tokens[: i + 1]) for i in range(len(tokens))] or [""])
    output_tokens = sum(count_tokens(output) for output in outputs)
    if reply is not None and reply.prompt_tokens is not None:
        input_tokens = reply.prompt_tokens
    if reply is not None and reply.completion_tokens is not None:
        output_tokens = reply.completion_tokens
    return Generation(
        echo=echo,
        outputs=outputs,
        snapshots=snapshots,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


# ------------------------------------------------------------------------- encoding


def fastapi_json(value: Any) -> bytes:
    """Serialise like FastAPI's ``JSONResponse``: UTF-8, compact separators."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_response(params: Params, generation: Generation) -> dict[str, Any]:
    """The non-streaming body.

    Args:
        params: The request.
        generation: What the model produced.

    Returns:
        ``{"model", "response": {"text", "token_counts", "credits_consumed"}}``.
    """
    return {
        "model": params.model,
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
    return fastapi_json(value) + b"\0"


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


def _error_record(message: str, status_code: int, *, as_event: bool) -> bytes:
    """The in-stream error record (Portkey's MonsterAPI error object)."""
    del as_event  # no event names in a NUL-delimited stream
    kind = "server_error" if status_code >= 500 else "invalid_request_error"
    error = {"message": message, "type": kind, "code": status_code}
    return fastapi_json({"error": error}) + b"\0"


def stream_script(generation: Generation, *, mixed: bool = False) -> StreamScript:
    """Frame a generation as the NUL-delimited stream.

    Args:
        generation: What the model produced.
        mixed: Rotate the record shapes (fault ``mixed_records``); by default every
            record has vLLM's shape.

    Returns:
        The script for :func:`play_stream`.
    """
    events = [
        StreamEvent(encode_record(texts, index if mixed else 0))
        for index, texts in enumerate(stream_texts(generation))
    ]
    return StreamScript(
        events=events,
        pings=(b"\0",),
        malformed=b"{not json\0",
        error_record=_error_record,
        split=_split_point,
    )


def truncated_script(script: StreamScript, after: int) -> StreamScript:
    """``after`` whole records, then the first half of the next one without its NUL."""
    after = min(max(after, 0), len(script.events) - 1)
    record = script.events[after].data[:-1]
    partial = StreamEvent(record[: max(1, len(record) // 2)])
    return dataclasses.replace(script, events=[*script.events[:after], partial])

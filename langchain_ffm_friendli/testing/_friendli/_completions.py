"""Friendli text completions (``/v1/completions``): validation, the answer and its encoders.

Exactly one of ``prompt`` and ``tokens``; the fields of the current spec and of the
legacy (beam search) revision are validated. Choices carry ``seed`` and deterministic
pseudo ``tokens``; the current stream sends ``data:`` chunks with the sampled ``token``
id, a finish chunk, an optional usage chunk and ``[DONE]``; the legacy stream
(``token_sampled`` events and one final record) is sent on request.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import Any

from .._exchange import Exchange
from .._faults import StreamEvent, play_stream
from .._fields import RequestError, read_bool, read_float, read_int, read_list, read_model
from .._model import Completion, ModelRequest, Reply, complete, count_tokens
from .._openai_chat import (
    apply_limits,
    read_sampling,
    split_item,
    start_sse,
    structured_text,
)
from .._openai_encode import (
    DONE,
    new_id,
    sse,
    stream_script,
    token_logprob,
    top_alternatives,
)

__all__ = ["PROVIDER", "CompletionsRequest", "answer_completions", "parse_completions_request"]

PROVIDER = "Friendli"
_BEAM_TYPES = ("DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING")
_MAX_LOGPROBS = 20
_MICROSECONDS_PER_TOKEN = 1000


@dataclass(frozen=True)
class CompletionsRequest:
    """A validated text completions request.

    Attributes:
        model: The requested model (None when optional and omitted).
        prompts: The prompt texts (one per prompt; the tokens form gets a stand-in).
        prompt_tokens: The prompt token count of each prompt.
        n: Generations per prompt.
        stop: Stop phrases (excluded from the output).
        max_tokens: Completion token limit per prompt (from ``max_tokens`` or
            ``max_total_tokens``), None for none.
        seed: The seed(s), None when unset.
        logprobs: Alternatives per position, None when not requested.
        stream: Whether to stream.
        include_usage: Whether the stream ends with a usage chunk.
        response_format: The validated ``response_format``, None when unset.
        timeout_microseconds: The legacy request timeout, None when unset.
    """

    model: str | None
    prompts: list[str]
    prompt_tokens: list[int]
    n: int
    stop: list[str]
    max_tokens: list[int | None]
    seed: int | list[int] | None
    logprobs: int | None
    stream: bool
    include_usage: bool
    response_format: Mapping[str, Any] | None
    timeout_microseconds: int | None


def _token_sequences(body: Mapping[str, Any], key: str) -> None:
    """``bad_word_tokens`` / ``stop_tokens``: a list of ``{"tokens": [int, ...]}``."""
    value = body.get(key)
    if value is None:
        return
    valid = isinstance(value, list) and all(
        isinstance(item, Mapping)
        and isinstance(item.get("tokens"), list)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in item["tokens"])
        for item in value
    )
    if not valid:
        raise RequestError(f"'{key}' must be a list of {{\"tokens\": [integers]}} objects")


def _both_or_neither(body: Mapping[str, Any], first: str, second: str) -> None:
    """Two fields that only make sense together."""
    if (body.get(first) is None) != (body.get(second) is None):
        raise RequestError(f"'{first}' and '{second}' must be given together")


def _one_of(body: Mapping[str, Any], first: str, second: str) -> None:
    """Two mutually exclusive fields."""
    if body.get(first) is not None and body.get(second) is not None:
        raise RequestError(f"Only one of '{first}' and '{second}' can be set")


def _beam_search(body: Mapping[str, Any], *, stream: bool, n: int, stop: list[str]) -> None:
    """The legacy beam-search fields and their documented restrictions."""
    beams = read_int(body, "num_beams", low=1, high=31)
    kind = body.get("beam_search_type")
    if kind is not None and kind not in _BEAM_TYPES:
        allowed = ", ".join(f"'{t}'" for t in _BEAM_TYPES)
        raise RequestError(f"'beam_search_type' must be one of {allowed}; got {json.dumps(kind)}")
    read_bool(body, "early_stopping")
    read_float(body, "length_penalty")
    for key in ("early_stopping", "length_penalty"):
        if body.get(key) is not None and beams is None:
            raise RequestError(f"'{key}' is only allowed for beam search ('num_beams')")
    if beams is None or beams <= 1:
        return
    if stream:
        raise RequestError("'stream' is not supported with beam search ('num_beams' > 1)")
    if n > 1:
        raise RequestError("'n' > 1 is not supported with beam search ('num_beams' > 1)")
    if stop:
        raise RequestError(
            "'stop' is not supported with beam search ('num_beams' > 1); use 'stop_tokens'"
        )
    if (kind or "DETERMINISTIC") == "DETERMINISTIC":
        for key in ("top_k", "top_p"):
            if body.get(key) is not None:
                raise RequestError(
                    f"'{key}' is not allowed with the DETERMINISTIC 'beam_search_type'"
                )


def _prompts(body: Mapping[str, Any]) -> tuple[list[str], list[int]]:
    """Exactly one of ``prompt`` (string or list of strings) and ``tokens``."""
    prompt, tokens = body.get("prompt"), body.get("tokens")
    if prompt is None and tokens is None:
        raise RequestError("Either 'prompt' or 'tokens' is required")
    _one_of(body, "prompt", "tokens")
    if tokens is not None:
        ids = read_list(body, "tokens", "integer") or []
        if not ids:
            raise RequestError("'tokens' must not be empty")
        return [f"tokens {ids}"], [len(ids)]
    if isinstance(prompt, str):
        return [prompt], [count_tokens(prompt)]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return list(prompt), [count_tokens(p) for p in prompt]
    raise RequestError("'prompt' must be a string or a non-empty list of strings")


def parse_completions_request(
    body: Mapping[str, Any], *, require_model: bool = True
) -> CompletionsRequest:
    """Validate a completions body: current fields and the legacy (seed) ones.

    Args:
        body: The JSON body.
        require_model: Whether ``model`` is required (container: optional).

    Returns:
        The request.

    Raises:
        RequestError: On the first invalid field or combination.
    """
    model = read_model(body, required=require_model)
    prompts, prompt_tokens = _prompts(body)
    _one_of(body, "max_tokens", "max_total_tokens")
    _one_of(body, "min_tokens", "min_total_tokens")
    options = read_sampling(body, repetition_floor=1.0)
    max_total = read_int(body, "max_total_tokens", low=1)
    read_int(body, "min_total_tokens", low=0)
    _beam_search(body, stream=options.stream, n=options.n, stop=options.stop)
    read_int(body, "no_repeat_ngram", low=1)
    read_int(body, "encoder_no_repeat_ngram", low=1)
    read_float(body, "encoder_repetition_penalty", low=1.0)
    read_list(body, "bad_words", "string")
    _token_sequences(body, "bad_word_tokens")
    _token_sequences(body, "stop_tokens")
    read_list(body, "forced_output_tokens", "integer")
    read_list(body, "token_index_to_replace", "integer")
    read_list(body, "embedding_to_replace", "number")
    _both_or_neither(body, "token_index_to_replace", "embedding_to_replace")
    read_bool(body, "include_output_logits")
    read_bool(body, "include_output_logprobs")
    timeout = read_int(body, "timeout_microseconds", low=1)
    logprobs = read_int(body, "logprobs", low=0, high=_MAX_LOGPROBS)
    limits: list[int | None] = []
    for count in prompt_tokens:
        if max_total is None:
            limits.append(options.max_tokens)
        elif max_total <= count:
            raise RequestError(
                f"'max_total_tokens' ({max_total}) must be greater than the number of "
                f"prompt tokens ({count})"
            )
        else:
            limits.append(max_total - count)
    return CompletionsRequest(
        model=model,
        prompts=prompts,
        prompt_tokens=prompt_tokens,
        n=options.n,
        stop=options.stop,
        max_tokens=limits,
        seed=options.seed,
        logprobs=logprobs,
        stream=options.stream,
        include_usage=options.include_usage,
        response_format=options.response_format,
        timeout_microseconds=timeout,
    )


def token_id(piece: str) -> int:
    """A deterministic pseudo vocabulary id for a token text (same text, same id).

    Args:
        piece: The token text.

    Returns:
        An id in [1000, 128000).
    """
    digest = hashlib.sha256(piece.encode("utf-8")).digest()
    return 1000 + int.from_bytes(digest[:4], "big") % 127000


@dataclass(frozen=True)
class _Choice:
    """One generated completions choice."""

    index: int
    seed: int
    prompt: str
    completion: Completion


def _seed(request: CompletionsRequest, generation: int, prompt: str) -> int:
    """The seed a generation used: given, derived from a given int, or pseudo-random."""
    if isinstance(request.seed, list):
        return request.seed[generation]
    if isinstance(request.seed, int):
        return request.seed + generation
    digest = hashlib.sha256(f"{prompt}:{generation}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def _default_text(prompt: str, generation: int) -> str:
    """The default continuation of a prompt (different per generation)."""
    sample = f" (sample {generation + 1})" if generation else ""
    return f" This is the {PROVIDER} emulator continuing{sample}: {prompt}"


def generate_choices(request: CompletionsRequest, reply: Reply | None) -> list[_Choice]:
    """Generate ``n`` choices per prompt (prompt-major ``index``).

    Args:
        request: The validated request.
        reply: A scripted reply (same text for every choice), if any.

    Returns:
        The choices.
    """
    choices = []
    for number, (prompt, prompt_tokens, limit) in enumerate(
        zip(request.prompts, request.prompt_tokens, request.max_tokens, strict=True)
    ):
        messages = [{"role": "user", "content": prompt}]
        for generation in range(request.n):
            scripted = reply
            if scripted is None:
                text = structured_text(request.response_format, messages, provider=PROVIDER)
                scripted = Reply(
                    text=text if text is not None else _default_text(prompt, generation)
                )
            completion = complete(ModelRequest(messages=messages), scripted, provider=PROVIDER)
            completion = replace(completion, tool_calls=[])
            if reply is None or reply.prompt_tokens is None:
                completion = replace(completion, prompt_tokens=prompt_tokens)
            completion = apply_limits(completion, stop=request.stop, max_tokens=limit, reply=reply)
            choices.append(
                _Choice(
                    index=number * request.n + generation,
                    seed=_seed(request, generation, prompt),
                    prompt=prompt,
                    completion=completion,
                )
            )
    return choices


def _completion_reason(completion: Completion) -> str:
    """Completions report ``stop`` or ``length``."""
    if completion.finish_reason_override is not None:
        return completion.finish_reason_override
    return "length" if completion.finish_reason == "length" else "stop"


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


def _usage(request: CompletionsRequest, choices: Sequence[_Choice]) -> dict[str, int]:
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
    request: CompletionsRequest, choices: Sequence[_Choice], response_id: str
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
            "finish_reason": _completion_reason(completion),
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


def _stream_records(
    request: CompletionsRequest, choices: Sequence[_Choice], response_id: str, created: int
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
        reason = _completion_reason(choice.completion)
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


def _legacy_records(request: CompletionsRequest, choices: Sequence[_Choice]) -> list[Any]:
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


async def answer_completions(
    exchange: Exchange, request: CompletionsRequest, *, legacy: bool
) -> None:
    """Dequeue, apply faults, generate and send the JSON body or the stream."""
    item = exchange.take(stream=request.stream)
    if await exchange.apply_http_fault(item, stream=request.stream):
        return
    fault, reply = split_item(item)
    choices = generate_choices(request, reply)
    generated = max((c.completion.completion_tokens for c in choices), default=0)
    needed = _MICROSECONDS_PER_TOKEN * max(generated, 1)
    if request.timeout_microseconds is not None and request.timeout_microseconds < needed:
        await exchange.send_error(
            429, f"Request timed out after {request.timeout_microseconds} microseconds"
        )
        return
    response_id = new_id("cmpl-")
    if not request.stream:
        await exchange.send_json(200, encode_completions(request, choices, response_id))
        return
    if legacy:
        events = [StreamEvent(sse(record)) for record in _legacy_records(request, choices)]
    else:
        records = _stream_records(request, choices, response_id, int(time.time()))
        events = [StreamEvent(sse(record)) for record in records]
        events.append(StreamEvent(DONE))
    await start_sse(exchange)
    await play_stream(stream_script(events), exchange.writer, fault)

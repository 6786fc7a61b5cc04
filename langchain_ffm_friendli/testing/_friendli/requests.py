"""Friendli requests: text completions, tokenize and tool-assisted chat bodies.

Chat bodies are the OpenAI-compatible ones (:mod:`.._openai_compatible.requests`); this
module adds what Friendli's other routes accept, validated like the server does and
refused with HTTP 422 and a message naming the field (``protocols/friendli.md``).

Text completions: exactly one of ``prompt`` (string or list of strings) and ``tokens``;
the fields of the current spec and of the legacy (beam search) revision are validated
(``beam_search_type`` without ``num_beams`` is ignored, as the legacy docs say).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._fields import RequestError, read_bool, read_float, read_int, read_list, read_model
from .._model import count_tokens
from .._openai_compatible.requests import ChatRequest, parse_chat_request, read_sampling
from .builtin_tools import BUILTIN_TOOLS

__all__ = [
    "CompletionsRequest",
    "TokenizeRequest",
    "ToolsChatRequest",
    "parse_completions_request",
    "parse_tokenize_request",
    "parse_tools_chat_request",
]

_BEAM_TYPES = ("DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING")
_MAX_LOGPROBS = 20
_MAX_TOOLS = 128

# ---------------------------------------------------------------------- completions


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


# ------------------------------------------------------------------------- tokenize


@dataclass(frozen=True)
class TokenizeRequest:
    """A validated ``/tokenize`` request.

    Attributes:
        model: The requested model (None when optional and omitted).
        prompt: The text to tokenize.
    """

    model: str | None
    prompt: str


def _read_prompt(body: Mapping[str, Any]) -> str:
    """``prompt`` of a tokenize request: a required string."""
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise RequestError("'prompt' is required and must be a string")
    return prompt


def parse_tokenize_request(
    body: Mapping[str, Any], *, require_model: bool = True
) -> TokenizeRequest:
    """Validate a tokenize body: ``{"model", "prompt"}`` (protocols/friendli.md §1.1).

    Args:
        body: The JSON object body.
        require_model: Whether ``model`` must be given (the container's is optional).

    Returns:
        The model and the prompt.

    Raises:
        RequestError: If ``model`` or ``prompt`` is missing or not a string.
    """
    model = read_model(body, required=require_model)
    return TokenizeRequest(model=model, prompt=_read_prompt(body))


# --------------------------------------------------------------- tool-assisted chat


@dataclass(frozen=True)
class ToolsChatRequest:
    """A validated tool-assisted chat request.

    Attributes:
        chat: The chat request; ``server_tools`` holds the built-in tools.
        resume: ``resume_generation``: answer after a failed built-in tool run.
    """

    chat: ChatRequest
    resume: bool

    @property
    def model(self) -> str | None:
        """The requested model."""
        return self.chat.model

    @property
    def stream(self) -> bool:
        """Whether the answer streams."""
        return self.chat.stream


def _check_builtin_tools(body: Mapping[str, Any]) -> None:
    """Tool-assisted extras: at most 128 tools, ``file:text`` takes one file id."""
    tools = body.get("tools") or []
    if len(tools) > _MAX_TOOLS:
        raise RequestError(f"'tools' supports at most {_MAX_TOOLS} tools; got {len(tools)}")
    for index, tool in enumerate(tools):
        if tool.get("type") != "file:text":
            continue
        files = tool.get("files")
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise RequestError(f"'tools[{index}].files' is required: a list of file ids")
        if len(files) != 1:
            raise RequestError(
                f"'tools[{index}].files' supports exactly one file currently; got {len(files)}"
            )


def parse_tools_chat_request(body: Mapping[str, Any]) -> ToolsChatRequest:
    """Validate a tool-assisted chat body: chat fields, built-in tools, ``resume_generation``.

    Args:
        body: The JSON body.

    Returns:
        The request (no ``response_format`` or ``min_tokens`` on this endpoint).

    Raises:
        RequestError: On the first invalid field.
    """
    chat = parse_chat_request(body, server_tool_types=BUILTIN_TOOLS, structured=False)
    _check_builtin_tools(body)
    return ToolsChatRequest(chat=chat, resume=bool(read_bool(body, "resume_generation")))

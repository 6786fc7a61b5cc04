"""OpenAI-compatible chat completions requests: validation like the servers do.

Requests are validated like the server does (protocols/friendli.md §2) and rejected
with HTTP 422 and a ``{"detail": "..."}`` message that names the field: value ranges,
``tools`` together with ``response_format`` or ``min_tokens``, ``response_format`` with
``min_tokens``, ``top_logprobs`` without ``logprobs``, ``stream_options`` without
``stream``, message shapes. Fields the emulator does not know are ignored. The sampling
fields are shared with Friendli's text completions (:func:`read_sampling`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .._fields import (
    RequestError,
    is_number,
    read_bool,
    read_float,
    read_int,
    read_list,
    read_model,
    read_object,
    show,
)
from .._regex import RegexError, RegexWriter, WriterLimitError

__all__ = [
    "ChatRequest",
    "SamplingOptions",
    "parse_chat_request",
    "read_messages",
    "read_sampling",
    "read_tool_choice",
    "read_tools",
]

_ROLES = ("system", "user", "assistant", "tool")
_PART_TYPES = ("text", "image_url", "audio_url", "video_url")
_TOOL_CHOICES = ("none", "auto", "required")
_FORMAT_TYPES = ("text", "json_object", "json_schema", "regex")
_REASONING_EFFORTS = ("minimal", "low", "medium", "high", "xhigh", "max", "ultracode")
_FUNCTION_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_TOP_LOGPROBS = 20


def read_seed(body: Mapping[str, Any], n: int) -> int | list[int] | None:
    """Read ``seed``: an integer, or one integer per generation (``n`` of them).

    Args:
        body: The request body.
        n: The number of generations.

    Returns:
        The seed(s), or None when absent.

    Raises:
        RequestError: If the seed is malformed.
    """
    value = body.get("seed")
    if isinstance(value, list):
        seeds = read_list(body, "seed", "integer") or []
        if len(seeds) != n:
            raise RequestError(
                f"'seed' must have one value per generation ('n' = {n}); got {len(seeds)}"
            )
        return seeds
    return read_int(body, "seed", low=0)


@dataclass(frozen=True)
class SamplingOptions:
    """The generation options chat and text completions share.

    Attributes:
        n: Number of generations.
        stop: Stop phrases (excluded from the output).
        max_tokens: Completion token limit, None for none.
        min_tokens: Minimum completion tokens, None when unset.
        stream: Whether to stream.
        include_usage: Whether a stream ends with a usage chunk.
        seed: The seed or seeds, None when unset.
        response_format: The validated ``response_format`` object, None when unset.
    """

    n: int
    stop: list[str]
    max_tokens: int | None
    min_tokens: int | None
    stream: bool
    include_usage: bool
    seed: int | list[int] | None
    response_format: Mapping[str, Any] | None


def read_sampling(
    body: Mapping[str, Any], *, repetition_floor: float = 0.0, structured: bool = True
) -> SamplingOptions:
    """Validate the sampling fields chat and completions share (Friendli ranges).

    ``temperature`` >= 0, ``top_p`` in (0, 1], ``top_k`` >= 0, ``min_p`` in [0, 1],
    ``frequency_penalty``/``presence_penalty`` in [-2, 2], ``repetition_penalty`` >
    ``repetition_floor`` (or >= it when the floor is positive), ``xtc_threshold`` and
    ``xtc_probability`` in [0, 1], ``n`` >= 1, ``max_tokens`` >= 1, ``min_tokens`` >= 0,
    ``stop`` a list of strings, ``logit_bias`` an object of numbers, ``eos_token`` a
    list of integers, ``stream_options`` only with ``stream: true``.

    Args:
        body: The request body.
        repetition_floor: 0.0 for "must be positive"; 1.0 for "must be >= 1.0".
        structured: Whether ``response_format`` and ``min_tokens`` exist on the endpoint
            (when not, they are ignored like any unknown field).

    Returns:
        The options.

    Raises:
        RequestError: On the first invalid field.
    """
    read_float(body, "temperature", low=0.0)
    read_float(body, "top_p", low=0.0, high=1.0, low_open=True)
    read_int(body, "top_k", low=0)
    read_float(body, "min_p", low=0.0, high=1.0)
    read_float(body, "frequency_penalty", low=-2.0, high=2.0)
    read_float(body, "presence_penalty", low=-2.0, high=2.0)
    read_float(body, "repetition_penalty", low=repetition_floor, low_open=repetition_floor == 0)
    read_float(body, "xtc_threshold", low=0.0, high=1.0)
    read_float(body, "xtc_probability", low=0.0, high=1.0)
    bias = read_object(body, "logit_bias")
    if bias is not None and not all(is_number(v) for v in bias.values()):
        raise RequestError("'logit_bias' values must be numbers")
    read_list(body, "eos_token", "integer")
    n = read_int(body, "n", low=1) or 1
    seed = read_seed(body, n)
    max_tokens = read_int(body, "max_tokens", low=1)
    options = SamplingOptions(
        n=n,
        seed=seed,
        max_tokens=max_tokens,
        min_tokens=read_int(body, "min_tokens", low=0) if structured else None,
        stop=read_list(body, "stop", "string") or [],
        stream=bool(read_bool(body, "stream")),
        include_usage=_include_usage(body),
        response_format=read_response_format(body) if structured else None,
    )
    _check_lengths(options)
    return options


def _include_usage(body: Mapping[str, Any]) -> bool:
    """``stream_options.include_usage``; ``stream_options`` only with ``stream: true``."""
    options = read_object(body, "stream_options")
    if options is None:
        return False
    if read_bool(body, "stream") is not True:
        raise RequestError("'stream_options' can only be used when 'stream' is true")
    return bool(read_bool(options, "include_usage"))


def _check_lengths(options: SamplingOptions) -> None:
    """``min_tokens``: not with ``response_format``, not above ``max_tokens``."""
    min_tokens, max_tokens = options.min_tokens, options.max_tokens
    if options.response_format is not None and min_tokens is not None:
        raise RequestError("The 'min_tokens' field cannot be set when 'response_format' is set")
    if min_tokens is not None and max_tokens is not None and min_tokens > max_tokens:
        raise RequestError(
            f"'min_tokens' ({min_tokens}) must not be greater than 'max_tokens' ({max_tokens})"
        )


def read_response_format(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Validate ``response_format`` (types ``text``, ``json_object``, ``json_schema``, ``regex``).

    Args:
        body: The request body.

    Returns:
        The object, or None when absent.

    Raises:
        RequestError: If it is malformed, or a regex is invalid or uses a construct the
            server does not support (anchors, lookaround, backreferences).
    """
    fmt = read_object(body, "response_format")
    if fmt is None:
        return None
    kind = fmt.get("type")
    if kind not in _FORMAT_TYPES:
        allowed = ", ".join(f"'{t}'" for t in _FORMAT_TYPES)
        raise RequestError(f"'response_format.type' must be one of {allowed}; got {show(kind)}")
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
            raise RequestError(
                "'response_format.json_schema.schema' is required and must be an object"
            )
    if kind == "regex":
        pattern = fmt.get("schema")
        if not isinstance(pattern, str):
            raise RequestError("'response_format.schema' must be a regex string")
        try:
            re.compile(pattern)
            RegexWriter(pattern).write()
        except (re.error, RegexError) as exc:
            raise RequestError(f"Invalid regex in 'response_format.schema': {exc}") from exc
        except (WriterLimitError, ValueError, IndexError):
            pass  # valid for the server; the emulator falls back to an empty answer
    return fmt


# ----------------------------------------------------------- messages, tools, the request


@dataclass(frozen=True)
class ChatRequest:
    """A validated chat completions request.

    Attributes:
        model: The requested model (None when optional and omitted).
        messages: OpenAI-style messages.
        tools: Function tools, for the scripted model.
        server_tools: Tools of other types the provider runs itself (tool-assisted chat).
        tool_choice: ``none``/``auto``/``required``, a named choice, or None.
        parallel_tool_calls: False limits an answer to one tool call.
        parse_reasoning: Whether reasoning goes into ``reasoning_content`` (default
            true) rather than the text.
        include_reasoning: Whether parsed reasoning is sent at all (default true).
        logprobs: Whether to return log probabilities.
        top_logprobs: Alternatives per position.
        options: The shared sampling options.
    """

    model: str | None
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    server_tools: list[dict[str, Any]]
    tool_choice: str | Mapping[str, Any] | None
    parallel_tool_calls: bool
    parse_reasoning: bool
    include_reasoning: bool
    logprobs: bool
    top_logprobs: int
    options: SamplingOptions

    @property
    def stream(self) -> bool:
        """Whether the answer streams."""
        return self.options.stream


def _user_content(index: int, content: Any) -> None:
    """A user message's content: a string or a list of typed parts."""
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise RequestError(
            f"'messages[{index}].content' must be a string or a list of content parts"
        )
    for number, part in enumerate(content):
        where = f"messages[{index}].content[{number}]"
        if not isinstance(part, Mapping) or part.get("type") not in _PART_TYPES:
            allowed = ", ".join(f"'{t}'" for t in _PART_TYPES)
            raise RequestError(f"'{where}.type' must be one of {allowed}")
        kind = part["type"]
        if kind == "text" and not isinstance(part.get("text"), str):
            raise RequestError(f"'{where}.text' must be a string")
        if kind != "text" and not isinstance(part.get(kind), Mapping):
            raise RequestError(f"'{where}.{kind}' must be an object with a 'url'")


def _assistant_message(index: int, message: Mapping[str, Any]) -> None:
    """An assistant message: content (string or null) unless tool calls are given."""
    content = message.get("content")
    calls = message.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise RequestError(f"'messages[{index}].tool_calls' must be a list")
        for number, call in enumerate(calls):
            where = f"messages[{index}].tool_calls[{number}]"
            function = call.get("function") if isinstance(call, Mapping) else None
            if not isinstance(call, Mapping) or not isinstance(call.get("id"), str):
                raise RequestError(f"'{where}.id' must be a string")
            if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
                raise RequestError(f"'{where}.function.name' must be a string")
            if not isinstance(function.get("arguments"), str):
                raise RequestError(f"'{where}.function.arguments' must be a JSON string")
    if content is None and not calls:
        raise RequestError(f"'messages[{index}].content' is required unless 'tool_calls' is set")
    if content is not None and not isinstance(content, str):
        raise RequestError(f"'messages[{index}].content' must be a string or null")


def read_messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Validate ``messages`` (roles ``system``, ``user``, ``assistant``, ``tool``).

    Args:
        body: The request body.

    Returns:
        The messages as dicts.

    Raises:
        RequestError: On the first malformed message.
    """
    raw = body.get("messages")
    if raw is None:
        raise RequestError("'messages' is required")
    if not isinstance(raw, list) or not raw:
        raise RequestError("'messages' must be a non-empty list")
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(raw):
        if not isinstance(message, Mapping):
            raise RequestError(f"'messages[{index}]' must be an object")
        role = message.get("role")
        if role not in _ROLES:
            allowed = ", ".join(f"'{r}'" for r in _ROLES)
            raise RequestError(
                f"'messages[{index}].role' must be one of {allowed}; got {show(role)}"
            )
        content = message.get("content")
        if role == "user":
            _user_content(index, content)
        elif role == "assistant":
            _assistant_message(index, message)
        elif not isinstance(content, str):
            raise RequestError(f"'messages[{index}].content' must be a string")
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise RequestError(f"'messages[{index}].tool_call_id' is required for tool messages")
        messages.append(dict(message))
    return messages


def read_tools(
    body: Mapping[str, Any], server_tool_types: Collection[str] = ()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate ``tools``: function tools plus, optionally, provider-run tool types.

    Args:
        body: The request body.
        server_tool_types: Non-function ``type`` values the endpoint accepts.

    Returns:
        The function tools and the other (server-run) tools, each in request order.

    Raises:
        RequestError: On the first malformed tool.
    """
    raw = body.get("tools")
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise RequestError("'tools' must be a list")
    functions: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for index, tool in enumerate(raw):
        kind = tool.get("type") if isinstance(tool, Mapping) else None
        if not isinstance(tool, Mapping) or (kind != "function" and kind not in server_tool_types):
            allowed = ", ".join(f"'{t}'" for t in ("function", *server_tool_types))
            raise RequestError(f"'tools[{index}].type' must be one of {allowed}; got {show(kind)}")
        if kind != "function":
            others.append(dict(tool))
            continue
        function = tool.get("function")
        if not isinstance(function, Mapping):
            raise RequestError(f"'tools[{index}].function' is required")
        name = function.get("name")
        if not isinstance(name, str) or not _FUNCTION_NAME_RE.fullmatch(name):
            raise RequestError(
                f"'tools[{index}].function.name' must be 1-64 characters of a-z, A-Z, 0-9, "
                f"'_' and '-'; got {show(name)}"
            )
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, Mapping):
            raise RequestError(f"'tools[{index}].function.parameters' must be a JSON schema object")
        functions.append(dict(tool))
    return functions, others


def read_tool_choice(body: Mapping[str, Any]) -> str | Mapping[str, Any] | None:
    """Validate ``tool_choice``: ``none``/``auto``/``required`` or a named function.

    Args:
        body: The request body.

    Returns:
        The choice, or None when absent.

    Raises:
        RequestError: If it has another form.
    """
    choice = body.get("tool_choice")
    if choice is None or choice in _TOOL_CHOICES:
        return choice
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if (
            choice.get("type") == "function"
            and isinstance(function, Mapping)
            and isinstance(function.get("name"), str)
        ):
            return choice
    raise RequestError(
        "'tool_choice' must be 'none', 'auto', 'required' or "
        f'{{"type": "function", "function": {{"name": ...}}}}; got {show(choice)}'
    )


def parse_chat_request(
    body: Mapping[str, Any],
    *,
    require_model: bool = True,
    server_tool_types: Collection[str] = (),
    structured: bool = True,
) -> ChatRequest:
    """Validate a chat completions body.

    Args:
        body: The JSON body.
        require_model: Whether ``model`` is required (Friendli's container: optional).
        server_tool_types: Tool types the provider runs itself (tool-assisted chat).
        structured: Whether the endpoint has ``response_format`` and ``min_tokens``.

    Returns:
        The request.

    Raises:
        RequestError: On the first invalid field or combination.
    """
    model = read_model(body, required=require_model)
    messages = read_messages(body)
    options = read_sampling(body, structured=structured)
    tools, server_tools = read_tools(body, server_tool_types)
    choice = read_tool_choice(body)
    if tools or server_tools:
        if options.response_format is not None:
            raise RequestError("The 'response_format' field cannot be set when tools are specified")
        if options.min_tokens is not None:
            raise RequestError("The 'min_tokens' field cannot be set when tools are specified")
    logprobs = bool(read_bool(body, "logprobs"))
    top = read_int(body, "top_logprobs", low=0, high=_MAX_TOP_LOGPROBS)
    if top is not None and not logprobs:
        raise RequestError("'top_logprobs' can only be used when 'logprobs' is true")
    parallel = read_bool(body, "parallel_tool_calls")
    read_object(body, "chat_template_kwargs")
    parse_reasoning = read_bool(body, "parse_reasoning") is not False
    include_reasoning = read_bool(body, "include_reasoning") is not False
    # "a positive integer" (a cap on reasoning tokens): the friendli SDK 0.16.5 body
    # models (ServerlessChatCompletionBody...), generated from Friendli's OpenAPI
    # document; the client refuses 0 alike (friendli/_protocol.validate_reasoning).
    read_int(body, "reasoning_budget", low=1)
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in _REASONING_EFFORTS:
        allowed = ", ".join(f"'{e}'" for e in _REASONING_EFFORTS)
        raise RequestError(f"'reasoning_effort' must be one of {allowed}; got {show(effort)}")
    return ChatRequest(
        model=model,
        messages=messages,
        tools=tools,
        server_tools=server_tools,
        tool_choice=choice,
        parallel_tool_calls=parallel is not False,
        parse_reasoning=parse_reasoning,
        include_reasoning=include_reasoning,
        logprobs=logprobs,
        top_logprobs=top or 0,
        options=options,
    )

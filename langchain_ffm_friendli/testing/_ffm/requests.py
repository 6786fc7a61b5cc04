"""FFM requests: the bodies validated like the FFM/TGI server (FastAPI, pydantic entries).

The checks run in FastAPI's order: the body (:func:`~.._fields.fastapi_body`), then the
fields, each refused with pydantic's entry or TGI's message (protocols/ffm.md §1).
Unknown keys are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._fields import RequestError, lax_float, lax_int, missing, pydantic_entry, wrong_type
from .._model import ModelRequest, count_tokens, prompt_token_count
from .models import EMBEDDING_LIMITS, context_size

__all__ = [
    "EmbeddingsRequest",
    "GenerationRequest",
    "parse_conversation",
    "parse_embeddings",
    "parse_generate",
]

_ROLES = ("system", "user", "human", "assistant", "tool", "function")
_DEFAULT_MAX_NEW_TOKENS = 350


@dataclass(frozen=True)
class GenerationRequest:
    """A validated ``/models/conversation`` or ``/models/generate`` request.

    Attributes:
        model: The requested model id.
        generation: What the scripted model is asked (OpenAI-style messages).
        stream: Whether to stream (only a JSON ``true`` streams).
    """

    model: str
    generation: ModelRequest
    stream: bool


@dataclass(frozen=True)
class EmbeddingsRequest:
    """A validated ``/models/embeddings`` request.

    Attributes:
        model: The requested model id.
        inputs: The texts to embed.
    """

    model: str
    inputs: list[str]


def _number(params: Mapping[str, Any], key: str, *, integer: bool) -> float | None:
    """Read a numeric parameter; None when absent or null (null means default)."""
    errors: list[dict[str, Any]] = []
    read = lax_int if integer else lax_float
    value = read(params, key, errors, ("parameters",))
    if errors:
        raise RequestError(errors)
    return None if value is None else float(value)


def _stop_sequences(params: Mapping[str, Any]) -> list[str]:
    """``parameters.stop_sequences``: at most 4 strings."""
    stops = params.get("stop_sequences")
    if stops is None:
        return []
    if not isinstance(stops, list):
        raise RequestError([wrong_type(["parameters", "stop_sequences"], "list", stops)])
    for index, stop in enumerate(stops):
        if not isinstance(stop, str):
            raise RequestError(
                [wrong_type(["parameters", "stop_sequences", index], "string", stop)]
            )
    if len(stops) > 4:
        raise RequestError(f"`stop_sequences` must have at most 4 entries; given: {len(stops)}")
    return stops


#: TGI's checks of the numeric parameters, in its order: (name, integer, valid, message).
_NUMERIC_RULES: tuple[tuple[str, bool, Callable[[float], bool], str], ...] = (
    ("temperature", False, lambda v: v > 0, "`temperature` must be strictly positive"),
    ("top_p", False, lambda v: 0 < v <= 1, "`top_p` must be > 0.0 and <= 1.0"),
    ("top_k", True, lambda v: 1 <= v <= 100, "`top_k` must be between 1 and 100"),
    (
        "frequence_penalty",
        False,
        lambda v: v > 0,
        "`frequence_penalty` must be strictly positive",
    ),
    ("seed", True, lambda v: v >= 0, "`seed` must be >= 0"),
    ("max_new_tokens", True, lambda v: v > 0, "`max_new_tokens` must be strictly positive"),
)


def _parameters(body: Mapping[str, Any]) -> tuple[list[str], int]:
    """Validate ``parameters`` like the FFM/TGI server; unknown keys are ignored.

    Returns:
        The stop sequences and the effective ``max_new_tokens``.
    """
    params = body.get("parameters")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise RequestError([wrong_type(["parameters"], "dict", params)])
    given: dict[str, float] = {}
    for key, integer, valid, message in _NUMERIC_RULES:
        value = _number(params, key, integer=integer)
        if value is not None and not valid(value):
            raise RequestError(message)
        if value is not None:
            given[key] = value
    max_new = given.get("max_new_tokens")
    stops = _stop_sequences(params)
    return stops, int(max_new) if max_new is not None else _DEFAULT_MAX_NEW_TOKENS


def _require(body: Mapping[str, Any], key: str) -> Any:
    """A required field's value (pydantic's ``missing`` entry when absent)."""
    if key not in body:
        raise RequestError([missing([key], body)])
    return body[key]


def _require_model(body: Mapping[str, Any]) -> str:
    """The body must have a string ``model``."""
    model = _require(body, "model")
    if not isinstance(model, str):
        raise RequestError([wrong_type(["model"], "string", model)])
    return model


def _message(index: int, message: Any) -> dict[str, Any]:
    """Validate one message and convert it to OpenAI style (``human`` -> ``user``)."""
    if not isinstance(message, Mapping):
        raise RequestError([wrong_type(["messages", index], "dict", message)])
    if "role" not in message:
        raise RequestError([missing(["messages", index, "role"], message)])
    role = message["role"]
    if role not in _ROLES:
        allowed = ", ".join(f"'{r}'" for r in _ROLES)
        raise RequestError(
            [
                pydantic_entry(
                    "enum", ["messages", index, "role"], f"Input should be {allowed}", role
                )
            ]
        )
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise RequestError([wrong_type(["messages", index, "content"], "string", content)])
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise RequestError([missing(["messages", index, "tool_call_id"], message)])
    calls = message.get("tool_calls")
    if calls is not None and not isinstance(calls, list):
        raise RequestError([wrong_type(["messages", index, "tool_calls"], "list", calls)])
    return {**message, "role": "user" if role == "human" else role}


def _messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Validate ``messages`` (at least one) and convert them to OpenAI style."""
    raw = _require(body, "messages")
    if not isinstance(raw, list):
        raise RequestError([wrong_type(["messages"], "list", raw)])
    if not raw:
        message = "List should have at least 1 item after validation, not 0"
        raise RequestError([pydantic_entry("too_short", ["messages"], message, raw)])
    return [_message(index, message) for index, message in enumerate(raw)]


def _tools(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    """Validate ``tools`` (OpenAI style) and ``tool_choice``."""
    tools = body.get("tools")
    if tools is None:
        tools = []
    if not isinstance(tools, list):
        raise RequestError([wrong_type(["tools"], "list", tools)])
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise RequestError([wrong_type(["tools", index], "dict", tool)])
        function = tool.get("function")
        if not isinstance(function, Mapping):
            raise RequestError([missing(["tools", index, "function"], tool)])
        if not isinstance(function.get("name"), str):
            raise RequestError([missing(["tools", index, "function", "name"], function)])
    choice = body.get("tool_choice")
    if choice is not None and not isinstance(choice, str | Mapping):
        raise RequestError([wrong_type(["tool_choice"], "string", choice)])
    return list(tools), choice


def _fitting(
    model: str, generation: ModelRequest, prompt_tokens: int, body: Mapping[str, Any]
) -> GenerationRequest:
    """The request, once the prompt and ``max_new_tokens`` fit the model's context.

    Raises:
        RequestError: TGI's message for a prompt that does not fit.
    """
    limit = context_size(model)
    max_new = generation.max_tokens
    if max_new is not None and prompt_tokens + max_new > limit:
        raise RequestError(
            f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= "
            f"{limit}. Given: {prompt_tokens} `inputs` tokens and {max_new} "
            f"`max_new_tokens`"
        )
    return GenerationRequest(model, generation, stream=body.get("stream") is True)


def parse_conversation(body: Mapping[str, Any]) -> GenerationRequest:
    """Validate a ``/models/conversation`` body: chat, tools, streaming.

    Args:
        body: The JSON object body.

    Returns:
        The request, its messages in OpenAI style (``human`` -> ``user``).

    Raises:
        RequestError: Naming the first invalid field (``model``, ``messages``,
            ``parameters``, ``tools``), or a conversation over the context window.
    """
    model = _require_model(body)
    messages = _messages(body)
    stops, max_new = _parameters(body)
    tools, choice = _tools(body)
    generation = ModelRequest(
        messages=messages, tools=tools, tool_choice=choice, stop=stops, max_tokens=max_new
    )
    return _fitting(model, generation, prompt_token_count(messages), body)


def parse_generate(body: Mapping[str, Any]) -> GenerationRequest:
    """Validate a ``/models/generate`` body: a raw prompt in ``inputs``.

    Args:
        body: The JSON object body.

    Returns:
        The request, the prompt as one user message.

    Raises:
        RequestError: Naming the first invalid field (``model``, ``inputs``,
            ``parameters``), or a prompt over the context window.
    """
    model = _require_model(body)
    inputs = _require(body, "inputs")
    if not isinstance(inputs, str):
        raise RequestError([wrong_type(["inputs"], "string", inputs)])
    stops, max_new = _parameters(body)
    generation = ModelRequest(
        messages=[{"role": "user", "content": inputs}], stop=stops, max_tokens=max_new
    )
    return _fitting(model, generation, count_tokens(inputs), body)


def _check_embedding_limits(model: str, inputs: list[str]) -> None:
    """Refuse a text or a request over the model's documented token limits.

    The wording follows Hugging Face text-embeddings-inference, the usual server
    behind such endpoints.
    """
    per_text, per_request = EMBEDDING_LIMITS.get(model, EMBEDDING_LIMITS["ffm-embedding"])
    total = 0
    for text in inputs:
        count = count_tokens(text)
        total += count
        if count > per_text:
            raise RequestError(
                f"Input validation error: `inputs` must have less than {per_text} tokens. "
                f"Given: {count}"
            )
    if total > per_request:
        raise RequestError(
            f"Input validation error: the batch must have less than {per_request} tokens "
            f"in total. Given: {total}"
        )


def parse_embeddings(body: Mapping[str, Any]) -> EmbeddingsRequest:
    """Validate a ``/models/embeddings`` body: ``{"model", "inputs": [texts]}``.

    Args:
        body: The JSON object body.

    Returns:
        The request.

    Raises:
        RequestError: On the first invalid field, or texts over the model's limits.
    """
    model = _require_model(body)
    inputs = _require(body, "inputs")
    if not isinstance(inputs, list):
        raise RequestError([wrong_type(["inputs"], "list", inputs)])
    for index, text in enumerate(inputs):
        if not isinstance(text, str):
            raise RequestError([wrong_type(["inputs", index], "string", text)])
    _check_embedding_limits(model, inputs)
    return EmbeddingsRequest(model, inputs)

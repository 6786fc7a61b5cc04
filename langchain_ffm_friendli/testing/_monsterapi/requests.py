"""MonsterAPI ``/v1/generate`` requests: FastAPI schema, vLLM rules, chat template rules.

The server validates the body with a pydantic model, then vLLM's ``SamplingParams``
checks, and applies the model's chat template to ``messages`` (whose ``raise_exception``
refuses roles and orders the template does not know).

Type errors are reported all at once (pydantic); the sampling rules stop at the first
failure, in vLLM's order and with vLLM's messages (vLLM 0.5.3-0.6.2,
protocols/monsterapi.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .._fields import (
    LaxReader,
    RequestError,
    lax_bool,
    lax_float,
    lax_int,
    lax_reader,
    missing,
    pydantic_entry,
    value_error,
    wrong_type,
)

__all__ = ["GenerateRequest", "check_messages", "parse_generate_request"]

#: vLLM's threshold under which a temperature means greedy sampling.
_SAMPLING_EPS = 1e-5
#: Unset ``max_tokens``: the doc gives no default; this is the official SDK's.
_DEFAULT_MAX_TOKENS = 256
_ROLES = ("system", "user", "assistant")

# ----------------------------------------------------------------------- validation


def _value_error(loc: Sequence[str | int], message: str, value: Any) -> RequestError:
    """A pydantic ``value_error`` carrying a vLLM ``ValueError`` message."""
    return RequestError([value_error(loc, message, value)])


def _sampling_field(read: LaxReader[Any], *, default: Any) -> Any:
    """A ``SamplingParams`` field of the body: its default and its lax-mode reader."""
    return field(default=default, metadata={"read": read})


#: ``early_stopping``: a boolean or vLLM's ``"never"``.
_lax_early_stopping = lax_reader(
    "bool", lambda value: value if isinstance(value, bool) or value == "never" else None
)


@dataclass(frozen=True)
class GenerateRequest:
    """A validated ``/v1/generate`` request, vLLM's defaults applied.

    Each field after ``messages`` is declared once with its default and its reader;
    the body is read in this order, so type errors come in the schema's order.
    ``best_of`` defaults to ``n``.
    """

    model: str
    prompt: str | None
    messages: list[dict[str, Any]] | None
    max_tokens: int = _sampling_field(lax_int, default=_DEFAULT_MAX_TOKENS)
    n: int = _sampling_field(lax_int, default=1)
    best_of: int = _sampling_field(lax_int, default=1)
    top_k: int = _sampling_field(lax_int, default=-1)
    presence_penalty: float = _sampling_field(lax_float, default=0.0)
    frequency_penalty: float = _sampling_field(lax_float, default=0.0)
    repetition_penalty: float = _sampling_field(lax_float, default=1.0)
    temperature: float = _sampling_field(lax_float, default=1.0)
    top_p: float = _sampling_field(lax_float, default=1.0)
    min_p: float = _sampling_field(lax_float, default=0.0)
    length_penalty: float = _sampling_field(lax_float, default=1.0)
    use_beam_search: bool = _sampling_field(lax_bool, default=False)
    stream: bool = _sampling_field(lax_bool, default=False)
    early_stopping: bool | str = _sampling_field(_lax_early_stopping, default=False)


def _read_input(
    body: Mapping[str, Any], errors: list[dict[str, Any]]
) -> tuple[str | None, list[dict[str, Any]] | None]:
    """``prompt`` (``Optional[str]``) and ``messages`` (``Optional[List[dict]]``)."""
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        errors.append(wrong_type(["prompt"], "string", prompt))
        prompt = None
    raw = body.get("messages")
    messages: list[dict[str, Any]] | None = None
    if raw is not None:
        if not isinstance(raw, list):
            errors.append(wrong_type(["messages"], "list", raw))
        else:
            messages = []
            for index, message in enumerate(raw):
                if isinstance(message, Mapping):
                    messages.append(dict(message))
                else:
                    errors.append(wrong_type(["messages", index], "dict", message))
    return prompt, messages


def _read_model(body: Mapping[str, Any], errors: list[dict[str, Any]]) -> str | None:
    """``model``: a required string."""
    model = body.get("model")
    if model is None:
        errors.append(missing(["model"], body))
    elif not isinstance(model, str):
        errors.append(wrong_type(["model"], "string", model))
        return None
    return model


def parse_generate_request(body: Mapping[str, Any]) -> GenerateRequest:
    """Validate a request body like the server does: schema, vLLM's rules, the template.

    Type errors are all reported at once (pydantic); the ``SamplingParams`` rules stop
    at the first failure, in vLLM's order, with vLLM's messages.

    Args:
        body: The JSON object body.

    Returns:
        The request.

    Raises:
        RequestError: For any invalid request.
    """
    errors: list[dict[str, Any]] = []
    model = _read_model(body, errors)
    prompt, messages = _read_input(body, errors)
    given: dict[str, Any] = {}
    for spec in fields(GenerateRequest):
        read: LaxReader[Any] | None = spec.metadata.get("read")
        value = None if read is None else read(body, spec.name, errors)
        if value is not None:
            given[spec.name] = value
    if errors or model is None:
        raise RequestError(errors)
    _check_input(body, prompt, messages)
    given.setdefault("best_of", given.get("n", 1))
    request = GenerateRequest(model=model, prompt=prompt, messages=messages, **given)
    _check_sampling(request)
    if messages is not None:
        check_messages(model, messages)
    return request


def _check_input(
    body: Mapping[str, Any], prompt: str | None, messages: list[dict[str, Any]] | None
) -> None:
    """Exactly one of ``prompt`` / ``messages``, and not empty."""
    if prompt is None and messages is None:
        message = "Field required: give exactly one of 'prompt' or 'messages'"
        raise RequestError([pydantic_entry("missing", ["prompt"], message, dict(body))])
    if prompt is not None and messages is not None:
        raise _value_error(
            ["messages"],
            "'prompt' and 'messages' are mutually exclusive: give exactly one of them",
            messages,
        )
    if prompt is not None and not prompt:
        raise _value_error(["prompt"], "prompt must not be empty", prompt)
    if messages is not None and not messages:
        raise _value_error(["messages"], "messages must not be empty", messages)


def _check_sampling(p: GenerateRequest) -> None:
    """The ``SamplingParams`` checks of vLLM 0.5.3-0.6.2, in its order, with its messages."""
    _check_ranges(p)
    if p.use_beam_search:
        _check_beam_search(p)
    else:
        _check_sampling_only(p)


def _check_ranges(p: GenerateRequest) -> None:
    """The ranges vLLM's ``_verify_args`` checks."""
    if p.n < 1:
        raise _value_error(["n"], f"n must be at least 1, got {p.n}.", p.n)
    if p.best_of < p.n:
        raise _value_error(
            ["best_of"],
            f"best_of must be greater than or equal to n, got n={p.n} and best_of={p.best_of}.",
            p.best_of,
        )
    for key in ("presence_penalty", "frequency_penalty"):
        value = getattr(p, key)
        if not -2.0 <= value <= 2.0:
            raise _value_error([key], f"{key} must be in [-2, 2], got {value}.", value)
    if not 0.0 < p.repetition_penalty <= 2.0:
        raise _value_error(
            ["repetition_penalty"],
            f"repetition_penalty must be in (0, 2], got {p.repetition_penalty}.",
            p.repetition_penalty,
        )
    if not p.temperature >= 0.0:
        raise _value_error(
            ["temperature"],
            f"temperature must be non-negative, got {p.temperature}.",
            p.temperature,
        )
    if not 0.0 < p.top_p <= 1.0:
        raise _value_error(["top_p"], f"top_p must be in (0, 1], got {p.top_p}.", p.top_p)
    if p.top_k < -1 or p.top_k == 0:
        raise _value_error(
            ["top_k"], f"top_k must be -1 (disable), or at least 1, got {p.top_k}.", p.top_k
        )
    if not 0.0 <= p.min_p <= 1.0:
        raise _value_error(["min_p"], f"min_p must be in [0, 1], got {p.min_p}.", p.min_p)
    if p.max_tokens < 1:
        raise _value_error(
            ["max_tokens"], f"max_tokens must be at least 1, got {p.max_tokens}.", p.max_tokens
        )


def _check_sampling_only(p: GenerateRequest) -> None:
    """The checks of vLLM's ``_verify_non_beam_search``, then its greedy-sampling one."""
    if p.early_stopping is not False:
        raise _value_error(
            ["early_stopping"],
            "early_stopping is not effective and must be False when not using beam search.",
            p.early_stopping,
        )
    if not 1.0 - _SAMPLING_EPS <= p.length_penalty <= 1.0 + _SAMPLING_EPS:
        raise _value_error(
            ["length_penalty"],
            "length_penalty is not effective and must be the default value of 1.0 when not "
            "using beam search.",
            p.length_penalty,
        )
    if p.temperature < _SAMPLING_EPS and p.best_of > 1:
        # vLLM's message really lacks the space after the full stop.
        raise _value_error(
            ["best_of"], f"best_of must be 1 when using greedy sampling.Got {p.best_of}.", p.best_of
        )


def _check_beam_search(p: GenerateRequest) -> None:
    """The ``_verify_beam_search`` checks of vLLM."""
    if p.best_of == 1:
        raise _value_error(
            ["best_of"],
            f"best_of must be greater than 1 when using beam search. Got {p.best_of}.",
            p.best_of,
        )
    if p.temperature > _SAMPLING_EPS:
        raise _value_error(
            ["temperature"], "temperature must be 0 when using beam search.", p.temperature
        )
    if p.top_p < 1.0 - _SAMPLING_EPS:
        raise _value_error(["top_p"], "top_p must be 1 when using beam search.", p.top_p)
    if p.top_k != -1:
        raise _value_error(["top_k"], "top_k must be -1 when using beam search.", p.top_k)


# ------------------------------------------------------------------ chat templates


def _template_error(index: int, key: str, message: str, value: Any) -> RequestError:
    """A chat template failure (``raise_exception`` in the Jinja template)."""
    return _value_error(["messages", index, key], message, value)


def check_messages(model: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Roles and contents the chat templates accept, and the per-model template rules."""
    name = model.lower()
    if "phi-2" in name:
        raise _value_error(
            ["messages"],
            f"messages are not supported for {model} (it has no chat template); "
            "send a formatted prompt instead",
            list(messages),
        )
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in _ROLES:
            raise _template_error(
                index, "role", "role must be one of 'system', 'user', 'assistant'", role
            )
        if not isinstance(message.get("content"), str):
            raise _template_error(
                index, "content", "content must be a string", message.get("content")
            )
    if "gemma" in name:
        # The HF Gemma-2 template: no system role, strict user/assistant alternation.
        if messages[0].get("role") == "system":
            raise _template_error(0, "role", "System role not supported", "system")
        for index, message in enumerate(messages):
            if (message.get("role") == "user") != (index % 2 == 0):
                raise _template_error(
                    index,
                    "role",
                    "Conversation roles must alternate user/assistant/user/assistant/...",
                    message.get("role"),
                )

"""MonsterAPI ``/v1/generate`` requests: FastAPI schema, vLLM rules, chat templates.

The server validates the body with a pydantic model, then vLLM's ``SamplingParams``
checks, and applies the model's chat template to ``messages``.

Type errors are reported all at once (pydantic); the sampling rules stop at the first
failure, in vLLM's order and with vLLM's messages (vLLM 0.5.3-0.6.2,
protocols/monsterapi.md §5).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._fields import (
    RequestError,
    lax_bool,
    lax_float,
    lax_int,
    missing,
    value_error,
    wrong_type,
)

__all__ = [
    "Params",
    "apply_chat_template",
    "check_messages",
    "messages_from_prompt",
    "parse_request",
]

#: vLLM's threshold under which a temperature means greedy sampling.
_SAMPLING_EPS = 1e-5
#: Unset ``max_tokens``: the doc gives no default; this is the official SDK's.
_DEFAULT_MAX_TOKENS = 256
_ROLES = ("system", "user", "assistant")
_INT_FIELDS = ("max_tokens", "n", "best_of", "top_k")
_FLOAT_FIELDS = (
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
    "temperature",
    "top_p",
    "min_p",
    "length_penalty",
)
_BOOL_FIELDS = ("use_beam_search", "stream")

# ----------------------------------------------------------------------- validation


def _value_error(loc: Sequence[str | int], message: str, value: Any) -> RequestError:
    """A pydantic ``value_error`` carrying a vLLM ``ValueError`` message."""
    return RequestError([value_error(loc, message, value)])


@dataclass(frozen=True)
class Params:
    """A validated ``/v1/generate`` request, defaults applied (``best_of`` resolved)."""

    model: str
    prompt: str | None
    messages: list[dict[str, Any]] | None
    max_tokens: int
    n: int
    best_of: int
    presence_penalty: float
    frequency_penalty: float
    repetition_penalty: float
    temperature: float
    top_p: float
    top_k: int
    min_p: float
    use_beam_search: bool
    length_penalty: float
    early_stopping: bool | str
    stream: bool


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


def parse_request(body: Any) -> Params:
    """Validate a request body like the server does: schema, then vLLM's rules.

    Type errors are all reported at once (pydantic); the ``SamplingParams`` rules stop
    at the first failure, in vLLM's order, with vLLM's messages.

    Raises:
        RequestError: For any invalid request.
    """
    if not isinstance(body, Mapping):
        raise RequestError([wrong_type([], "dict", body)])
    errors: list[dict[str, Any]] = []
    model = body.get("model")
    if model is None:
        errors.append(missing(["model"], body))
    elif not isinstance(model, str):
        errors.append(wrong_type(["model"], "string", model))
    prompt, messages = _read_input(body, errors)
    ints = {key: lax_int(body, key, errors) for key in _INT_FIELDS}
    floats = {key: lax_float(body, key, errors) for key in _FLOAT_FIELDS}
    bools = {key: lax_bool(body, key, errors) for key in _BOOL_FIELDS}
    early = body.get("early_stopping")
    if early is not None and not isinstance(early, bool) and early != "never":
        errors.append(wrong_type(["early_stopping"], "bool", early))
        early = None
    if errors:
        raise RequestError(errors)
    assert isinstance(model, str)
    _check_input(body, prompt, messages)
    n = 1 if ints["n"] is None else ints["n"]
    params = Params(
        model=model,
        prompt=prompt,
        messages=messages,
        max_tokens=_DEFAULT_MAX_TOKENS if ints["max_tokens"] is None else ints["max_tokens"],
        n=n,
        best_of=n if ints["best_of"] is None else ints["best_of"],
        presence_penalty=_or(floats["presence_penalty"], 0.0),
        frequency_penalty=_or(floats["frequency_penalty"], 0.0),
        repetition_penalty=_or(floats["repetition_penalty"], 1.0),
        temperature=_or(floats["temperature"], 1.0),
        top_p=_or(floats["top_p"], 1.0),
        top_k=-1 if ints["top_k"] is None else ints["top_k"],
        min_p=_or(floats["min_p"], 0.0),
        use_beam_search=bools["use_beam_search"] is True,
        length_penalty=_or(floats["length_penalty"], 1.0),
        early_stopping=False if early is None else early,
        stream=bools["stream"] is True,
    )
    _check_sampling(params)
    return params


def _or(value: float | None, default: float) -> float:
    """``value`` unless it is None."""
    return default if value is None else value


def _check_input(
    body: Mapping[str, Any], prompt: str | None, messages: list[dict[str, Any]] | None
) -> None:
    """Exactly one of ``prompt`` / ``messages``, and not empty."""
    if prompt is None and messages is None:
        raise RequestError(
            [
                {
                    "type": "missing",
                    "loc": ["body", "prompt"],
                    "msg": "Field required: give exactly one of 'prompt' or 'messages'",
                    "input": dict(body),
                }
            ]
        )
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


def _check_sampling(p: Params) -> None:
    """The ``SamplingParams`` checks of vLLM 0.5.3-0.6.2, in its order, with its messages."""
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
    if p.use_beam_search:
        _check_beam_search(p)
        return
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


def _check_beam_search(p: Params) -> None:
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


def _template_error(index: int, field: str, message: str, value: Any) -> RequestError:
    """A chat template failure (``raise_exception`` in the Jinja template)."""
    return _value_error(["messages", index, field], message, value)


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


def apply_chat_template(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """Render messages with (a faithful sketch of) the model's HF chat template.

    Llama 3 / 3.1 (3.1 adds its dated system header), Gemma (``model`` turns), Mistral
    (``[INST]``; a system message is prepended to the first user turn), Phi-3
    (``<|user|>``); any other model gets ChatML. The generation prompt is appended.

    Args:
        model: The model id.
        messages: Validated messages (roles system/user/assistant, string contents).

    Returns:
        The prompt the server feeds the model (used for the input token count).
    """
    name = model.lower()
    turns = [(str(m["role"]), str(m["content"])) for m in messages]
    if "llama-3" in name or "llama3" in name:
        out = "<|begin_of_text|>"
        if "3.1" in name:
            system = turns[0][1].strip() if turns and turns[0][0] == "system" else ""
            turns = turns[1:] if turns and turns[0][0] == "system" else turns
            out += (
                "<|start_header_id|>system<|end_header_id|>\n\n"
                "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                f"{system}<|eot_id|>"
            )
        for role, content in turns:
            out += f"<|start_header_id|>{role}<|end_header_id|>\n\n{content.strip()}<|eot_id|>"
        return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"
    if "gemma" in name:
        out = "<bos>"
        for role, content in turns:
            turn = "model" if role == "assistant" else role
            out += f"<start_of_turn>{turn}\n{content.strip()}<end_of_turn>\n"
        return out + "<start_of_turn>model\n"
    if "mistral" in name or "mixtral" in name:
        system = "\n\n".join(c for r, c in turns if r == "system")
        out = "<s>"
        for role, content in (t for t in turns if t[0] != "system"):
            if role == "user":
                text = f"{system}\n\n{content}" if system else content
                system = ""
                out += f"[INST] {text} [/INST]"
            else:
                out += f"{content}</s>"
        return out
    if "phi-3" in name:
        body = "".join(f"<|{role}|>\n{content}<|end|>\n" for role, content in turns)
        return "<s>" + body + "<|assistant|>\n"
    body = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
    return body + "<|im_start|>assistant\n"


_PROMPT_TURNS = (
    re.compile(r"<\|start_header_id\|>(\w+)<\|end_header_id\|>\n\n(.*?)(?:<\|eot_id\|>|$)", re.S),
    re.compile(r"<start_of_turn>(\w+)\n(.*?)(?:<end_of_turn>|$)", re.S),
    re.compile(r"<\|im_start\|>(\w+)\n(.*?)(?:<\|im_end\|>|$)", re.S),
    re.compile(r"<\|(system|user|assistant)\|>\n?(.*?)(?:<\|end\|>|$)", re.S),
)
_INST = re.compile(r"\[INST\](.*?)\[/INST\]", re.S)
_PROMPT_ROLES = {"model": "assistant", "ipython": "tool", "human": "user"}


def messages_from_prompt(prompt: str) -> list[dict[str, Any]]:
    """Recover the conversation from a templated prompt, for the default model.

    Recognises Llama 3, Gemma, ChatML, Phi-3 and Mistral ``[INST]`` templates; an
    untemplated prompt becomes one user message. The empty generation-prompt turn is
    dropped.

    Args:
        prompt: The ``prompt`` field.

    Returns:
        OpenAI-style messages.
    """
    for pattern in _PROMPT_TURNS:
        turns = pattern.findall(prompt)
        if turns:
            messages = [
                {"role": _PROMPT_ROLES.get(role, role), "content": content.strip()}
                for role, content in turns
            ]
            if messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
                messages.pop()
            if messages:
                return messages
    insts = _INST.findall(prompt)
    if insts:
        return [{"role": "user", "content": insts[-1].strip()}]
    return [{"role": "user", "content": prompt.strip()}]

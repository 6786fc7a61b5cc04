r"""MonsterAPI endpoints of the emulator, under ``/monsterapi``.

Speaks the ``POST https://llm.monsterapi.ai/v1/generate`` wire format documented in
``protocols/monsterapi.md``, quirks included, because the emulator exists to prove
clients against it:

* ``Authorization: Bearer <key>``; FastAPI-style errors (``{"detail": ...}`` for 4xx,
  422 ``{"detail": [{"type", "loc", "msg", "input"}]}`` for validation) and, for 5xx, the
  ``{"error": {"message", "type", "code"}}`` object Portkey's MonsterAPI client expects.
* A body with ``model`` (any string), exactly one of ``prompt`` (already templated) or
  ``messages`` (the server applies the model's chat template) and vLLM
  ``SamplingParams`` knobs, checked with vLLM's own rules and messages.
* Non-streaming answers ``{"model", "response": {"text": [...n...], "token_counts":
  {"input", "output"}, "credits_consumed"}}``. With ``prompt`` every text **echoes the
  prompt** (vLLM demo server: ``prompt + output.text``); with ``messages`` it does not.
* ``"stream": true`` answers ``application/octet-stream`` (chunked): JSON records, each
  followed by ``\0``, each holding the **cumulative** text of all ``n`` sequences, no
  ``[DONE]``, EOF ends it. The record form rotates deterministically between
  ``{"text": [...]}`` (vLLM's exact ``json.dumps``: ASCII escapes, ``", "``),
  ``{"response": {"text": [...]}}`` and a bare list (both raw UTF-8, compact): record
  ``i`` of the ``k``-th stream of an emulator uses form ``(k + i) % 3``. Every record is
  written in two socket writes, cut inside a multi-byte character when it has one,
  else just before its ``\0`` or in the middle. Beam search streams include a record
  where another beam leads (text that the next record rewrites).

Stream faults on NUL-delimited records: ``malformed`` inserts ``{not json\0``;
``error_record`` sends ``{"error": {"message", "type", "code"}}\0`` then ends cleanly
(``as_event`` has no meaning here and is ignored); ``truncated`` sends ``after`` records
and then only the first half of the next one (no ``\0``) before a clean end, the
detectable truncation of this framing; ``ping_storm`` sends ``count`` empty records (a
lone ``\0``, which clients must skip) before every record, since MonsterAPI documents
no keep-alive; ``disconnect`` and ``stall`` behave as for every provider.

Route (prefix ``/monsterapi``): ``POST /v1/generate`` (``monsterapi.generate``).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._exchange import Exchange, Route
from ._faults import Fault, StreamEvent, StreamScript, play_stream
from ._model import ModelRequest, Reply, complete, count_tokens, tokenize
from ._openai_chat import chat_handler

__all__ = ["PREFIX", "MonsterAPIProvider"]

PREFIX = "/monsterapi"
ROUTE = "monsterapi.generate"

#: vLLM's threshold under which a temperature means greedy sampling.
_SAMPLING_EPS = 1e-5
#: Unset ``max_tokens``: the doc gives no default; this is the official SDK's.
_DEFAULT_MAX_TOKENS = 256
#: A deterministic price, in the order of magnitude of the documented example.
_CREDITS_PER_TOKEN = 7e-6
_ROLES = ("system", "user", "assistant")
_GREETING = "Hello!"
_OPENERS = ("Hello!", "Hi!", "Hey there!", "Greetings!", "Good day!")
_BEAM_WORDS = ("Well", "Perhaps", "Indeed")
_BEAM_PUNCTUATION = ("?", ",", ";")
_STREAM_CONTENT_TYPE = "application/octet-stream"

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
_TYPE_MESSAGES = {
    "int": "Input should be a valid integer",
    "float": "Input should be a valid number",
    "bool": "Input should be a valid boolean",
    "string": "Input should be a valid string",
    "list": "Input should be a valid list",
    "dict": "Input should be a valid dictionary",
}


# ----------------------------------------------------------------------- validation


class _ValidationError(Exception):
    """A request the MonsterAPI (FastAPI + vLLM) server rejects with 422."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        super().__init__(json.dumps(detail, default=str))
        self.detail = detail


def _wrong_type(loc: Sequence[str | int], kind: str, value: Any) -> dict[str, Any]:
    """A pydantic type error entry (``int_type``, ``string_type``...)."""
    return {
        "type": f"{kind}_type",
        "loc": ["body", *loc],
        "msg": _TYPE_MESSAGES[kind],
        "input": value,
    }


def _value_error(loc: Sequence[str | int], message: str, value: Any) -> _ValidationError:
    """A pydantic ``value_error`` entry carrying a vLLM ``ValueError`` message."""
    return _ValidationError(
        [
            {
                "type": "value_error",
                "loc": ["body", *loc],
                "msg": f"Value error, {message}",
                "input": value,
            }
        ]
    )


@dataclass(frozen=True)
class _Params:
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


def _read_int(body: Mapping[str, Any], key: str, errors: list[dict[str, Any]]) -> int | None:
    """An optional integer field (pydantic lax: integral floats pass); None if unset."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(_wrong_type([key], "int", value))
        return None
    return value


def _read_float(body: Mapping[str, Any], key: str, errors: list[dict[str, Any]]) -> float | None:
    """An optional number field; None if unset."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(_wrong_type([key], "float", value))
        return None
    return float(value)


def _read_bool(body: Mapping[str, Any], key: str, errors: list[dict[str, Any]]) -> bool | None:
    """An optional boolean field; None if unset."""
    value = body.get(key)
    if value is None or isinstance(value, bool):
        return value
    errors.append(_wrong_type([key], "bool", value))
    return None


def _read_input(
    body: Mapping[str, Any], errors: list[dict[str, Any]]
) -> tuple[str | None, list[dict[str, Any]] | None]:
    """``prompt`` (``Optional[str]``) and ``messages`` (``Optional[List[dict]]``)."""
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        errors.append(_wrong_type(["prompt"], "string", prompt))
        prompt = None
    raw = body.get("messages")
    messages: list[dict[str, Any]] | None = None
    if raw is not None:
        if not isinstance(raw, list):
            errors.append(_wrong_type(["messages"], "list", raw))
        else:
            messages = []
            for index, message in enumerate(raw):
                if isinstance(message, Mapping):
                    messages.append(dict(message))
                else:
                    errors.append(_wrong_type(["messages", index], "dict", message))
    return prompt, messages


def _parse(body: Any) -> _Params:
    """Validate a request body like the server does: schema, then vLLM's rules.

    Type errors are all reported at once (pydantic); the ``SamplingParams`` rules stop
    at the first failure, in vLLM's order, with vLLM's messages.

    Raises:
        _ValidationError: For any invalid request.
    """
    if not isinstance(body, Mapping):
        raise _ValidationError([_wrong_type([], "dict", body)])
    errors: list[dict[str, Any]] = []
    model = body.get("model")
    if model is None:
        errors.append(
            {"type": "missing", "loc": ["body", "model"], "msg": "Field required", "input": body}
        )
    elif not isinstance(model, str):
        errors.append(_wrong_type(["model"], "string", model))
    prompt, messages = _read_input(body, errors)
    ints = {key: _read_int(body, key, errors) for key in _INT_FIELDS}
    floats = {key: _read_float(body, key, errors) for key in _FLOAT_FIELDS}
    bools = {key: _read_bool(body, key, errors) for key in _BOOL_FIELDS}
    early = body.get("early_stopping")
    if early is not None and not isinstance(early, bool) and early != "never":
        errors.append(_wrong_type(["early_stopping"], "bool", early))
        early = None
    if errors:
        raise _ValidationError(errors)
    assert isinstance(model, str)
    _check_input(body, prompt, messages)
    n = 1 if ints["n"] is None else ints["n"]
    params = _Params(
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
        raise _ValidationError(
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


def _check_sampling(p: _Params) -> None:
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


def _check_beam_search(p: _Params) -> None:
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


def _template_error(index: int, field: str, message: str, value: Any) -> _ValidationError:
    """A chat template failure (``raise_exception`` in the Jinja template)."""
    return _value_error(["messages", index, field], message, value)


def _check_messages(model: str, messages: Sequence[Mapping[str, Any]]) -> None:
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


def generate(params: _Params, reply: Reply | None) -> Generation:
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


def _fastapi_json(value: Any) -> bytes:
    """Serialise like FastAPI's ``JSONResponse``: UTF-8, compact separators."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_response(params: _Params, generation: Generation) -> dict[str, Any]:
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
    return _fastapi_json(value) + b"\0"


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


def _error_record(message: str, status_code: int, as_event: bool) -> bytes:
    """The in-stream error record (Portkey's MonsterAPI error object)."""
    del as_event  # no event names in a NUL-delimited stream
    kind = "server_error" if status_code >= 500 else "invalid_request_error"
    error = {"message": message, "type": kind, "code": status_code}
    return _fastapi_json({"error": error}) + b"\0"


def stream_script(generation: Generation, offset: int) -> StreamScript:
    """Frame a generation as the NUL-delimited stream.

    Args:
        generation: What the model produced.
        offset: The record form of the first record (rotates per stream).

    Returns:
        The script for :func:`play_stream`.
    """
    events = [
        StreamEvent(encode_record(texts, offset + index))
        for index, texts in enumerate(stream_texts(generation))
    ]
    return StreamScript(
        events=events,
        pings=(b"\0",),
        malformed=b"{not json\0",
        error_record=_error_record,
        split=_split_point,
    )


def _truncated(script: StreamScript, after: int) -> StreamScript:
    """``after`` whole records, then the first half of the next one without its NUL."""
    after = min(max(after, 0), len(script.events) - 1)
    record = script.events[after].data[:-1]
    partial = StreamEvent(record[: max(1, len(record) // 2)])
    return dataclasses.replace(script, events=[*script.events[:after], partial])


# --------------------------------------------------------------------------- routes


class MonsterAPIProvider:
    """The MonsterAPI provider: ``/v1/generate``, FastAPI-style errors, Bearer auth."""

    prefix = PREFIX

    def __init__(self) -> None:
        """Start the per-emulator stream counter that rotates the record forms."""
        self._streams = itertools.count()

    def routes(self) -> list[Route]:
        """The endpoints served under ``/monsterapi``.

        Returns:
            The routes.
        """
        return [
            Route("POST", f"{PREFIX}/v1/generate", ROUTE, self._generate),
            # vLLM's OpenAI router: tools, response_format, SSE with [DONE] and usage.
            Route(
                "POST",
                f"{PREFIX}/v1/chat/completions",
                "monsterapi.chat",
                chat_handler(provider="MonsterAPI"),
            ),
        ]

    def error_body(self, status: int, message: str) -> Any:
        """The error body for a status.

        Args:
            status: The HTTP status.
            message: The error text.

        Returns:
            FastAPI's ``{"detail": message}`` below 500; the error object Portkey's
            MonsterAPI client parses, ``{"error": {"message", "type", "code"}}``,
            for 5xx.
        """
        if status >= 500:
            return {"error": {"message": message, "type": "server_error", "code": status}}
        return {"detail": message}

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """Bearer-token auth.

        Args:
            headers: Request headers (lower-case names).
            api_key: The key the emulator accepts.

        Returns:
            Whether the Authorization header matches.
        """
        return headers.get("authorization") == f"Bearer {api_key}"

    async def _generate(self, exchange: Exchange) -> None:
        """``POST /v1/generate``: validate, dequeue, apply faults, answer or stream."""
        body = exchange.json
        if body is None:
            text = exchange.request.body.decode("utf-8", "replace").strip()
            error: dict[str, Any] = {
                "type": "json_invalid" if text else "missing",
                "loc": ["body", 0] if text else ["body"],
                "msg": "JSON decode error" if text else "Field required",
                "input": {} if text else None,
            }
            await _send_422(exchange, [error])
            return
        try:
            params = _parse(body)
            if params.messages is not None:
                _check_messages(params.model, params.messages)
        except _ValidationError as exc:
            await _send_422(exchange, exc.detail)
            return
        item = exchange.take(stream=params.stream)
        if await exchange.apply_http_fault(item, stream=params.stream):
            return
        fault = item if isinstance(item, Fault) else None
        reply = fault.reply if fault is not None else item if isinstance(item, Reply) else None
        generation = generate(params, reply)
        if not params.stream:
            payload = _fastapi_json(encode_response(params, generation))
            await exchange.writer.send(200, payload, "application/json")
            return
        script = stream_script(generation, next(self._streams))
        await exchange.writer.start_stream(200, _STREAM_CONTENT_TYPE)
        if fault is not None and fault.kind == "truncated":
            await play_stream(_truncated(script, fault.after), exchange.writer, None)
            return
        await play_stream(script, exchange.writer, fault)


async def _send_422(exchange: Exchange, detail: list[dict[str, Any]]) -> None:
    """FastAPI's validation error response."""
    payload = _fastapi_json({"detail": detail})
    await exchange.writer.send(422, payload, "application/json")

"""Friendli wire protocol as pure functions (no I/O).

Chat completions are OpenAI-compatible, so messages, tools and stream decoding
come from :mod:`langchain_ffm_friendli._openai_format`; this module adds what is
Friendli's own: parameter ranges and forbidden combinations, the endpoint kinds,
built-in tools and the tool-assisted route, and ``tool_status`` events. See
shared/protocols/friendli.md for the evidence behind each rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import Generation

from langchain_ffm_friendli._deltas import CustomEvent, Delta, TextResult
from langchain_ffm_friendli._openai_format import (
    OpenAIChatStream,
    openai_usage,
    tool_choice_to_openai,
)
from langchain_ffm_friendli._wire import Record
from langchain_ffm_friendli.errors import IncompleteStreamError, InvalidParameterError

__all__ = [
    "BUILTIN_TOOLS",
    "COMPLETION_FIELDS",
    "PROVIDER",
    "ChatStream",
    "CompletionStream",
    "InvalidParameterError",
    "builtin_tools",
    "check_builtin_endpoint",
    "completion_generation_info",
    "friendli_tool_choice",
    "infer_endpoint",
    "parse_completion",
    "parse_tokenize",
    "tokenize_body",
    "tools_url",
    "validate_chat",
    "validate_completions",
    "validate_sampling",
]

PROVIDER: Final = "friendli"

BUILTIN_TOOLS: Final = frozenset(
    {
        "math:calculator",
        "math:statistics",
        "math:calendar",
        "web:search",
        "web:url",
        "code:python-interpreter",
        "file:text",
        "linkup:search",
    }
)


def _fail(name: str, message: str) -> InvalidParameterError:
    return InvalidParameterError(name, message, provider=PROVIDER)


def infer_endpoint(base_url: str) -> Literal["serverless", "dedicated", "container"]:
    """The endpoint kind a base URL points at."""
    if "/dedicated/" in f"{base_url}/":
        return "dedicated"
    if "/serverless/" in f"{base_url}/":
        return "serverless"
    return "container"


def tools_url(base_url: str) -> str:
    """The tool-assisted chat URL next to a serverless base URL.

    ``.../serverless/v1`` becomes ``.../serverless/tools/v1/chat/completions``.
    """
    marker = "/serverless/v1"
    if not base_url.endswith(marker):
        raise _fail(
            "tools",
            "Friendli's built-in tools run only on the serverless tool-assisted endpoint; "
            f"base_url must end with {marker} (got {base_url})",
        )
    return f"{base_url[: -len(marker)]}/serverless/tools/v1/chat/completions"


def check_builtin_endpoint(endpoint: str | None, base_url: str) -> str:
    """The tool-assisted URL, or an error naming ``tools`` off serverless endpoints."""
    if endpoint != "serverless":
        raise _fail(
            "tools", f"built-in tools run on serverless endpoints only (this is {endpoint})"
        )
    return tools_url(base_url)


def _in_range(settings: Mapping[str, Any], name: str, ok: Any, message: str) -> None:
    value = settings.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not ok(value):
        raise _fail(name, f"{message}; got {value!r}")


def validate_sampling(settings: Mapping[str, Any]) -> None:
    """Ranges shared by chat and completions, each error naming its field."""
    number = (int, float)
    _in_range(settings, "temperature", lambda v: isinstance(v, number) and v >= 0, "must be >= 0")
    _in_range(
        settings, "top_p", lambda v: isinstance(v, number) and 0 < v <= 1, "must be in (0, 1]"
    )
    _in_range(
        settings,
        "top_k",
        lambda v: isinstance(v, int) and v >= 0,
        "must be an integer >= 0 (0 disables)",
    )
    _in_range(
        settings, "min_p", lambda v: isinstance(v, number) and 0 <= v <= 1, "must be in [0, 1]"
    )
    for name in ("frequency_penalty", "presence_penalty"):
        _in_range(
            settings, name, lambda v: isinstance(v, number) and -2 <= v <= 2, "must be in [-2, 2]"
        )
    _in_range(
        settings,
        "repetition_penalty",
        lambda v: isinstance(v, number) and v > 0,
        "must be > 0 (1.0 is off)",
    )
    _in_range(settings, "n", lambda v: isinstance(v, int) and v >= 1, "must be an integer >= 1")
    _in_range(
        settings, "max_tokens", lambda v: isinstance(v, int) and v >= 1, "must be an integer >= 1"
    )
    _in_range(
        settings, "min_tokens", lambda v: isinstance(v, int) and v >= 0, "must be an integer >= 0"
    )
    seed = settings.get("seed")
    if isinstance(seed, list):
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in seed):
            raise _fail("seed", f"a list of seeds must hold integers; got {seed!r}")
        n = settings.get("n") or 1
        if len(seed) != n:
            raise _fail(
                "seed", f"a list of seeds needs one per generation (n={n}); got {len(seed)}"
            )
    elif seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise _fail("seed", f"must be an integer or a list of integers; got {seed!r}")


def builtin_tools(tools: Sequence[Mapping[str, Any]] | None) -> list[Mapping[str, Any]]:
    """The built-in (server-run) tools in a tool list, each checked."""
    found = []
    for tool in tools or []:
        kind = str(tool.get("type", ""))
        if kind == "function":
            continue
        if kind not in BUILTIN_TOOLS:
            raise _fail(
                "tools",
                f"unknown built-in tool type {kind!r}; known: {', '.join(sorted(BUILTIN_TOOLS))}",
            )
        if kind == "file:text" and not tool.get("files"):
            raise _fail("tools", "file:text needs files=[<file id>] (upload the file first)")
        found.append(tool)
    return found


def validate_chat(settings: Mapping[str, Any], *, stream: bool) -> None:
    """Chat-completion rules the server enforces with a 422, checked before sending."""
    validate_sampling(settings)
    _in_range(
        settings,
        "top_logprobs",
        lambda v: isinstance(v, int) and 0 <= v <= 20,
        "must be an integer in 0..20",
    )
    if settings.get("top_logprobs") is not None and not settings.get("logprobs"):
        raise _fail("top_logprobs", "requires logprobs=True")
    logprobs = settings.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise _fail(
            "logprobs",
            f"must be a boolean for chat (an integer is for completions); got {logprobs!r}",
        )
    tools = settings.get("tools")
    if tools and settings.get("response_format"):
        raise _fail(
            "response_format",
            "Friendli refuses response_format together with tools; use one or the other",
        )
    if tools and settings.get("min_tokens"):
        raise _fail("min_tokens", "Friendli refuses min_tokens together with tools")
    if settings.get("response_format") and settings.get("min_tokens"):
        raise _fail("min_tokens", "Friendli refuses min_tokens together with response_format")
    if stream and (settings.get("n") or 1) > 1:
        raise _fail("n", "must be 1 when streaming (LangChain streams one generation)")
    response_format = settings.get("response_format")
    if response_format is not None:
        kind = response_format.get("type") if isinstance(response_format, Mapping) else None
        if kind not in ("text", "json_object", "json_schema", "regex"):
            raise _fail(
                "response_format",
                f"type must be text, json_object, json_schema or regex; got {kind!r}",
            )
        if kind == "regex" and not isinstance(response_format.get("schema"), str):
            raise _fail("response_format", "a regex response_format needs schema=<regex string>")


def wire_response_format(response_format: Mapping[str, Any]) -> dict[str, Any]:
    """Friendli's ``response_format``: json_schema carries only ``name`` and ``schema``.

    Friendli always decodes under the schema's grammar, so OpenAI's ``strict``
    flag (and the description) has no equivalent and is not sent.
    """
    if response_format.get("type") != "json_schema":
        return dict(response_format)
    spec = response_format.get("json_schema") or {}
    out: dict[str, Any] = {"schema": spec.get("schema", {})}
    if spec.get("name"):
        out["name"] = spec["name"]
    return {"type": "json_schema", "json_schema": out}


def friendli_tool_choice(tool_choice: Any, names: Sequence[str]) -> str | dict[str, Any] | None:
    """Friendli's ``tool_choice``; True with one bound function forces it by name."""
    if tool_choice is True and len(names) == 1:
        return {"type": "function", "function": {"name": names[0]}}
    return tool_choice_to_openai(tool_choice, names, provider=PROVIDER)


# --------------------------------------------------------------------------- completions

COMPLETION_FIELDS: Final = (
    "bad_word_tokens",
    "bad_words",
    "beam_search_type",
    "early_stopping",
    "embedding_to_replace",
    "encoder_no_repeat_ngram",
    "encoder_repetition_penalty",
    "eos_token",
    "frequency_penalty",
    "include_output_logits",
    "include_output_logprobs",
    "length_penalty",
    "max_tokens",
    "max_total_tokens",
    "min_tokens",
    "min_total_tokens",
    "n",
    "no_repeat_ngram",
    "num_beams",
    "presence_penalty",
    "repetition_penalty",
    "response_format",
    "seed",
    "stop",
    "stop_tokens",
    "temperature",
    "timeout_microseconds",
    "token_index_to_replace",
    "top_k",
    "top_p",
    "min_p",
    "logprobs",
)
"""Every completions field of the seed plus the current API's, under Friendli's names."""

_BEAM_TYPES: Final = ("DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING")


def _both(settings: Mapping[str, Any], a: str, b: str) -> None:
    if settings.get(a) is not None and settings.get(b) is not None:
        raise _fail(f"{a}, {b}", f"set only one of {a} and {b}")


def validate_completions(settings: Mapping[str, Any], *, stream: bool) -> None:
    """The seed's documented completions constraints, each naming its fields."""
    validate_sampling(settings)
    _both(settings, "max_tokens", "max_total_tokens")
    _both(settings, "min_tokens", "min_total_tokens")
    for name in ("repetition_penalty", "encoder_repetition_penalty"):
        _in_range(
            settings,
            name,
            lambda v: isinstance(v, int | float) and v >= 1.0,
            "must be >= 1.0 (1.0 is no penalty)",
        )
    for name in ("no_repeat_ngram", "encoder_no_repeat_ngram"):
        _in_range(
            settings,
            name,
            lambda v: isinstance(v, int) and v >= 1,
            "must be an integer >= 1 (1 disables it)",
        )
    _in_range(
        settings,
        "logprobs",
        lambda v: isinstance(v, int) and 0 <= v <= 20,
        "must be an integer in 0..20 for completions",
    )
    _in_range(
        settings,
        "max_total_tokens",
        lambda v: isinstance(v, int) and v >= 1,
        "must be an integer >= 1",
    )
    _in_range(
        settings,
        "min_total_tokens",
        lambda v: isinstance(v, int) and v >= 0,
        "must be an integer >= 0",
    )
    _in_range(
        settings,
        "timeout_microseconds",
        lambda v: isinstance(v, int) and v >= 1,
        "must be an integer >= 1",
    )
    if settings.get("response_format") and settings.get("min_tokens"):
        raise _fail("min_tokens", "Friendli refuses min_tokens together with response_format")
    if (settings.get("token_index_to_replace") is None) != (
        settings.get("embedding_to_replace") is None
    ):
        raise _fail(
            "token_index_to_replace, embedding_to_replace",
            "token_index_to_replace and embedding_to_replace go together",
        )
    beams = settings.get("num_beams")
    if beams is None:
        for name in ("beam_search_type", "early_stopping", "length_penalty"):
            if settings.get(name) is not None:
                raise _fail(name, "applies only to beam search; set num_beams too")
        return
    if isinstance(beams, bool) or not isinstance(beams, int) or not 1 <= beams <= 31:
        raise _fail("num_beams", f"must be an integer in 1..31; got {beams!r}")
    kind = settings.get("beam_search_type") or "DETERMINISTIC"
    if kind not in _BEAM_TYPES:
        raise _fail("beam_search_type", f"must be one of {', '.join(_BEAM_TYPES)}; got {kind!r}")
    if beams > 1:
        if stream:
            raise _fail("num_beams, stream", "beam search cannot stream")
        if (settings.get("n") or 1) > 1:
            raise _fail("num_beams, n", "beam search returns one result; n must be 1")
        if settings.get("stop"):
            raise _fail("num_beams, stop", "beam search cannot use stop; use stop_tokens")
        if kind == "DETERMINISTIC":
            for name in ("top_k", "top_p"):
                if settings.get(name) is not None:
                    raise _fail(
                        f"beam_search_type, {name}",
                        f"DETERMINISTIC beam search takes no sampling argument ({name})",
                    )


def completion_generation_info(choice: Mapping[str, Any]) -> dict[str, Any]:
    """generation_info of one completion choice: what Friendli sent, nothing invented."""
    return {
        k: choice[k]
        for k in ("finish_reason", "seed", "tokens", "logprobs")
        if choice.get(k) is not None
    }


def parse_completion(payload: Mapping[str, Any]) -> TextResult:
    """The generations (one per choice, by index) and usage of a completions response."""
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        raise IncompleteStreamError(
            f"friendli completion has no choices: {str(payload)[:300]}",
            provider=PROVIDER,
            raw_record=str(payload)[:2000],
        )
    ordered = sorted(choices, key=lambda c: c.get("index", 0))
    generations = [
        Generation(text=c.get("text") or "", generation_info=completion_generation_info(c) or None)
        for c in ordered
    ]
    return TextResult(generations, openai_usage(payload.get("usage")))


def tokenize_body(model: str | None, prompt: str) -> dict[str, Any]:
    """The body of ``POST {base}/tokenize`` (friendli.md §1.1; SDK ``*TokenizationBody``).

    ``{"model", "prompt"}``: ``model`` is the model code (serverless), the endpoint id or
    ``ID:ADAPTER`` (dedicated), and optional on a container (it picks an adapter there).
    """
    body: dict[str, Any] = {"prompt": prompt}
    if model:
        body["model"] = model
    return body


def parse_tokenize(payload: Mapping[str, Any]) -> int:
    """The token count of a tokenize response ``{"tokens": [ids...]}``."""
    tokens = payload.get("tokens")
    if not isinstance(tokens, list):
        raise IncompleteStreamError(
            f"friendli tokenize response has no 'tokens' list: {str(payload)[:300]}",
            provider=PROVIDER,
            raw_record=str(payload)[:2000],
        )
    return len(tokens)


@dataclass
class CompletionStream:
    """Decode a completions stream, current (OpenAI-like) or legacy (``token_sampled``).

    Current: text deltas with the sampled ``token``, a finish chunk, a usage chunk
    with ``choices: []`` and ``[DONE]``. Legacy: ``{"event": "token_sampled"}``
    lines, then one complete record (``choices`` with ``seed``/``tokens``, and
    ``usage``) that ends the stream. Only output 0 is streamed.
    """

    text: str = ""
    finished: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    tokens: list[int] = field(default_factory=list)
    usage: UsageMetadata | None = None
    done: bool = field(init=False, default=False)
    """Completions streams always run to the server's end."""

    def feed(self, record: Record) -> list[Delta]:
        """Deltas for one record."""
        data = record.data
        if data.get("event") == "token_sampled":
            return self._delta(data.get("text") or "", data.get("token"), data.get("index", 0))
        out: list[Delta] = []
        legacy_final = (
            bool(self.tokens)
            and not self.finished
            and any("tokens" in c for c in data.get("choices") or [])
        )
        for choice in data.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            if legacy_final:
                self.info.update(completion_generation_info(choice))
                self.finished = True
                continue
            out += self._delta(choice.get("text") or "", choice.get("token"), 0)
            if choice.get("logprobs") is not None:
                self.info.setdefault("logprobs", []).append(choice["logprobs"])
            reason = choice.get("finish_reason")
            if reason is not None and reason != "null":
                self.info["finish_reason"] = reason
                self.finished = True
        if isinstance(data.get("usage"), Mapping):
            self.usage = openai_usage(data["usage"])
        return out

    def _delta(self, text: str, token: Any, index: Any) -> list[Delta]:
        if index not in (0, None):
            return []
        if isinstance(token, int):
            self.tokens.append(token)
        if not text:
            return []
        self.text += text
        return [Delta(text)]

    def close(self) -> list[Delta]:
        """The final delta carries generation_info; a stream that never finished raises."""
        if not self.finished:
            raise IncompleteStreamError(
                "friendli completions stream ended before a finish_reason",
                provider=PROVIDER,
                partial_text=self.text,
            )
        info = dict(self.info)
        if self.tokens and "tokens" not in info:
            info["tokens"] = list(self.tokens)
        return [Delta(usage=self.usage, info=info, last=True)]


@dataclass
class ChatStream(OpenAIChatStream):
    """Friendli chat streams: OpenAI chunks plus tool-assisted ``tool_status`` events.

    A built-in tool's status becomes a custom event now and is kept, in order,
    in ``additional_kwargs["tool_status"]``.
    """

    def feed(self, record: Record) -> list[Delta]:
        """Decode one record, a chunk or a ``tool_status`` event."""
        if record.event == "tool_status":
            status = record.data
            return [
                Delta(
                    extra={"tool_status": [status]},
                    event=CustomEvent("tool_status", status),
                )
            ]
        return super().feed(record)

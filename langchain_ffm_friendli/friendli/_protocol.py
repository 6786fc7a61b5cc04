"""Friendli wire protocol as pure functions (no I/O).

Chat completions are OpenAI-compatible, so messages, tools and stream decoding
come from :mod:`langchain_ffm_friendli._openai`; this module adds what is
Friendli's own: parameter ranges and forbidden combinations, the endpoint kinds,
built-in tools and the tool-assisted route, and ``tool_status`` events. See
docs/protocols/friendli.md for the evidence behind each rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, get_args

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages import content as blocks
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import Generation

from langchain_ffm_friendli._deltas import CustomEvent, DeliveredText, Delta, TextResult
from langchain_ffm_friendli._openai.chat import OpenAIChatStream, openai_usage
from langchain_ffm_friendli._openai.tools import tool_choice_to_openai
from langchain_ffm_friendli._profiles import known_models, model_profile
from langchain_ffm_friendli._wire import Record
from langchain_ffm_friendli.errors import IncompleteStreamError, InvalidParameterError

__all__ = [
    "BUILTIN_TOOLS",
    "PROVIDER",
    "REASONING_EFFORTS",
    "ChatStream",
    "CompletionStream",
    "InvalidParameterError",
    "builtin_tools",
    "builtin_tools_url",
    "check_media",
    "completion_generation_info",
    "friendli_tool_choice",
    "infer_endpoint",
    "parse_completion",
    "parse_tokenize",
    "server_tool_blocks",
    "tokenize_body",
    "tool_status_blocks",
    "tools_url",
    "translate_content",
    "translate_content_chunk",
    "validate_chat",
    "validate_completions",
    "validate_reasoning",
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


ReasoningEffort = Literal["minimal", "low", "medium", "high", "xhigh", "max", "ultracode"]
"""``reasoning_effort`` values: the chat bodies' enum in the friendli SDK 0.16.5
(``ServerlessChatCompletionBodyReasoningEffort`` and its dedicated/container twins,
protocols/friendli.md §2.1). Which of them a model honours depends on the model."""

REASONING_EFFORTS: Final[tuple[str, ...]] = get_args(ReasoningEffort)

#: Media part type -> (profile flag, what it is called in an error).
_MEDIA_FLAGS: Final = {
    "image_url": ("image_inputs", "image"),
    "audio_url": ("audio_inputs", "audio"),
    "video_url": ("video_inputs", "video"),
}


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


def builtin_tools_url(endpoint: str | None, base_url: str) -> str:
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


def validate_reasoning(settings: Mapping[str, Any]) -> None:
    """The reasoning fields' types and values (friendli SDK 0.16.5 chat body models).

    ``reasoning_effort`` is one of :data:`REASONING_EFFORTS`; ``reasoning_budget``
    "a positive integer" (a token cap); ``parse_reasoning`` / ``include_reasoning``
    booleans.
    """
    effort = settings.get("reasoning_effort")
    if effort is not None and (not isinstance(effort, str) or effort not in REASONING_EFFORTS):
        raise _fail(
            "reasoning_effort", f"must be one of {', '.join(REASONING_EFFORTS)}; got {effort!r}"
        )
    _in_range(
        settings,
        "reasoning_budget",
        lambda v: isinstance(v, int) and v >= 1,
        "must be a positive integer (a cap on reasoning tokens)",
    )
    for name in ("parse_reasoning", "include_reasoning"):
        value = settings.get(name)
        if value is not None and not isinstance(value, bool):
            raise _fail(name, f"must be a boolean; got {value!r}")


def _known_profile(model: str | None) -> Mapping[str, Any] | None:
    """The profile of a documented Friendli model id, or None for any other id.

    Dedicated endpoint ids, ``ID:ADAPTER`` routes, container models and ids we
    have no record of are the user's own deployments (possibly vision models),
    so nothing is known about their inputs.
    """
    if not model or ":" in model:
        return None
    wanted = model.strip().casefold()
    if not any(known.casefold() == wanted for known in known_models(PROVIDER)):
        return None
    return model_profile(PROVIDER, model)


def check_media(messages: Sequence[Mapping[str, Any]], model: str | None) -> None:
    """Refuse image/audio/video parts a documented model does not take.

    Friendli answers such a request with 422 ("This model does not support
    image/video inputs", protocols/friendli.md §2.2); the model profile
    (``image_inputs`` / ``audio_inputs`` / ``video_inputs``) says it first, naming
    the part. Unknown ids (dedicated endpoints, adapters, containers) are allowed:
    see :func:`_known_profile`.
    """
    media = [
        (index, number, part)
        for index, message in enumerate(messages)
        if isinstance(message.get("content"), list)
        for number, part in enumerate(message["content"])
        if part.get("type") in _MEDIA_FLAGS
    ]
    profile = _known_profile(model) if media else None  # text-only calls look nothing up
    if profile is None:
        return
    for index, number, part in media:
        flag, what = _MEDIA_FLAGS[part["type"]]
        if not profile.get(flag):
            able = sorted(m for m, p in _profiles_with(flag))
            raise _fail(
                f"messages[{index}].content[{number}]",
                f"model {model!r} does not accept {what} input ({flag} is false in its "
                f"profile; Friendli would answer 422). Models that do: "
                f"{', '.join(able) or 'none documented'}; a dedicated endpoint or "
                "container serving a vision model is not checked",
            )


def _profiles_with(flag: str) -> list[tuple[str, Mapping[str, Any]]]:
    """The documented Friendli models whose profile has ``flag`` set."""
    profiles = [(m, model_profile(PROVIDER, m)) for m in known_models(PROVIDER)]
    return [(m, p) for m, p in profiles if p.get(flag)]


def validate_chat(settings: Mapping[str, Any]) -> None:
    """Chat-completion rules the server enforces with a 422, checked before sending.

    ``n`` with streaming is the shared rule of every class (``Call``), not checked here.
    """
    validate_sampling(settings)
    validate_reasoning(settings)
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


_BEAM_TYPES: Final = ("DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING")


def _both(settings: Mapping[str, Any], a: str, b: str) -> None:
    if settings.get(a) is not None and settings.get(b) is not None:
        raise _fail(f"{a}, {b}", f"set only one of {a} and {b}")


def validate_completions(settings: Mapping[str, Any], *, stream: bool) -> None:
    """The documented completions constraints (protocols/friendli.md §4.1, §4.5), naming fields."""
    validate_sampling(settings)
    _completion_ranges(settings)
    _completion_pairs(settings)
    _beam_search(settings, stream=stream)


def _completion_ranges(settings: Mapping[str, Any]) -> None:
    """The ranges of the fields only completions have."""
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


def _completion_pairs(settings: Mapping[str, Any]) -> None:
    """Fields that exclude or need each other."""
    _both(settings, "max_tokens", "max_total_tokens")
    _both(settings, "min_tokens", "min_total_tokens")
    if settings.get("response_format") and settings.get("min_tokens"):
        raise _fail("min_tokens", "Friendli refuses min_tokens together with response_format")
    if (settings.get("token_index_to_replace") is None) != (
        settings.get("embedding_to_replace") is None
    ):
        raise _fail(
            "token_index_to_replace, embedding_to_replace",
            "token_index_to_replace and embedding_to_replace go together",
        )


def _beam_search(settings: Mapping[str, Any], *, stream: bool) -> None:
    """Beam search's fields and what it cannot be combined with."""
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
    """The body of ``POST {base}/tokenize`` (protocols/friendli.md §1.1; SDK ``*TokenizationBody``).

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


def _has_tokens(choices: Any) -> bool:
    """Whether a record's choices carry ``tokens``: the legacy stream's final record."""
    for choice in choices:  # noqa: SIM110 - a loop, not any(<genexpr>): read on every record
        if "tokens" in choice:
            return True
    return False


@dataclass
class CompletionStream(DeliveredText):
    """Decode a completions stream, current (OpenAI-like) or legacy (``token_sampled``).

    Current: text deltas with the sampled ``token``, a finish chunk, a usage chunk
    with ``choices: []`` and ``[DONE]``. Legacy: ``{"event": "token_sampled"}``
    lines, then one complete record (``choices`` with ``seed``/``tokens``, and
    ``usage``) that ends the stream. Only output 0 is streamed.
    """

    finished: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    tokens: list[int] = field(default_factory=list)
    usage: UsageMetadata | None = None
    done: ClassVar[bool] = False
    """The client never stops these streams early."""
    ended: ClassVar[bool] = False
    """They end at the framing's ``[DONE]`` (or the body's end, for the legacy stream)."""
    _pieces: list[str] = field(default_factory=list, repr=False)

    def feed(self, record: Record) -> list[Delta]:
        """Deltas for one record."""
        data = record.data
        if data.get("event") == "token_sampled":
            return self._delta(data.get("text") or "", data.get("token"), data.get("index", 0))
        out: list[Delta] = []
        choices = data.get("choices") or ()
        legacy_final = bool(self.tokens) and not self.finished and _has_tokens(choices)
        for choice in choices:
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
        usage = data.get("usage")
        if usage is not None and isinstance(usage, Mapping):
            self.usage = openai_usage(usage)
        return out

    def _delta(self, text: str, token: Any, index: Any) -> list[Delta]:
        if index not in (0, None):
            return []
        if isinstance(token, int):
            self.tokens.append(token)
        if not text:
            return []
        self._pieces.append(text)
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
    in ``additional_kwargs["tool_status"]``. Its chunk also carries
    ``response_metadata["model_provider"]`` so that LangChain finds the Friendli
    block translator for that chunk alone (:func:`translate_content_chunk`);
    without it a ``stream(output_version="v1")`` chunk would lose its blocks.
    """

    def feed(self, record: Record) -> list[Delta]:
        """Decode one record, a chunk or a ``tool_status`` event."""
        if record.event == "tool_status":
            status = record.data
            return [
                Delta(
                    metadata={"model_provider": self.provider},
                    extra={"tool_status": [status]},
                    event=CustomEvent("tool_status", status),
                )
            ]
        return super().feed(record)


# --------------------------------------------------------------------------- content blocks


def _tool_args(parameters: Any) -> dict[str, Any]:
    """``[{"name": n, "value": v}, ...]`` as ``{n: v}`` (values stay the strings sent)."""
    if not isinstance(parameters, Sequence) or isinstance(parameters, str):
        return {}
    return {
        str(p["name"]): p.get("value")
        for p in parameters
        if isinstance(p, Mapping) and p.get("name") is not None
    }


def tool_status_blocks(status: Mapping[str, Any]) -> list[blocks.ContentBlock]:
    """The standard content blocks of one Friendli ``tool_status`` record.

    ``STARTED`` is a ``server_tool_call`` (``id`` = ``tool_call_id``, ``name`` = the
    built-in tool, ``args`` from ``parameters``); ``ENDED`` and ``ERRORED`` are a
    ``server_tool_result`` (``status`` "success" / "error", ``output`` = ``result``
    as Friendli sent it, which is often JSON text; for an error without a result,
    the error's ``msg``). ``UPDATING`` (progress only) has no standard block and
    gives none. Friendli's own fields (``error``, ``files``, ``message``) go in
    ``extras`` when set.

    Each block has an ``index`` made from the call id and its kind, so two tool
    calls in one stream stay two blocks when chunks are merged or bridged to
    stream events. A record without ``tool_call_id`` (seen for ``file:text``)
    gets an empty id and no index.
    """
    kind = status.get("status")
    call_id = status.get("tool_call_id")
    call_id = call_id if isinstance(call_id, str) else ""
    extras = {k: status[k] for k in ("error", "files", "message") if status.get(k) is not None}
    if kind == "STARTED":
        call = blocks.ServerToolCall(
            type="server_tool_call",
            id=call_id,
            name=str(status.get("name") or ""),
            args=_tool_args(status.get("parameters")),
        )
        if call_id:
            call["index"] = f"{call_id}:call"
        if extras:
            call["extras"] = extras
        return [call]
    if kind not in ("ENDED", "ERRORED"):
        return []
    result = blocks.ServerToolResult(
        type="server_tool_result",
        tool_call_id=call_id,
        status="success" if kind == "ENDED" else "error",
    )
    output = status.get("result")
    error = status.get("error")
    if output is None and kind == "ERRORED" and isinstance(error, Mapping):
        output = error.get("msg")
    if output is not None:
        result["output"] = output
    if call_id:
        result["index"] = f"{call_id}:result"
    if extras:
        result["extras"] = extras
    return [result]


def server_tool_blocks(statuses: Any) -> list[blocks.ContentBlock]:
    """The blocks of a list of ``tool_status`` records, in order (non-records skipped)."""
    if not isinstance(statuses, Sequence) or isinstance(statuses, str):
        return []
    return [b for s in statuses if isinstance(s, Mapping) for b in tool_status_blocks(s)]


def _with_server_tools(
    message: AIMessage, fallback: list[blocks.ContentBlock]
) -> list[blocks.ContentBlock]:
    """Fallback blocks with the server-tool blocks after any leading reasoning.

    Friendli runs the tools before it answers, so the calls and results come
    before the answer's text.
    """
    tools = server_tool_blocks(message.additional_kwargs.get("tool_status"))
    lead = 0
    while lead < len(fallback) and fallback[lead].get("type") == "reasoning":
        lead += 1
    return [*fallback[:lead], *tools, *fallback[lead:]]


def _without_provider(message: AIMessage) -> dict[str, Any]:
    return {
        "response_metadata": {
            k: v for k, v in message.response_metadata.items() if k != "model_provider"
        }
    }


def translate_content(message: AIMessage) -> list[blocks.ContentBlock]:
    """LangChain's ``content_blocks`` for a Friendli message (block translator).

    Registered for ``model_provider == "friendli"``. Without ``tool_status`` it
    raises ``NotImplementedError``, LangChain's signal to use its own
    best-effort parsing (which also makes ``reasoning_content`` a reasoning
    block). With it, the result is that same parsing (of a copy without
    ``model_provider``, so this translator is not called again) plus
    :func:`server_tool_blocks`.
    """
    if not message.additional_kwargs.get("tool_status"):
        raise NotImplementedError
    plain = message.model_copy(update=_without_provider(message))
    return _with_server_tools(message, plain.content_blocks)


def translate_content_chunk(message: AIMessageChunk) -> list[blocks.ContentBlock]:
    """:func:`translate_content` for a stream chunk (or a merged chunk)."""
    if not message.additional_kwargs.get("tool_status"):
        raise NotImplementedError
    plain = message.model_copy(update=_without_provider(message))
    return _with_server_tools(message, plain.content_blocks)

"""FFM (Formosa Foundation Model) wire protocol as pure functions.

Builds Conversation API payloads, validates FFM's parameter ranges, and turns
responses and stream records into LangChain objects. Nothing here does I/O, so
every quirk (nested ``parameters``, ``frequence_penalty``, flat responses, empty
deltas, usage on the final record only, the ``<function=...>`` text fallback) is
tested with plain data. See docs/protocols/ffm.md for the evidence behind
each rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from langchain_core.messages import AIMessage, ToolCallChunk
from langchain_core.messages.ai import UsageMetadata

from langchain_ffm_friendli import _tokens
from langchain_ffm_friendli._checks import require_numbers
from langchain_ffm_friendli._deltas import DeliveredText, Delta, usage_metadata
from langchain_ffm_friendli._openai.json_output import json_instruction, with_system_instruction
from langchain_ffm_friendli._openai.tools import (
    new_tool_call_id,
    parse_tool_calls,
    tool_call_chunks_from_deltas,
    tool_choice_to_openai,
)
from langchain_ffm_friendli._wire import Record
from langchain_ffm_friendli.errors import (
    IncompleteStreamError,
    InvalidParameterError,
    MalformedRecordError,
)

__all__ = [
    "DETERMINISTIC_TEMPERATURE",
    "PROVIDER",
    "FFMStream",
    "conversation_payload",
    "ffm_parameters",
    "ffm_tool_choice",
    "inject_response_format",
    "normalize_base_url",
    "parse_conversation",
    "parse_function_text",
    "strip_trailing_stop",
    "validate_parameters",
]

PROVIDER: Final = "ffm"
DETERMINISTIC_TEMPERATURE: Final = 0.01
"""FFM refuses temperature 0; this plus ``top_k=1`` is its closest equivalent."""
MAX_STOP_SEQUENCES: Final = 4


def normalize_base_url(url: str) -> str:
    """Accept ``.../api``, ``.../api/`` and ``.../api/models`` alike."""
    url = url.rstrip("/")
    if url.endswith("/models"):
        url = url[: -len("/models")]
    return url


def _fail(name: str, message: str) -> InvalidParameterError:
    return InvalidParameterError(name, message, provider=PROVIDER)


# FFM's documented ranges (protocols/ffm.md §1.4): field -> (accepted, what the error says).
_RANGES: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "temperature": (lambda v: v >= 0, "must be >= 0 (0 means deterministic)"),
    "top_p": (lambda v: 0 < v <= 1, "must be in (0, 1]"),
    "top_k": (lambda v: isinstance(v, int) and 1 <= v <= 100, "must be an integer in 1..100"),
    "frequence_penalty": (
        lambda v: v > 0,
        "must be > 0 (1.0 means no penalty; FFM's penalty is multiplicative)",
    ),
    "seed": (lambda v: isinstance(v, int) and v >= 0, "must be an integer >= 0"),
    "max_tokens": (
        lambda v: isinstance(v, int) and v > 0,
        "must be a positive integer (sent as max_new_tokens)",
    ),
}


def validate_parameters(settings: Mapping[str, Any]) -> None:
    """Check values against FFM's documented ranges, naming the offending field.

    ``settings`` uses the class's field names (``max_tokens``, ``stop``, ...).
    Temperature 0 is allowed here: it is translated, not sent.
    """
    require_numbers(settings, ("temperature", "top_p", "frequence_penalty"), provider=PROVIDER)
    for name, (accepted, message) in _RANGES.items():
        value = settings.get(name)
        if value is not None and (isinstance(value, bool) or not accepted(value)):
            raise _fail(name, f"{message}; got {value!r}")
    count = len([s for s in settings.get("stop") or () if s])  # "" matches at once: not sent
    if count > MAX_STOP_SEQUENCES:
        raise _fail("stop", f"FFM accepts at most {MAX_STOP_SEQUENCES} stop sequences; got {count}")


def ffm_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """FFM's ``parameters`` object as sent: temperature 0 becomes greedy decoding.

    FFM refuses temperature 0, so it is sent as ``temperature=0.01`` with
    ``top_k=1``, unless the caller chose ``top_k`` explicitly.
    """
    sent = dict(params)
    if sent.get("temperature") == 0:
        sent["temperature"] = DETERMINISTIC_TEMPERATURE
        sent.setdefault("top_k", 1)
    return sent


def ffm_tool_choice(tool_choice: Any, names: Sequence[str]) -> str | dict[str, Any] | None:
    """FFM's ``tool_choice``: force a lone tool by name, since "required" is undocumented.

    With several tools, "any"/"required"/True is sent as "required" (understood
    by FFM's TGI backend, though not in FFM's docs).
    """
    choice = tool_choice_to_openai(tool_choice, names, provider=PROVIDER)
    if choice == "required" and len(names) == 1:
        return {"type": "function", "function": {"name": names[0]}}
    return choice


def inject_response_format(
    messages: list[dict[str, Any]], response_format: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """Express an OpenAI-style ``response_format`` as a system instruction.

    FFM's Conversation API has no JSON mode, so ``json_object`` and
    ``json_schema`` requests become an instruction (with the schema spelled out)
    appended to the system prompt; the caller parses and validates the reply.
    """
    if not response_format or response_format.get("type") == "text":
        return messages
    instruction = json_instruction(response_format)
    if instruction is None:
        raise _fail(
            "response_format",
            f"type {response_format.get('type')!r} is not supported by FFM "
            "(use json_object or json_schema)",
        )
    return with_system_instruction(messages, instruction)


def _with_parameters(
    payload: dict[str, Any], parameters: Mapping[str, Any], extra: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``payload`` with FFM's ``parameters`` object, and what of ``extra`` goes at the top level.

    ``extra["parameters"]`` (from ``model_kwargs`` or ``extra_body``) is merged into
    ``parameters``; the rest of ``extra`` is returned for the top level.
    """
    params = dict(parameters)
    rest = dict(extra or {})
    extra_params = rest.pop("parameters", None)
    if isinstance(extra_params, Mapping):
        params.update(extra_params)
    if params:
        payload["parameters"] = params
    return payload, rest


def conversation_payload(
    *,
    model: str,
    messages: list[dict[str, Any]],
    parameters: Mapping[str, Any],
    stream: bool,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST {base_url}/models/conversation``.

    ``extra`` (``model_kwargs`` and unknown call kwargs) is merged at the top
    level, except its ``parameters`` entry, which is merged into ``parameters``.
    """
    payload, extra = _with_parameters({"model": model, "messages": messages}, parameters, extra)
    if tools:
        for tool in tools:
            if tool.get("type") != "function":
                raise _fail(
                    "tools",
                    f"FFM supports only function tools; got type {tool.get('type')!r}",
                )
        payload["tools"] = list(tools)
        if tool_choice is not None:
            payload["tool_choice"] = tool_choice
    payload.update(extra)
    payload["stream"] = stream
    return payload


_FUNCTION_TAG: Final = re.compile(r"<function=([^>\s]+)>(.*?)</function>", re.DOTALL)
_FUNCTION_PREFIX: Final = "<function="


def parse_function_text(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Pull Llama-3.1 style ``<function=NAME>{args}</function>`` calls out of text.

    Returns the text with the calls (and a leading ``tool`` marker) removed and
    the calls as OpenAI-style dicts with generated ids.
    """
    calls = [
        {
            "id": new_tool_call_id(),
            "type": "function",
            "function": {"name": m.group(1), "arguments": m.group(2).strip()},
        }
        for m in _FUNCTION_TAG.finditer(text)
    ]
    if not calls:
        return text, []
    rest = _FUNCTION_TAG.sub("", text).strip()
    if rest == "tool":
        rest = ""
    return rest, calls


def strip_trailing_stop(text: str, stop: Sequence[str] | None) -> str:
    """Drop a stop sequence the server echoed at the end (LangChain excludes it)."""
    for s in stop or ():
        if s and text.endswith(s):
            return text[: -len(s)]
    return text


def _legacy_function_call(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    fc = payload.get("function_call")
    if not isinstance(fc, Mapping) or not fc.get("name"):
        return []
    return [
        {
            "id": fc.get("id"),
            "type": "function",
            "function": {"name": fc["name"], "arguments": fc.get("arguments", "")},
        }
    ]


def _response_metadata(payload: Mapping[str, Any], model: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "model_name": payload.get("model") or model,
        "model_provider": PROVIDER,
        "finish_reason": payload.get("finish_reason"),
    }
    for key in ("total_time_taken", "details"):
        if payload.get(key) is not None:
            meta[key] = payload[key]
    return meta


def parse_conversation(
    payload: Mapping[str, Any],
    *,
    model: str,
    tools_bound: bool,
    stop: Sequence[str] | None,
) -> AIMessage:
    """Turn a non-stream Conversation API response into an AIMessage.

    A 200 body without ``generated_text`` and without tool calls is a format
    error, as TWCC's own wrapper treats it.
    """
    raw_calls = list(payload.get("tool_calls") or []) or _legacy_function_call(payload)
    text = payload.get("generated_text")
    if text is None and not raw_calls:
        raise IncompleteStreamError(
            f"ffm response has no generated_text: {json.dumps(payload, ensure_ascii=False)[:300]}",
            provider=PROVIDER,
            raw_record=json.dumps(payload, ensure_ascii=False),
        )
    text = str(text or "")
    if tools_bound and not raw_calls and _FUNCTION_PREFIX in text:
        text, raw_calls = parse_function_text(text)
    calls, invalid = parse_tool_calls(raw_calls)
    if not calls and not invalid:
        text = strip_trailing_stop(text, stop)
    return AIMessage(
        content=text,
        tool_calls=calls,
        invalid_tool_calls=invalid,
        usage_metadata=_usage(payload),
        response_metadata=_response_metadata(payload, model),
    )


def _usage(payload: Mapping[str, Any]) -> UsageMetadata | None:
    """FFM's token counts (on the final record or the whole response) as usage."""
    return usage_metadata(
        payload.get("prompt_tokens"), payload.get("generated_tokens"), payload.get("total_tokens")
    )


@dataclass
class FFMStream(DeliveredText):
    """Incremental decoder of one FFM stream (Conversation or Generate API).

    Feed it each record; it returns the deltas to emit. It holds back text only
    when it must: the tail that may turn out to be an echoed stop sequence, and
    (with tools bound) leading text that may be the start of a
    ``<function=...>`` call. Usage, finish_reason and model_name go on exactly
    one delta, the final one, because LangChain adds and concatenates them when
    merging chunks.
    """

    model: str
    tools_bound: bool = False
    stop: Sequence[str] = ()
    finished: bool = False
    done: ClassVar[bool] = False
    """The client never stops FFM streams early (stop sequences are the server's)."""
    _pieces: list[str] = field(default_factory=list, repr=False)
    _held: str = ""
    _deciding: bool = True
    _tool_chunks_seen: bool = False
    _hold_tail: int = field(init=False, default=0)
    _ids: dict[int, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.stop = [s for s in self.stop if s]
        self._hold_tail = max((len(s) for s in self.stop), default=0)
        self._deciding = self.tools_bound

    @property
    def ended(self) -> bool:
        """The final record (the one with ``finish_reason``) ends an FFM stream."""
        return self.finished

    def feed(self, record: Record) -> list[Delta]:
        """Decode one record (the JSON object of an SSE ``data`` field).

        The final record ends the stream: the driver reads nothing after it.
        """
        data = record.data
        if self.finished:
            return []
        piece = data.get("generated_text")
        calls = data.get("tool_calls")
        if data.get("finish_reason") is None and not calls:  # most records: text only
            if isinstance(piece, str) and piece:
                text = self._accept_text(piece)
                return [Delta(text)] if text else []
            return []
        deltas: list[Delta] = []
        if isinstance(piece, str) and piece:
            text = self._accept_text(piece)
            if text:
                deltas.append(Delta(text))
        if isinstance(calls, list) and calls:
            deltas.append(Delta(tool_calls=self._tool_chunks(calls)))
        if data.get("finish_reason") is not None:
            deltas.append(self._final(data))
        return deltas

    def _tool_chunks(self, calls: list[Any]) -> list[ToolCallChunk]:
        self._tool_chunks_seen = True
        tool_chunks = tool_call_chunks_from_deltas(calls)
        for tc in tool_chunks:
            index = tc["index"] if tc["index"] is not None else 0
            if index not in self._ids:
                # LangGraph matches ToolMessages by id: give id-less calls one,
                # on their first fragment only (LangChain merges by index).
                self._ids[index] = tc["id"] or new_tool_call_id()
                tc["id"] = self._ids[index]
        return tool_chunks

    def _accept_text(self, piece: str) -> str:
        if not (self._held or self._deciding or self._hold_tail):  # nothing to hold back
            self._pieces.append(piece)
            return piece
        self._held += piece
        if self._deciding:
            candidate = self._held.lstrip()
            if candidate.startswith("tool"):
                candidate = candidate[4:].lstrip()
            if (
                candidate.startswith(_FUNCTION_PREFIX)
                or _FUNCTION_PREFIX.startswith(candidate)
                or "tool".startswith(self._held.strip())
            ):
                return ""
            self._deciding = False
        return self._release(keep=self._hold_tail)

    def _release(self, keep: int) -> str:
        cut = max(len(self._held) - keep, 0)
        out, self._held = self._held[:cut], self._held[cut:]
        self._pieces.append(out)
        return out

    def _final(self, data: Mapping[str, Any]) -> Delta:
        self.finished = True
        tool_chunks: list[ToolCallChunk] = []
        held = self._held
        if self._deciding and _FUNCTION_PREFIX in held:
            held, raw_calls = parse_function_text(held)
            tool_chunks = [
                ToolCallChunk(
                    name=c["function"]["name"],
                    args=c["function"]["arguments"],
                    id=c["id"],
                    index=i,
                    type="tool_call_chunk",
                )
                for i, c in enumerate(raw_calls)
            ]
        elif not self._tool_chunks_seen:
            text = self.text
            held = strip_trailing_stop(text + held, self.stop)[len(text) :]
        self._held = ""
        self._pieces.append(held)
        return Delta(
            held,
            tool_calls=tool_chunks,
            usage=_usage(data),
            metadata=_response_metadata(data, self.model),
            info=generation_info(data),
            last=True,
        )

    def close(self) -> list[Delta]:
        """End of stream: a stream without its final record is an error."""
        if not self.finished:
            raise IncompleteStreamError(
                "ffm stream ended before its final record (no finish_reason); "
                "the answer is incomplete",
                provider=PROVIDER,
                partial_text=self.text + self._held,
            )
        return []


# --------------------------------------------------------------------------- generate


def generate_payload(
    *,
    model: str,
    prompt: str,
    parameters: Mapping[str, Any],
    stream: bool,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST {base_url}/models/generate`` (``inputs`` is the raw prompt)."""
    payload, extra = _with_parameters({"model": model, "inputs": prompt}, parameters, extra)
    payload.update(extra)
    payload["stream"] = stream
    return payload


def generation_info(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``generation_info`` for an LLM generation: finish reason and FFM's token counts."""
    info: dict[str, Any] = {"finish_reason": payload.get("finish_reason")}
    for key in ("prompt_tokens", "generated_tokens", "total_tokens"):
        if payload.get(key) is not None:
            info[key] = payload[key]
    return info


def parse_generate(
    payload: Mapping[str, Any], stop: Sequence[str] | None
) -> tuple[str, dict[str, Any], UsageMetadata | None]:
    """Text, generation_info and usage of a non-stream Generate API response."""
    text = payload.get("generated_text")
    if not isinstance(text, str):
        raise IncompleteStreamError(
            f"ffm response has no generated_text: {json.dumps(payload, ensure_ascii=False)[:300]}",
            provider=PROVIDER,
            raw_record=json.dumps(payload, ensure_ascii=False),
        )
    return strip_trailing_stop(text, stop), generation_info(payload), _usage(payload)


# --------------------------------------------------------------------------- embeddings

EMBEDDING_LIMITS: Final = {
    "ffm-embedding": (2048, 2048),
    "ffm-embedding-v2": (131072, 131072),
    "ffm-embedding-v2.1": (131072, 131072),
}
"""Documented (per-text, per-request) token limits; unknown models get the smallest."""


def embedding_limits(model: str) -> tuple[int, int]:
    """(per-text, per-request) token limits for a model id."""
    return EMBEDDING_LIMITS.get(model, EMBEDDING_LIMITS["ffm-embedding"])


def estimate_tokens(text: str) -> int:
    """A conservative token estimate (errs high): ``_tokens.estimate_tokens(conservative=True)``.

    A CJK character counts 1.5, a Latin word one per 4 letters, each digit and
    punctuation mark 1, and any text at least 1. If the server still reports an
    overflow, the batch is split and retried, so the estimate only needs to be close.
    """
    return max(1, _tokens.estimate_tokens(text, conservative=True))


def truncate_to_tokens(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose conservative estimate fits ``limit`` tokens."""
    return _tokens.truncate_to_tokens(text, limit, conservative=True)


def plan_batches(token_counts: Sequence[int], budget: int) -> list[range]:
    """Pack texts, in order, into requests of at most ``budget`` estimated tokens.

    Greedy and order-preserving: a text goes into the current request unless it
    would overflow the budget, in which case it starts the next one.
    """
    batches: list[range] = []
    start, used = 0, 0
    for index, count in enumerate(token_counts):
        if index > start and used + count > budget:
            batches.append(range(start, index))
            start, used = index, 0
        used += count
    if len(token_counts) > start:
        batches.append(range(start, len(token_counts)))
    return batches


def embeddings_payload(model: str, inputs: Sequence[str]) -> dict[str, Any]:
    """The JSON body of ``POST {base_url}/models/embeddings``."""
    return {"model": model, "inputs": list(inputs)}


def parse_embeddings(payload: Mapping[str, Any], expected: int) -> list[list[float]]:
    """Vectors in input order, whatever order ``data[].index`` arrives in.

    Anything that could misalign vectors and texts (a count short of the inputs,
    an index that is missing, out of range, 1-based or repeated, a vector that
    is not a list of numbers) is a typed error, never a silently shifted list.
    """
    data = payload.get("data")
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else 0
        raise _embeddings_error(payload, f"{got} vectors for {expected} inputs")
    vectors: list[list[float] | None] = [None] * expected
    for position, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise _embeddings_error(payload, f"data[{position}] is not an object")
        index = item.get("index", position)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < expected:
            raise _embeddings_error(
                payload, f"data[{position}].index is {index!r}, not in 0..{expected - 1}"
            )
        if vectors[index] is not None:
            raise _embeddings_error(payload, f"index {index} appears twice")
        vectors[index] = _vector(item.get("embedding"), position, payload)
    return [v for v in vectors if v is not None]


_FLOATS: Final = frozenset({float})
_NUMBERS: Final = frozenset({float, int})


def _vector(value: Any, position: int, payload: Mapping[str, Any]) -> list[float]:
    """The vector as floats; booleans, strings, nulls are not numbers.

    The element types are collected at C speed (``set(map(type, ...))``): a vector
    has hundreds of elements and a batch dozens of vectors.
    """
    if type(value) is list:
        kinds = set(map(type, value))
        if kinds <= _FLOATS:
            return value  # fresh from the JSON decoder: no copy needed
        if kinds <= _NUMBERS:
            return [float(v) for v in value]
    raise _embeddings_error(payload, f"data[{position}].embedding is not a list of numbers")


def _embeddings_error(payload: Mapping[str, Any], problem: str) -> MalformedRecordError:
    return MalformedRecordError(
        f"ffm embeddings response: {problem}",
        provider=PROVIDER,
        raw_record=json.dumps(payload, ensure_ascii=False)[:2000],
    )

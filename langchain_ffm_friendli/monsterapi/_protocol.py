"""MonsterAPI ``/v1/generate`` wire protocol as pure functions (no I/O).

The API mirrors vLLM's demo server: sampling knobs named after vLLM's
``SamplingParams`` (validated here with vLLM's rules, so users get a clear local
error instead of a late, vague one), a response whose ``text`` is a list (one
entry per output), and a stream of NUL-delimited JSON records holding the
*cumulative* text. See docs/protocols/monsterapi.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from langchain_core.messages.ai import UsageMetadata

from langchain_ffm_friendli._checks import require_numbers
from langchain_ffm_friendli._deltas import Delta, usage_metadata
from langchain_ffm_friendli._wire import Record
from langchain_ffm_friendli.errors import IncompleteStreamError, InvalidParameterError, StreamError

__all__ = [
    "PROVIDER",
    "CumulativeStream",
    "GenerateResult",
    "cut_at_stop",
    "generate_payload",
    "parse_generate",
    "strip_echo",
    "texts_of",
    "validate_sampling",
]

PROVIDER: Final = "monsterapi"
_GREEDY: Final = 1e-5
_FLOAT_FIELDS: Final = (
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
    "temperature",
    "top_p",
    "min_p",
    "length_penalty",
)


def _fail(name: str, message: str) -> InvalidParameterError:
    return InvalidParameterError(name, message, provider=PROVIDER)


def validate_sampling(settings: Mapping[str, Any]) -> None:
    """VLLM's sampling rules, with MonsterAPI's defaults for unset fields.

    Each error names the field(s) involved, before any request is sent.
    """
    require_numbers(settings, _FLOAT_FIELDS, provider=PROVIDER)
    n = settings.get("n")
    n = 1 if n is None else n
    best_of = settings.get("best_of")
    temperature = settings.get("temperature")
    temperature = 1.0 if temperature is None else temperature
    top_p = settings.get("top_p")
    top_k = settings.get("top_k")
    beam = bool(settings.get("use_beam_search"))
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise _fail("n", f"must be an integer >= 1; got {n!r}")
    if best_of is not None and (not isinstance(best_of, int) or best_of < n):
        raise _fail("best_of", f"must be an integer >= n ({n}); got {best_of!r}")
    for name in ("presence_penalty", "frequency_penalty"):
        value = settings.get(name)
        if value is not None and not -2 <= value <= 2:
            raise _fail(name, f"must be in [-2, 2]; got {value!r}")
    rp = settings.get("repetition_penalty")
    if rp is not None and not 0 < rp <= 2:
        raise _fail("repetition_penalty", f"must be in (0, 2]; got {rp!r}")
    if temperature < 0:
        raise _fail("temperature", f"must be >= 0; got {temperature!r}")
    if top_p is not None and not 0 < top_p <= 1:
        raise _fail("top_p", f"must be in (0, 1]; got {top_p!r}")
    if top_k is not None and (not isinstance(top_k, int) or (top_k != -1 and top_k < 1)):
        raise _fail("top_k", f"must be -1 (off) or an integer >= 1; got {top_k!r}")
    min_p = settings.get("min_p")
    if min_p is not None and not 0 <= min_p <= 1:
        raise _fail("min_p", f"must be in [0, 1]; got {min_p!r}")
    max_tokens = settings.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise _fail("max_tokens", f"must be an integer >= 1; got {max_tokens!r}")
    _sampling_mode(settings, n=n, best_of=best_of, temperature=temperature, beam=beam)


def _sampling_mode(
    settings: Mapping[str, Any], *, n: int, best_of: int | None, temperature: float, beam: bool
) -> None:
    """Beam search's requirements, or plain sampling's (vLLM's ``_verify_*`` rules)."""
    top_p = settings.get("top_p")
    top_k = settings.get("top_k")
    if beam:
        width = n if best_of is None else best_of
        if width < 2:
            raise _fail(
                "use_beam_search", f"beam search needs best_of >= 2 (the beam width); got {width}"
            )
        if temperature != 0:
            raise _fail("use_beam_search", f"beam search needs temperature=0; got {temperature}")
        if top_p not in (None, 1, 1.0):
            raise _fail("use_beam_search", f"beam search needs top_p=1; got {top_p}")
        if top_k not in (None, -1):
            raise _fail("use_beam_search", f"beam search needs top_k=-1; got {top_k}")
        return
    if settings.get("early_stopping"):
        raise _fail("early_stopping", "applies only with use_beam_search=True")
    lp = settings.get("length_penalty")
    if lp is not None and lp != 1.0:
        raise _fail("length_penalty", "must be 1.0 unless use_beam_search=True")
    if temperature < _GREEDY and (best_of or n) != 1:
        raise _fail(
            "best_of",
            "greedy sampling (temperature=0) needs best_of=1 and n=1; "
            f"got best_of={best_of}, n={n}",
        )


def generate_payload(
    *,
    model: str,
    fields: Mapping[str, Any],
    stream: bool,
    messages: list[dict[str, Any]] | None = None,
    prompt: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST {base_url}/generate``: exactly one of messages/prompt.

    ``fields`` are the sampling fields as sent; ``/generate`` has no ``stop``
    (it is applied client-side), so one is never sent here.
    """
    if (messages is None) == (prompt is None):
        raise _fail("messages", "send exactly one of messages or prompt")
    body: dict[str, Any] = {"model": model}
    if messages is not None:
        body["messages"] = messages
    else:
        body["prompt"] = prompt
    body.update({k: v for k, v in fields.items() if k != "stop"})
    body.update(extra or {})
    body["stream"] = stream
    return body


# Checked against ``dict`` first: a stream decodes one record per token, and the
# ``Mapping`` ABC check alone costs more than the rest of a plain type check.
_MAPPING: Final = (dict, Mapping)
_TEXTS: Final = (dict, Mapping, list, str)


def texts_of(value: Any) -> list[str] | None:
    """The output texts of a record: ``{"text": [...]}``, ``{"response": {...}}`` or a list."""
    if isinstance(value, _MAPPING):
        if "response" in value and isinstance(value["response"], _TEXTS):
            return texts_of(value["response"])
        value = value.get("text")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if len(value) == 1:  # one output, the usual case
            return [value[0]] if isinstance(value[0], str) else None
        if value and all(isinstance(v, str) for v in value):
            return list(value)
    return None  # no output at all (``text: []``) is not an answer


def _counts(value: Any) -> tuple[UsageMetadata | None, float | None]:
    body = value.get("response", value) if isinstance(value, _MAPPING) else None
    if not isinstance(body, _MAPPING):
        return None, None
    if "token_counts" not in body and "credits_consumed" not in body:
        return None, None  # every record but the last
    counts = body.get("token_counts")
    usage = None
    if isinstance(counts, Mapping):
        usage = usage_metadata(counts.get("input"), counts.get("output"))
    credits = body.get("credits_consumed")
    return usage, float(credits) if isinstance(credits, int | float) else None


@dataclass(frozen=True)
class GenerateResult:
    """A decoded non-stream response; every part but ``texts`` may be missing."""

    texts: list[str]
    usage: UsageMetadata | None
    credits_consumed: float | None
    model: str | None


def parse_generate(payload: Any, *, prompt: str | None, stop: Sequence[str] = ()) -> GenerateResult:
    """Decode a ``/generate`` response: echo stripped, stop applied client-side."""
    texts = texts_of(payload)
    if texts is None:
        raise StreamError(
            f"monsterapi response has no text: {str(payload)[:300]}",
            provider=PROVIDER,
            raw_record=str(payload)[:2000],
        )
    usage, credits = _counts(payload)
    model = payload.get("model") if isinstance(payload, Mapping) else None
    cleaned = [cut_at_stop(strip_echo(t, prompt), stop)[0] for t in texts]
    return GenerateResult(cleaned, usage, credits, model if isinstance(model, str) else None)


def strip_echo(text: str, prompt: str | None) -> str:
    """Remove the prompt that vLLM-style servers echo at the start of the output."""
    if prompt and text.startswith(prompt):
        return text[len(prompt) :]
    return text


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut at the earliest stop sequence (excluded); /generate has no native stop."""
    positions = [p for p in (text.find(s) for s in stop if s) if p >= 0]
    if not positions:
        return text, False
    return text[: min(positions)], True


@dataclass
class CumulativeStream:
    """Turn cumulative stream records into deltas of output 0.

    Every record holds the whole text so far; a delta is what extends the text
    already received. With beam search, later records may rewrite earlier text
    (beams are re-ranked), so nothing is emitted until the end. Otherwise a
    rewrite is an error, never a garbled delta. Stop sequences (applied client
    side) hold back a short tail so a stop string is never emitted. Only output
    0 is streamed (LangChain streams one generation); the final delta carries
    the metadata.
    """

    model: str = ""
    prompt: str | None = None
    stop: Sequence[str] = ()
    buffered: bool = False
    stopped: bool = False
    """True once a stop sequence was seen: the caller should stop reading."""
    done: bool = field(init=False, default=False)
    """The same flag under the decoder protocol's name (read after every network read)."""
    ended: ClassVar[bool] = False
    """The protocol has no terminal record: the stream ends with the body."""
    usage: UsageMetadata | None = None
    credits_consumed: float | None = None
    received: dict[int, str] = field(default_factory=dict)
    emitted: dict[int, str] = field(default_factory=dict)
    _echo: dict[int, bool] = field(default_factory=dict)
    _plain: bool = field(init=False, default=False)
    _cut: int = field(init=False, default=0)

    @property
    def text(self) -> str:
        """The text of output 0 delivered so far (partial text for errors)."""
        return self.emitted.get(0, "")

    def feed(self, record: Record) -> list[Delta]:
        """Deltas for one decoded record."""
        value = record.data
        if type(value) is dict and len(value) == 1 and self._plain:
            texts = value.get("text")  # the usual record: {"text": ["<all text so far>"]}
            if type(texts) is list and len(texts) == 1 and type(texts[0]) is str:
                current = texts[0][self._cut :]
                previous = self.received[0]
                if current.startswith(previous):
                    self.received[0] = self.emitted[0] = current
                    return [Delta(current[len(previous) :])] if len(current) > len(previous) else []
        usage, credits = _counts(value)
        self.usage = usage or self.usage
        self.credits_consumed = credits if credits is not None else self.credits_consumed
        texts = texts_of(value)
        if texts is None:
            if usage is not None or credits is not None:
                return []
            raise StreamError(
                f"monsterapi stream record has no text: {record.raw[:200]!r}",
                provider=PROVIDER,
                raw_record=record.raw,
                partial_text=self.text,
            )
        deltas: list[Delta] = []
        for index, full in enumerate(texts):
            if index not in self._echo:
                self._echo[index] = bool(self.prompt) and full.startswith(self.prompt or "")
            current = full[len(self.prompt or "") :] if self._echo[index] else full
            previous = self.received.get(index, "")
            if not self.buffered and not current.startswith(previous):
                raise StreamError(
                    "monsterapi stream rewrote text it had already sent (only beam search "
                    "does that); refusing to emit a garbled answer",
                    provider=PROVIDER,
                    raw_record=record.raw,
                    partial_text=self.text,
                )
            self.received[index] = current
            if not self.buffered and index == 0:
                deltas += self._release(final=False)
                # Later records of output 0 alone, with no stop to watch: the short path.
                self._plain = not self.stop and len(texts) == 1
                self._cut = len(self.prompt or "") if self._echo[0] else 0
        return deltas

    def _release(self, *, final: bool) -> list[Delta]:
        received = self.received.get(0, "")
        emitted = self.emitted.get(0, "")
        if not self.stop:  # nothing to cut or hold back: what is received goes out
            delta = received[len(emitted) :]
            if not delta:
                return []
            self.emitted[0] = received
            return [Delta(delta)]
        upto, hit = cut_at_stop(received, self.stop)
        if hit:
            self.stopped = self.done = True
        elif not final:
            hold = max((len(s) for s in self.stop), default=1) - 1
            upto = received[: max(len(received) - hold, len(emitted))]
        delta = upto[len(emitted) :]
        if not delta:
            return []
        self.emitted[0] = upto
        return [Delta(delta)]

    def close(self) -> list[Delta]:
        """End of stream: release what was held back, then the metadata.

        A stream that ends before its first record never answered: that is an
        error, not an empty reply (vLLM writes at least one record per request).
        """
        if not self.received:
            raise IncompleteStreamError(
                f"{PROVIDER} stream ended before its first record", provider=PROVIDER
            )
        deltas = self._release(final=True)
        metadata: dict[str, Any] = {"model_name": self.model, "model_provider": PROVIDER}
        info: dict[str, Any] = {}
        if self.stopped:
            metadata["finish_reason"] = info["finish_reason"] = "stop"
        if self.credits_consumed is not None:
            metadata["credits_consumed"] = info["credits_consumed"] = self.credits_consumed
        deltas.append(Delta(usage=self.usage, metadata=metadata, info=info or None, last=True))
        return deltas

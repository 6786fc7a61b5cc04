"""Property tests for every stream decoder, through the real decode path (no network).

Bytes go into an ``httpx.Response`` (split into arbitrary network chunks), into the
stream driver the planned models use (``drive``), with the provider's framing (SSE or NUL),
decoder and chunk function.

(a) Every split of a valid stream gives the same outputs. FFM's conversation
    stream and MonsterAPI's cumulative records already have split tests in
    test_ffm_protocol.py / test_monsterapi_protocol.py; this file adds the Friendli
    chat stream (``tool_status`` events included), the Friendli completions stream
    (current and legacy ``token_sampled``) and MonsterAPI's NUL stream with an
    echoed prompt and a stop sequence.
(b) On arbitrary bytes, on mutations of valid streams and on well-framed records of
    any JSON shape, a decoder raises nothing but our typed errors
    (:class:`~langchain_ffm_friendli.errors.ProviderError` subclasses).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.outputs import ChatGenerationChunk, GenerationChunk

from langchain_ffm_friendli._deltas import CustomEvent, chat_chunk, text_chunk
from langchain_ffm_friendli._wire import NulFraming, Record, SSEFraming
from langchain_ffm_friendli.errors import MalformedRecordError, ProviderError
from langchain_ffm_friendli.ffm import _protocol as ffm
from langchain_ffm_friendli.friendli import _protocol as friendli
from langchain_ffm_friendli.monsterapi import _protocol as monster
from tests.unit_tests._streams import drive_bytes

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- the real decode path


def split(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """Cut ``data`` at the given offsets (taken modulo its length + 1)."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = zip([0, *points], [*points, len(data)], strict=True)
    return [data[a:b] for a, b in bounds if data[a:b]]


def run_sse(steps: Any, chunks: Sequence[bytes]) -> list[Any]:
    """An SSE stream through ``drive`` (no callbacks): ``steps`` is (framing, decoder, make)."""
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
    )
    framing, decoder, make = steps
    return list(drive_bytes(response.iter_raw(), framing, decoder, make))


def run_bytes(steps: Any, chunks: Sequence[bytes]) -> list[Any]:
    """A raw byte stream (MonsterAPI's NUL records) through ``drive``."""
    response = httpx.Response(200, content=iter(chunks))
    framing, decoder, make = steps
    return list(drive_bytes(response.iter_raw(), framing, decoder, make))


def normal(outputs: list[Any]) -> list[Any]:
    """Comparable form of decoder outputs."""
    result: list[Any] = []
    for out in outputs:
        if isinstance(out, CustomEvent):
            result.append(("event", out.name, out.data))
        elif isinstance(out, ChatGenerationChunk):
            m = out.message
            result.append(
                (
                    "chat",
                    m.content,
                    getattr(m, "tool_call_chunks", None),
                    m.usage_metadata if hasattr(m, "usage_metadata") else None,
                    m.response_metadata,
                    m.additional_kwargs,
                    out.generation_info,
                )
            )
        elif isinstance(out, GenerationChunk):
            result.append(("text", out.text, out.generation_info))
        else:
            result.append(("other", out))
    return result


def text_of(outputs: list[Any]) -> str:
    parts = []
    for out in outputs:
        if isinstance(out, ChatGenerationChunk):
            parts.append(str(out.message.content))
        elif isinstance(out, GenerationChunk):
            parts.append(out.text)
    return "".join(parts)


def sse(record: Any, event: str | None = None, eol: bytes = b"\n") -> bytes:
    head = b"event: " + event.encode() + eol if event else b""
    return head + b"data: " + json.dumps(record, ensure_ascii=False).encode() + eol + eol


# --------------------------------------------------------------------------- valid streams

FFM_BYTES = b"".join(
    [
        sse({"generated_text": "", "details": None, "finish_reason": None}, eol=b"\r\n"),
        sse({"generated_text": "臺灣", "details": None, "finish_reason": None}),
        b"event: ping\r\ndata: 2024-05-20 06:00:15.123456\r\n\r\n",
        b": ping - 2024-05-20 06:00:15.123456+00:00\r\n\r\n",
        sse({"generated_text": " 🌏 ok", "details": None, "finish_reason": None}),
        sse(
            {
                "generated_text": "",
                "prompt_tokens": 5,
                "generated_tokens": 3,
                "total_tokens": 8,
                "finish_reason": "eos_token",
            }
        ),
    ]
)

_CHUNK = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1726277121}
_STATUS = {
    "tool_call_id": "call_3QrfStXSU6fGdOGPcETocIAq",
    "name": "math:calculator",
    "parameters": [{"name": "expression", "value": "150 * 1.60934"}],
    "result": None,
    "files": None,
    "message": None,
    "error": None,
    "usage": None,
    "timestamp": 1726277121,
}


def _delta(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    return {**_CHUNK, "choices": [choice]}


FRIENDLI_CHAT_BYTES = b"".join(
    [
        sse({**_STATUS, "status": "STARTED"}, event="tool_status"),
        sse(
            {**_STATUS, "status": "ENDED", "result": '"{\\"result\\": \\"241.4\\"}"'}, "tool_status"
        ),
        sse(_delta({"role": "assistant", "content": "結果"}), eol=b"\r\n"),
        b": keep-alive\n\n",
        sse(_delta({"content": "是 241.4 🧮"}), event="token"),
        sse(_delta({"content": "。"}), event="message"),
        sse(
            _delta(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"ci'},
                        }
                    ]
                }
            )
        ),
        sse(_delta({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "台北"}'}}]})),
        sse(_delta({}, finish="stop")),
        sse({**_CHUNK, "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 11}}),
        b"data: [DONE]\n\n",
    ]
)


def _completion(text: str, token: int | None, finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "text": text, "token": token, "finish_reason": finish, "logprobs": None}
    return {"id": "cmpl-1", "object": "text_completion", "created": 1, "choices": [choice]}


COMPLETIONS_BYTES = b"".join(
    [
        sse(_completion(" such", 1778)),
        sse(_completion(" as", 439), eol=b"\r\n"),
        sse(_completion(" 台灣", 5)),
        sse(_completion("", None, "length")),
        sse({"id": "cmpl-1", "choices": [], "usage": {"prompt_tokens": 5, "total_tokens": 8}}),
        b"data: [DONE]\n\n",
    ]
)

LEGACY_BYTES = b"".join(
    [
        sse({"event": "token_sampled", "index": 0, "text": " such", "token": 1778}),
        sse({"event": "token_sampled", "index": 1, "text": " other", "token": 9}),
        sse({"event": "token_sampled", "index": 0, "text": " 台灣", "token": 5}),
        sse(
            {
                "choices": [
                    {"index": 0, "seed": 42, "text": " such 台灣", "tokens": [1778, 5]},
                    {"index": 1, "seed": 43, "text": " other", "tokens": [9]},
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
            }
        ),
    ]
)

PROMPT = "[INST] 你好 [/INST]"
ANSWER = "你好, 世界! 🌏 See you。 Not this"
MONSTER_FINAL = PROMPT + ANSWER  # vLLM-style servers echo the prompt in every record


def _monster_bytes() -> bytes:
    out = bytearray()
    for step in range(1, len(ANSWER) + 1, 3):
        text = PROMPT + ANSWER[:step]
        form = step % 3
        record: Any = (
            {"text": [text]}
            if form == 0
            else {"response": {"text": [text]}}
            if form == 1
            else [text]
        )
        out += json.dumps(record, ensure_ascii=form == 0).encode() + b"\0"
    last = {"text": [MONSTER_FINAL], "token_counts": {"input": 7, "output": 9}}
    out += json.dumps(last, ensure_ascii=False).encode() + b"\0"
    out += json.dumps({"credits_consumed": 0.0005}).encode() + b"\0"
    return bytes(out)


MONSTER_BYTES = _monster_bytes()


# --------------------------------------------------------------------------- steps factories


def ffm_chat_steps() -> Any:
    return SSEFraming(ffm.PROVIDER), ffm.FFMStream(model="m"), chat_chunk


def ffm_chat_tools_steps() -> Any:
    decoder = ffm.FFMStream(model="m", tools_bound=True, stop=["ok"])
    return SSEFraming(ffm.PROVIDER), decoder, chat_chunk


def ffm_llm_steps() -> Any:
    return SSEFraming(ffm.PROVIDER), ffm.FFMStream(model="m"), text_chunk


def friendli_chat_steps() -> Any:
    decoder = friendli.ChatStream(model="m", provider=friendli.PROVIDER)
    return SSEFraming(friendli.PROVIDER), decoder, chat_chunk


def completion_steps() -> Any:
    return SSEFraming(friendli.PROVIDER), friendli.CompletionStream(), text_chunk


def monster_steps(prompt: str | None = None, stop: Sequence[str] = ()) -> Any:
    decoder = monster.CumulativeStream(prompt=prompt, stop=stop)
    return NulFraming(monster.PROVIDER), decoder, text_chunk


def monster_beam_steps() -> Any:
    return NulFraming(monster.PROVIDER), monster.CumulativeStream(buffered=True), text_chunk


SSE_STEPS: list[Callable[[], Any]] = [
    ffm_chat_steps,
    ffm_chat_tools_steps,
    ffm_llm_steps,
    friendli_chat_steps,
    completion_steps,
]
NUL_STEPS: list[Callable[[], Any]] = [
    monster_steps,
    lambda: monster_steps(PROMPT, ["。"]),
    monster_beam_steps,
]
VALID_SSE = [FFM_BYTES, FRIENDLI_CHAT_BYTES, COMPLETIONS_BYTES, LEGACY_BYTES]


# --------------------------------------------------------------------------- (a) every split


def friendli_record(block: bytes) -> Any:
    """The record of one ``event: ...`` / ``data: ...`` SSE block."""
    lines = dict(line.split(b": ", 1) for line in block.strip().split(b"\n"))
    data = lines[b"data"].decode()
    return Record(lines[b"event"].decode(), json.loads(data), data)


def test_the_valid_streams_decode_as_expected() -> None:
    chat = run_sse(friendli_chat_steps(), [FRIENDLI_CHAT_BYTES])
    assert text_of(chat) == "結果是 241.4 🧮。"
    statuses = [s for o in chat for s in o.message.additional_kwargs.get("tool_status", [])]
    assert [s["status"] for s in statuses] == ["STARTED", "ENDED"]
    decoder = friendli.ChatStream(model="m", provider=friendli.PROVIDER)
    events = [
        d.event
        for line in FRIENDLI_CHAT_BYTES.split(b"\n\n")
        if line.startswith(b"event: tool_status")
        for d in decoder.feed(friendli_record(line))
    ]
    assert [e.data["status"] for e in events if isinstance(e, CustomEvent)] == [
        "STARTED",
        "ENDED",
    ]
    current = run_sse(completion_steps(), [COMPLETIONS_BYTES])
    assert text_of(current) == " such as 台灣"
    assert current[-1].generation_info["finish_reason"] == "length"
    assert current[-1].generation_info["tokens"] == [1778, 439, 5]
    framing, completions, make = completion_steps()
    legacy = run_sse((framing, completions, make), [LEGACY_BYTES])
    assert text_of(legacy) == " such 台灣"
    assert legacy[-1].generation_info == {"seed": 42, "tokens": [1778, 5]}
    assert completions.usage == {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7}
    stopped = run_bytes(monster_steps(PROMPT, ["。"]), [MONSTER_BYTES])
    assert text_of(stopped) == "你好, 世界! 🌏 See you"
    whole = run_bytes(monster_steps(PROMPT), [MONSTER_BYTES])
    assert text_of(whole) == ANSWER
    assert whole[-1].generation_info == {"credits_consumed": 0.0005}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_friendli_chat_with_tool_status_every_split(cuts: list[int]) -> None:
    whole = normal(run_sse(friendli_chat_steps(), [FRIENDLI_CHAT_BYTES]))
    assert normal(run_sse(friendli_chat_steps(), split(FRIENDLI_CHAT_BYTES, cuts))) == whole


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([COMPLETIONS_BYTES, LEGACY_BYTES]), st.lists(st.integers(0, 10_000)))
def test_friendli_completions_current_and_legacy_every_split(data: bytes, cuts: list[int]) -> None:
    whole = normal(run_sse(completion_steps(), [data]))
    assert normal(run_sse(completion_steps(), split(data, cuts))) == whole


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=60))
def test_ffm_llm_text_steps_every_split(cuts: list[int]) -> None:
    whole = normal(run_sse(ffm_llm_steps(), [FFM_BYTES]))
    assert text_of(run_sse(ffm_llm_steps(), [FFM_BYTES])) == "臺灣 🌏 ok"
    assert normal(run_sse(ffm_llm_steps(), split(FFM_BYTES, cuts))) == whole


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2), st.lists(st.integers(min_value=0, max_value=10_000), max_size=60))
def test_monsterapi_nul_steps_with_echo_and_stop_every_split(which: int, cuts: list[int]) -> None:
    make = NUL_STEPS[which]
    whole = run_bytes(make(), [MONSTER_BYTES])
    pieces = run_bytes(make(), split(MONSTER_BYTES, cuts))
    if make is NUL_STEPS[1]:
        # A stop sequence ends the read, so how many later records (and their
        # counts) were already in the same network chunk depends on the split.
        assert text_of(pieces) == text_of(whole) == "你好, 世界! 🌏 See you"
    else:
        assert normal(pieces) == normal(whole)


# --------------------------------------------------------------------------- (b) only typed errors


def only_typed_errors(run: Callable[[], object]) -> None:
    """Run a decode; anything raised must be one of our typed errors."""
    with contextlib.suppress(ProviderError):
        run()


@FUZZ
@given(st.binary(max_size=3000), st.lists(st.integers(0, 10_000), max_size=20))
def test_arbitrary_bytes_raise_only_typed_errors(data: bytes, cuts: list[int]) -> None:
    chunks = split(data, cuts)
    for make in SSE_STEPS:
        only_typed_errors(lambda make=make: run_sse(make(), chunks))  # type: ignore[misc]
    for make in NUL_STEPS:
        only_typed_errors(lambda make=make: run_bytes(make(), chunks))  # type: ignore[misc]


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """A valid stream with bytes deleted, inserted, replaced, duplicated or cut off."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "insert":
            data[at:at] = draw(
                st.binary(min_size=1, max_size=12)
                | st.sampled_from([b"\0", b"\n", b"\r\n\r\n", b"data: ", b"[DONE]", b"\xe5"])
            )
        elif op == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 80))]
        elif op == "truncate":
            del data[at:]
    return bytes(data)


@FUZZ
@given(st.data(), st.lists(st.integers(0, 10_000), max_size=20))
def test_mutated_sse_streams_raise_only_typed_errors(data: st.DataObject, cuts: list[int]) -> None:
    valid = data.draw(st.sampled_from(VALID_SSE))
    chunks = split(data.draw(mutated(valid)), cuts)
    for make in SSE_STEPS:
        only_typed_errors(lambda make=make: run_sse(make(), chunks))  # type: ignore[misc]


@FUZZ
@given(st.data(), st.lists(st.integers(0, 10_000), max_size=20))
def test_mutated_nul_streams_raise_only_typed_errors(data: st.DataObject, cuts: list[int]) -> None:
    chunks = split(data.draw(mutated(MONSTER_BYTES)), cuts)
    for make in NUL_STEPS:
        only_typed_errors(lambda make=make: run_bytes(make(), chunks))  # type: ignore[misc]


# Well-framed records whose JSON has any shape, with the keys the decoders look for.
KEYS = [
    "generated_text", "finish_reason", "tool_calls", "function", "function_call", "name",
    "arguments", "id", "index", "prompt_tokens", "generated_tokens", "total_tokens",
    "completion_tokens", "details", "choices", "delta", "content", "usage", "logprobs",
    "reasoning_content", "model", "created", "prompt_tokens_details", "cached_tokens", "event",
    "text", "token", "tokens", "seed", "response", "token_counts", "input", "output",
    "credits_consumed", "status", "error", "detail", "status_code", "message",
]  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["stop", "length", "null", "token_sampled", "STARTED", "", "0", "1e999"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=25,
)
RECORD = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6) | JSON


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


@FUZZ
@given(
    records=st.lists(
        st.tuples(st.sampled_from(["", "message", "token", "tool_status", "error"]), RECORD),
        max_size=6,
    ),
    done=st.booleans(),
)
def test_records_of_any_shape_raise_only_typed_errors(
    *, records: list[tuple[str, Any]], done: bool
) -> None:
    data = b"".join(
        (b"event: " + event.encode() + b"\n" if event else b"")
        + b"data: "
        + _dumps(value).replace(b"\n", b"\\n")
        + b"\n\n"
        for event, value in records
    )
    if done:
        data += b"data: [DONE]\n\n"
    for make in SSE_STEPS:
        only_typed_errors(lambda make=make: run_sse(make(), [data]))  # type: ignore[misc]
    nul = b"".join(_dumps(value) + b"\0" for _, value in records)
    for make in NUL_STEPS:
        only_typed_errors(lambda make=make: run_bytes(make(), [nul]))  # type: ignore[misc]


@pytest.mark.parametrize(
    ("make", "data"),
    [
        (friendli_chat_steps, b'data: {"choices": true}\n\n'),
        (ffm_chat_steps, b'data: {"tool_calls": [null]}\n\n'),
        (ffm_llm_steps, b'data: {"finish_reason": "eos", "prompt_tokens": [1]}\n\n'),
        (completion_steps, b'data: {"choices": ["x"]}\n\n'),
    ],
)
def test_a_record_of_the_wrong_shape_is_a_malformed_record(
    make: Callable[[], Any], data: bytes
) -> None:
    with pytest.raises(MalformedRecordError) as info:
        run_sse(make(), [data])
    assert info.value.raw_record == data[len(b"data: ") :].strip().decode()


def test_a_nul_record_of_the_wrong_shape_is_a_malformed_record() -> None:
    with pytest.raises(MalformedRecordError) as info:
        run_bytes(monster_steps(), [b'{"text": ["a"], "token_counts": {"input": [2]}}\0'])
    assert info.value.raw_record == '{"text": ["a"], "token_counts": {"input": [2]}}'

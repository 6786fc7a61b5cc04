"""MonsterAPI rules as plain data: sampling validation, records, cumulative deltas."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_ffm_friendli._wire import NulFraming, NulRecordSplitter, Record, decode_json_bytes
from langchain_ffm_friendli.errors import (
    APIError,
    InvalidParameterError,
    MalformedRecordError,
    StreamError,
)
from langchain_ffm_friendli.monsterapi import _protocol as proto


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"n": 0}, "n"),
        ({"n": 3, "best_of": 2}, "best_of"),
        ({"use_beam_search": True, "best_of": 1, "temperature": 0}, "use_beam_search"),
        ({"use_beam_search": True, "best_of": 2, "temperature": 0.5}, "use_beam_search"),
        (
            {"use_beam_search": True, "best_of": 2, "temperature": 0, "top_p": 0.9},
            "use_beam_search",
        ),
        ({"use_beam_search": True, "best_of": 2, "temperature": 0, "top_k": 5}, "use_beam_search"),
        ({"length_penalty": 0.8}, "length_penalty"),
        ({"early_stopping": True}, "early_stopping"),
        ({"temperature": 0, "n": 2, "best_of": 2}, "best_of"),
        ({"top_k": 0}, "top_k"),
        ({"top_p": 0}, "top_p"),
        ({"repetition_penalty": 2.5}, "repetition_penalty"),
        ({"repetition_penalty": 0}, "repetition_penalty"),
        ({"presence_penalty": -3}, "presence_penalty"),
        ({"frequency_penalty": 2.1}, "frequency_penalty"),
        ({"min_p": 1.5}, "min_p"),
        ({"temperature": -1}, "temperature"),
    ],
)
def test_sampling_rules_name_the_field(settings: dict, field: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        proto.validate_sampling(settings)
    assert info.value.field == field


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {
            "use_beam_search": True,
            "best_of": 3,
            "n": 2,
            "temperature": 0,
            "top_p": 1,
            "top_k": -1,
            "length_penalty": 0.7,
            "early_stopping": True,
        },
        {"temperature": 0},
        {"n": 3, "best_of": 5, "temperature": 0.8, "top_k": 40, "top_p": 0.9, "min_p": 0.05},
    ],
)
def test_valid_combinations_pass(settings: dict) -> None:
    proto.validate_sampling(settings)


def test_payload_sends_exactly_one_input_and_omits_unset_fields() -> None:
    body = proto.generate_payload(
        model="m", settings={"max_tokens": 9, "top_k": None}, stream=False, prompt="p"
    )
    assert body == {"model": "m", "prompt": "p", "max_tokens": 9, "stream": False}
    with pytest.raises(InvalidParameterError, match="exactly one"):
        proto.generate_payload(model="m", settings={}, stream=False)


def test_every_record_form_and_optional_fields() -> None:
    assert proto.texts_of({"text": ["a"]}) == ["a"]
    assert proto.texts_of({"response": {"text": ["a", "b"]}}) == ["a", "b"]
    assert proto.texts_of(["a"]) == ["a"]
    result = proto.parse_generate({"response": {"text": ["x"]}}, prompt=None)
    assert (result.texts, result.usage, result.credits_consumed) == (["x"], None, None)
    full = proto.parse_generate(
        {
            "model": "m",
            "response": {
                "text": ["Qhi"],
                "token_counts": {"input": 2, "output": 3},
                "credits_consumed": 0.5,
            },
        },
        prompt="Q",
    )
    assert full.texts == ["hi"]  # echo stripped
    assert full.usage == {"input_tokens": 2, "output_tokens": 3, "total_tokens": 5}
    assert full.credits_consumed == 0.5


def test_double_encoded_and_error_records() -> None:
    assert decode_json_bytes(
        json.dumps(json.dumps({"text": ["a"]})).encode(), provider="monsterapi"
    ) == {"text": ["a"]}
    with pytest.raises(MalformedRecordError):
        decode_json_bytes(b"{not json", provider="monsterapi")
    with pytest.raises(APIError, match="boom"):
        decode_json_bytes(b'{"error": {"message": "boom", "code": 500}}', provider="monsterapi")


def rec(value: object) -> Record:
    return Record("", value, json.dumps(value))


def test_rewrite_without_beam_search_is_refused_and_buffered_with_it() -> None:
    stream = proto.CumulativeStream()
    stream.feed(rec({"text": ["Hello"]}))
    with pytest.raises(StreamError, match="rewrote"):
        stream.feed(rec({"text": ["Help"]}))
    beam = proto.CumulativeStream(buffered=True)
    assert beam.feed(rec({"text": ["Hello"]})) == []
    assert beam.feed(rec({"text": ["Hi there"]})) == []
    tail = beam.close()
    assert [d.text for d in tail] == ["Hi there", ""]
    assert tail[-1].last


def test_stop_is_applied_and_never_emitted() -> None:
    stream = proto.CumulativeStream(model="m", stop=["STOP"])
    out = []
    for text in ["a", "ab S", "ab ST", "ab STOP more"]:
        out += stream.feed(rec({"text": [text]}))
    assert stream.stopped
    assert stream.done
    out += stream.close()
    assert "".join(d.text for d in out) == "ab "
    assert out[-1].metadata == {
        "model_name": "m",
        "model_provider": "monsterapi",
        "finish_reason": "stop",
    }
    assert out[-1].info == {"finish_reason": "stop"}


# --------------------------------------------------------------------------- every split

FINALS = ["Hello! 你好, 世界。", "Bonjour 🌏 là"]


def _records(forms_seed: int) -> bytes:
    """Cumulative records for two outputs, cycling through the three record forms."""
    out = bytearray()
    steps = max(len(f) for f in FINALS)
    for step in range(1, steps + 1):
        texts = [f[:step] for f in FINALS]
        form = (step + forms_seed) % 3
        record = (
            {"text": texts} if form == 0 else {"response": {"text": texts}} if form == 1 else texts
        )
        out += json.dumps(record, ensure_ascii=form == 0).encode() + b"\0"
    return bytes(out)


def _deltas(chunks: list[bytes]) -> tuple[list[str], dict[int, str]]:
    """Output 0's deltas through the NUL framing, and every output's text received."""
    framing, stream = NulFraming("monsterapi"), proto.CumulativeStream()
    deltas: list[str] = []
    for chunk in chunks:
        for record in framing.feed(chunk):
            assert isinstance(record, Record)
            deltas += [d.text for d in stream.feed(record)]
    framing.close()
    return deltas + [d.text for d in stream.close()], stream.received


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2), st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_every_split_gives_the_same_deltas_and_they_add_up(seed: int, cuts: list[int]) -> None:
    data = _records(seed)
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces = [
        data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if data[a:b]
    ]
    whole, received = _deltas([data])
    assert _deltas(pieces) == (whole, received)
    assert "".join(whole) == FINALS[0]  # LangChain streams output 0
    assert received == dict(enumerate(FINALS))


def test_record_cut_off_at_eof_is_an_error() -> None:
    splitter = NulRecordSplitter()
    splitter.feed(b'{"text": ["a"]}\0{"text": ["ab')
    with pytest.raises(MalformedRecordError, match="inside a record"):
        splitter.close(provider="monsterapi")

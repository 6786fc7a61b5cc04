"""MonsterAPI rules as plain data: sampling validation, records, cumulative deltas."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_ffm_friendli import MonsterAPILLM
from langchain_ffm_friendli._wire import NulFraming, Record, decode_json_bytes
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
    body = proto.generate_payload(model="m", fields={"max_tokens": 9}, stream=False, prompt="p")
    assert body == {"model": "m", "prompt": "p", "max_tokens": 9, "stream": False}
    with pytest.raises(InvalidParameterError, match="exactly one"):
        proto.generate_payload(model="m", fields={}, stream=False)


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
    framing = NulFraming("monsterapi")
    records = framing.feed(b'{"text": ["a"]}\0{"text": ["ab')
    assert [r.data for r in records if isinstance(r, Record)] == [{"text": ["a"]}]
    with pytest.raises(MalformedRecordError, match="inside a record") as info:
        framing.close()
    assert info.value.raw_record == '{"text": ["ab'


# --------------------------------------------------------------------------- pure functions
# Rules cite sections of docs/protocols/monsterapi.md.


def _monster_error(field: str, call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(InvalidParameterError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert info.value.provider == "monsterapi"
    return str(info.value)


@pytest.mark.parametrize(
    ("settings", "field", "rule"),
    [
        # protocols/monsterapi.md §5 max_tokens: int >= 1
        ({"max_tokens": 0}, "max_tokens", "integer >= 1; got 0"),
        ({"max_tokens": 2.5}, "max_tokens", "integer >= 1; got 2.5"),
        # protocols/monsterapi.md §5 rule 1: best_of >= n >= 1
        ({"n": True}, "n", "integer >= 1; got True"),
        ({"n": 1.5}, "n", "integer >= 1; got 1.5"),
        ({"best_of": 2.5}, "best_of", ">= n (1); got 2.5"),
        ({"n": 2, "best_of": 1}, "best_of", ">= n (2); got 1"),
        # protocols/monsterapi.md §5 rule 2: beam search needs best_of >= 2 (n is the width when
        # best_of is unset)
        ({"use_beam_search": True, "temperature": 0}, "use_beam_search", "best_of >= 2"),
        ({"use_beam_search": True, "n": 2, "temperature": 1.0}, "use_beam_search", "temperature=0"),
        # temperature unset means MonsterAPI's default 1.0, which beam search refuses
        ({"use_beam_search": True, "best_of": 2}, "use_beam_search", "got 1.0"),
        # protocols/monsterapi.md §5 rule 5: top_k in {-1} or [1, inf); top_p in (0, 1]; min_p in
        # [0, 1]
        ({"top_k": -2}, "top_k", "-1 (off)"),
        ({"top_k": 2.5}, "top_k", "-1 (off)"),
        ({"top_p": 1.5}, "top_p", "(0, 1]"),
        ({"min_p": -0.1}, "min_p", "[0, 1]"),
        ({"presence_penalty": 2.5}, "presence_penalty", "[-2, 2]"),
        ({"frequency_penalty": -2.1}, "frequency_penalty", "[-2, 2]"),
        # protocols/monsterapi.md §5 rule 4: greedy (temperature 0) without beam search needs
        # best_of == 1 and n == 1
        ({"temperature": 0, "n": 2}, "best_of", "best_of=None, n=2"),
        ({"temperature": 0.000001, "best_of": 3}, "best_of", "best_of=3, n=1"),
        # protocols/monsterapi.md §5 rule 3: outside beam search early_stopping is false and
        # length_penalty 1.0
        ({"early_stopping": "never"}, "early_stopping", "use_beam_search=True"),
        ({"length_penalty": 1.5}, "length_penalty", "must be 1.0"),
    ],
)
def test_sampling_rules_quote_the_rule(settings: dict, field: str, rule: str) -> None:
    assert rule in _monster_error(field, proto.validate_sampling, settings)


@pytest.mark.parametrize(
    "settings",
    [
        # protocols/monsterapi.md §5: vLLM's best_of defaults to n, so n=2 alone is a beam width of
        # 2
        {"use_beam_search": True, "n": 2, "temperature": 0},
        {"use_beam_search": True, "best_of": 2, "temperature": 0.0, "top_p": 1.0},
        # protocols/monsterapi.md §5 rule 3: the defaults are fine without beam search
        {"early_stopping": False, "length_penalty": 1.0},
        # protocols/monsterapi.md §5 rule 5 boundaries
        {"top_k": -1, "top_p": 1, "min_p": 0, "repetition_penalty": 2, "max_tokens": 1},
        {"top_k": 1, "min_p": 1, "presence_penalty": -2, "frequency_penalty": 2},
        # greedy with a single output is allowed
        {"temperature": 0, "n": 1, "best_of": 1},
        {"temperature": 1e-5, "n": 2},
    ],
)
def test_documented_combinations_pass(settings: dict) -> None:
    proto.validate_sampling(settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", "0.7"),
        ("presence_penalty", "1"),
        ("repetition_penalty", "1.1"),
        ("top_p", "0.9"),
        ("min_p", "0.1"),
    ],
)
def test_non_numeric_sampling_value_is_an_invalid_parameter(field: str, value: object) -> None:
    _monster_error(field, proto.validate_sampling, {field: value})


def test_chat_payload_sends_messages_and_every_set_sampling_field() -> None:
    # protocols/monsterapi.md §5: exactly one of prompt / messages; the vLLM SamplingParams knobs at
    # the top level
    messages = [{"role": "user", "content": "hi"}]
    settings = {
        "max_tokens": 256,
        "n": 2,
        "best_of": 3,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "repetition_penalty": 1.1,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 40,
        "min_p": 0.05,
        "use_beam_search": False,
        "length_penalty": 1.0,
        "early_stopping": False,
    }
    body = proto.generate_payload(
        model="meta-llama/Meta-Llama-3.1-8B-Instruct",
        fields=settings,
        stream=True,
        messages=messages,
    )
    assert body == {
        "model": "meta-llama/Meta-Llama-3.1-8B-Instruct",
        "messages": messages,
        **settings,
        "stream": True,
    }


def test_payload_never_sends_undocumented_fields_from_settings() -> None:
    # protocols/monsterapi.md §5: only the documented sampling fields are declared (stop is
    # applied client-side);
    # protocols/monsterapi.md §6.11: omit unset fields rather than sending null
    documented = {
        "max_tokens", "n", "best_of", "presence_penalty", "frequency_penalty",
        "repetition_penalty", "temperature", "top_p", "top_k", "min_p", "use_beam_search",
        "length_penalty", "early_stopping",
    }  # fmt: skip
    assert set(MonsterAPILLM.wire_fields()) == {*documented, "stop"}
    llm = MonsterAPILLM(model="m", api_key="k", n=1, stop=["\n"])
    plan, _ = llm._planned("Q", None, {}, stream=False)
    assert plan.request.body == {"model": "m", "prompt": "Q", "n": 1, "stream": False}


def test_payload_extra_is_merged_but_stream_is_ours() -> None:
    # protocols/monsterapi.md §5: mock_response is an SDK-only extra, passed through on request
    body = proto.generate_payload(
        model="m",
        fields={},
        stream=False,
        prompt="",
        extra={"mock_response": True, "stream": True},
    )
    assert body == {"model": "m", "prompt": "", "mock_response": True, "stream": False}


def test_payload_with_both_inputs_is_refused() -> None:
    # protocols/monsterapi.md §5 rule 6: exactly one of prompt / messages
    message = _monster_error(
        "messages",
        proto.generate_payload,
        model="m",
        fields={},
        stream=False,
        messages=[],
        prompt="p",
    )
    assert "exactly one of messages or prompt" in message


@pytest.mark.parametrize(
    ("value", "texts"),
    [
        # protocols/monsterapi.md §6.3 / §6.7: response.text list, a top-level text, a bare list or
        # a plain string
        ({"response": {"text": ["a", "b"]}}, ["a", "b"]),
        ({"text": ["only"]}, ["only"]),
        ({"text": "plain"}, ["plain"]),
        ("plain", ["plain"]),
        (["x", "y", "z"], ["x", "y", "z"]),
        ({"response": "inner"}, ["inner"]),
        ({"response": ["inner"]}, ["inner"]),
        # a response that is no text container falls back to the top-level text
        ({"response": 5, "text": ["top"]}, ["top"]),
    ],
)
def test_texts_of_every_record_form(value: object, texts: list[str]) -> None:
    assert proto.texts_of(value) == texts


@pytest.mark.parametrize(
    "value",
    [None, 3, {}, {"text": None}, {"text": [1]}, {"text": ["a", 2]}, [None], {"response": {}}],
)
def test_texts_of_anything_else_is_none(value: object) -> None:
    assert proto.texts_of(value) is None


def test_parse_generate_of_a_response_without_text_is_a_stream_error() -> None:
    payload = {"response": {"token_counts": {"input": 1, "output": 0}}}
    with pytest.raises(StreamError) as info:
        proto.parse_generate(payload, prompt=None)
    assert info.value.provider == "monsterapi"
    assert "has no text" in str(info.value)
    assert info.value.raw_record == str(payload)


@pytest.mark.parametrize("payload", [{"response": {"text": []}}, {"text": []}, []])
def test_parse_generate_of_an_empty_text_list_is_a_stream_error(payload: object) -> None:
    with pytest.raises(StreamError):
        proto.parse_generate(payload, prompt=None)


def test_parse_generate_strips_the_echo_and_cuts_every_output_at_stop() -> None:
    # protocols/monsterapi.md §6.4: strip a leading copy of the prompt; §5: /generate has no stop,
    # cut client-side
    result = proto.parse_generate(
        {
            "model": "google/gemma-2-9b-it",
            "response": {
                "text": ["Q: hi A: one END two", "Q: hi A: three", "other"],
                "token_counts": {"input": 4, "output": 9},
                "credits_consumed": 2,
            },
        },
        prompt="Q: hi",
        stop=["END", ""],
    )
    assert result.texts == [" A: one ", " A: three", "other"]
    assert result.model == "google/gemma-2-9b-it"
    assert result.usage == {"input_tokens": 4, "output_tokens": 9, "total_tokens": 13}
    assert result.credits_consumed == 2.0
    assert isinstance(result.credits_consumed, float)


@pytest.mark.parametrize(
    ("payload", "usage", "credits", "model"),
    [
        # protocols/monsterapi.md §2.1: token_counts, credits_consumed and model are optional
        ({"text": ["a"], "model": 7}, None, None, None),
        ({"text": ["a"], "token_counts": "n/a", "credits_consumed": "0.5"}, None, None, None),
        (
            {"text": ["a"], "token_counts": {"output": 2}},
            {"input_tokens": 0, "output_tokens": 2, "total_tokens": 2},
            None,
            None,
        ),
        ({"response": {"text": ["a"], "credits_consumed": 0.25}}, None, 0.25, None),
        (["a"], None, None, None),
    ],
)
def test_parse_generate_optional_fields(
    payload: object, usage: object, credits: object, model: object
) -> None:
    result = proto.parse_generate(payload, prompt=None)
    assert result.texts == ["a"]
    assert (result.usage, result.credits_consumed, result.model) == (usage, credits, model)


@pytest.mark.parametrize(
    ("text", "prompt", "expected"),
    [
        # protocols/monsterapi.md §6.4: strip the prompt only when the text starts with it
        ("Q? A.", "Q?", " A."),
        ("A. Q?", "Q?", "A. Q?"),
        ("Q? A.", None, "Q? A."),
        ("Q? A.", "", "Q? A."),
        ("Q?", "Q?", ""),
    ],
)
def test_strip_echo(text: str, prompt: str | None, expected: str) -> None:
    assert proto.strip_echo(text, prompt) == expected


@pytest.mark.parametrize(
    ("text", "stop", "expected"),
    [
        # the earliest stop wins, whatever its place in the list; the stop is excluded
        ("a STOP b END c", ["END", "STOP"], ("a ", True)),
        ("a END b", ["END"], ("a ", True)),
        ("END", ["END"], ("", True)),
        ("no stop here", ["END"], ("no stop here", False)),
        ("empty stops are ignored", ["", ""], ("empty stops are ignored", False)),
        ("nothing to cut", [], ("nothing to cut", False)),
    ],
)
def test_cut_at_stop(text: str, stop: list[str], expected: tuple[str, bool]) -> None:
    assert proto.cut_at_stop(text, stop) == expected

"""FFM wire rules as plain data: payloads, validation, parsing, stream decoding."""

import json
from collections.abc import Iterable
from typing import cast

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessageChunk, HumanMessage

from langchain_ffm_friendli import ChatFFM
from langchain_ffm_friendli._deltas import chat_chunk
from langchain_ffm_friendli._wire import SSEFraming
from langchain_ffm_friendli.errors import IncompleteStreamError, InvalidParameterError
from langchain_ffm_friendli.ffm import _protocol as proto
from tests.unit_tests._streams import drive_bytes


def test_parameters_use_ffm_names_and_omit_unset() -> None:
    model = ChatFFM(model="m", api_key="k")
    values = {
        "max_tokens": 64,
        "temperature": 0.5,
        "top_k": 50,
        "top_p": 1.0,
        "frequence_penalty": 1.05,
        "stop": ["\n\n"],
        "seed": 7,
    }
    assert model._parameters(values) == {
        "max_new_tokens": 64,
        "temperature": 0.5,
        "top_k": 50,
        "top_p": 1.0,
        "frequence_penalty": 1.05,
        "stop_sequences": ["\n\n"],
        "seed": 7,
    }
    assert model._parameters({"temperature": None, "stop": None}) == {}


def test_temperature_zero_becomes_greedy_equivalent() -> None:
    assert proto.ffm_parameters({"temperature": 0}) == {"temperature": 0.01, "top_k": 1}
    # an explicit top_k is the user's choice and is kept
    assert proto.ffm_parameters({"temperature": 0, "top_k": 5}) == {
        "temperature": 0.01,
        "top_k": 5,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", -0.1),
        ("top_p", 0),
        ("top_p", 1.5),
        ("top_k", 0),
        ("top_k", 101),
        ("frequence_penalty", 0),
        ("seed", -1),
        ("max_tokens", 0),
        ("stop", ["a", "b", "c", "d", "e"]),
    ],
)
def test_out_of_range_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        proto.validate_parameters({field: value})
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}:")


def test_tool_choice_any_forces_a_lone_tool_by_name() -> None:
    assert proto.ffm_tool_choice("any", ["get_weather"]) == {
        "type": "function",
        "function": {"name": "get_weather"},
    }
    assert proto.ffm_tool_choice(True, ["a", "b"]) == "required"
    assert proto.ffm_tool_choice("b", ["a", "b"]) == {"type": "function", "function": {"name": "b"}}
    assert proto.ffm_tool_choice("none", ["a"]) == "none"
    with pytest.raises(InvalidParameterError, match="tool_choice"):
        proto.ffm_tool_choice("c", ["a", "b"])


def test_base_url_accepts_pasted_models_suffix() -> None:
    assert (
        proto.normalize_base_url("https://api-ams.twcc.ai/api/models/")
        == "https://api-ams.twcc.ai/api"
    )
    assert proto.normalize_base_url("https://x.afs.twcc.ai/text-generation/api") == (
        "https://x.afs.twcc.ai/text-generation/api"
    )


def test_payload_nests_parameters_and_merges_extra() -> None:
    body = proto.conversation_payload(
        model="m",
        messages=[{"role": "user", "content": "hi"}],
        parameters={"max_new_tokens": 5},
        stream=True,
        extra={"parameters": {"show_probabilities": True}, "custom": 1},
    )
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "parameters": {"max_new_tokens": 5, "show_probabilities": True},
        "custom": 1,
        "stream": True,
    }


def test_only_function_tools_are_accepted() -> None:
    with pytest.raises(InvalidParameterError, match="tools"):
        proto.conversation_payload(
            model="m", messages=[], parameters={}, stream=False, tools=[{"type": "math:calculator"}]
        )


def test_response_format_becomes_a_system_instruction() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    out = proto.inject_response_format(
        [{"role": "system", "content": "Be nice."}, {"role": "user", "content": "x"}],
        {"type": "json_schema", "json_schema": {"name": "A", "schema": schema}},
    )
    assert out[0]["content"].startswith("Be nice.\n\n")
    assert json.dumps(schema) in out[0]["content"]
    out = proto.inject_response_format([{"role": "user", "content": "x"}], {"type": "json_object"})
    assert out[0]["role"] == "system"
    assert "JSON" in out[0]["content"]


def test_parse_plain_answer_with_usage_and_metadata() -> None:
    message = proto.parse_conversation(
        {
            "generated_text": "印度教",
            "details": None,
            "total_time_taken": "0.13 sec",
            "prompt_tokens": 45,
            "generated_tokens": 5,
            "total_tokens": 50,
            "finish_reason": "stop_sequence",
        },
        model="llama3-ffm-70b-chat",
        tools_bound=False,
        stop=None,
    )
    assert message.content == "印度教"
    assert message.usage_metadata == {"input_tokens": 45, "output_tokens": 5, "total_tokens": 50}
    assert message.response_metadata == {
        "model_name": "llama3-ffm-70b-chat",
        "model_provider": "ffm",
        "finish_reason": "stop_sequence",
        "total_time_taken": "0.13 sec",
    }


def test_parse_root_tool_calls_and_invalid_json() -> None:
    message = proto.parse_conversation(
        {
            "generated_text": "",
            "finish_reason": "tool_calls",
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "w", "arguments": '{"city": "台北"}'},
                },
                {"type": "function", "function": {"name": "w", "arguments": '{"city": '}},
            ],
        },
        model="m",
        tools_bound=True,
        stop=None,
    )
    assert message.tool_calls == [
        {"name": "w", "args": {"city": "台北"}, "id": "call_0", "type": "tool_call"}
    ]
    assert len(message.invalid_tool_calls) == 1
    assert message.invalid_tool_calls[0]["args"] == '{"city": '
    assert message.invalid_tool_calls[0]["id"]  # generated


def test_parse_function_text_fallback_only_with_tools() -> None:
    payload = {
        "generated_text": 'tool<function=get_weather>{"city": "台北"}</function>',
        "finish_reason": "eos_token",
    }
    message = proto.parse_conversation(payload, model="m", tools_bound=True, stop=None)
    assert message.content == ""
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "台北"})
    ]
    assert message.tool_calls[0]["id"]
    untouched = proto.parse_conversation(payload, model="m", tools_bound=False, stop=None)
    assert untouched.tool_calls == []
    assert "<function=" in str(untouched.content)


def test_missing_generated_text_is_a_format_error() -> None:
    with pytest.raises(IncompleteStreamError):
        proto.parse_conversation(
            {"finish_reason": "eos_token"}, model="m", tools_bound=False, stop=None
        )


def test_echoed_stop_sequence_is_removed() -> None:
    message = proto.parse_conversation(
        {"generated_text": "Hello you", "finish_reason": "stop_sequence"},
        model="m",
        tools_bound=False,
        stop=["you"],
    )
    assert message.content == "Hello "


# --------------------------------------------------------------------------- stream


def _event(record: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(record, ensure_ascii=False).encode() + b"\r\n\r\n"


STREAM_BYTES = b"".join(
    [
        _event({"generated_text": "", "details": None, "finish_reason": None}),
        _event({"generated_text": "印", "details": None, "finish_reason": None}),
        b"event: ping\r\ndata: 2024-05-20 06:00:15.123456\r\n\r\n",
        _event({"generated_text": "", "details": None, "finish_reason": None}),
        b": ping - 2024-05-20 06:00:15.123456+00:00\r\n",
        _event({"generated_text": "度 ok", "details": None, "finish_reason": None}),
        _event(
            {
                "generated_text": "",
                "details": None,
                "total_time_taken": "0.13 sec",
                "prompt_tokens": 45,
                "generated_tokens": 5,
                "total_tokens": 50,
                "finish_reason": "eos_token",
            }
        ),
    ]
)


def decode_stream(chunks: Iterable[bytes], **kw: object) -> list[AIMessageChunk]:
    """The real decode path: httpx response bytes -> SSEFraming -> FFMStream."""
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
    )
    decoder = proto.FFMStream(model="m", **kw)  # type: ignore[arg-type]
    chunks = drive_bytes(response.iter_raw(), SSEFraming("ffm"), decoder, chat_chunk)
    return [cast(AIMessageChunk, c.message) for c in chunks]


def test_stream_skips_pings_and_puts_usage_on_one_chunk() -> None:
    chunks = decode_stream([STREAM_BYTES])
    assert "".join(str(c.content) for c in chunks) == "印度 ok"
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert with_usage[0].usage_metadata == {
        "input_tokens": 45,
        "output_tokens": 5,
        "total_tokens": 50,
    }
    assert [c.response_metadata.get("model_name") for c in chunks].count("m") == 1
    assert chunks[-1].chunk_position == "last"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM_BYTES)), max_size=40))
def test_every_split_of_the_bytes_gives_the_same_chunks(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [
        STREAM_BYTES[a:b] for a, b in zip([0, *points], [*points, len(STREAM_BYTES)], strict=True)
    ]
    pieces = [p for p in pieces if p]
    expected = decode_stream([STREAM_BYTES])
    got = decode_stream(pieces)
    assert [(c.content, c.usage_metadata, c.response_metadata) for c in got] == [
        (c.content, c.usage_metadata, c.response_metadata) for c in expected
    ]


def test_stream_without_final_record_raises_with_partial_text() -> None:
    truncated = STREAM_BYTES[
        : STREAM_BYTES.index(b'data: {"generated_text": "", "details": null, "total')
    ]
    with pytest.raises(IncompleteStreamError) as info:
        decode_stream([truncated])
    assert info.value.partial_text == "印度 ok"


def test_stream_tool_call_fragments_become_tool_call_chunks() -> None:
    records = [
        {
            "generated_text": "",
            "finish_reason": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "w", "arguments": ""},
                }
            ],
        },
        {
            "generated_text": "",
            "finish_reason": None,
            "tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}],
        },
        {
            "generated_text": "",
            "finish_reason": None,
            "tool_calls": [{"index": 0, "function": {"arguments": 'ty": "台北"}'}}],
        },
        {
            "generated_text": "",
            "finish_reason": "tool_calls",
            "prompt_tokens": 3,
            "generated_tokens": 4,
            "total_tokens": 7,
        },
    ]
    chunks = decode_stream([b"".join(_event(r) for r in records)], tools_bound=True)
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.tool_calls == [
        {"name": "w", "args": {"city": "台北"}, "id": "call_1", "type": "tool_call"}
    ]


def test_stream_text_fallback_is_held_back_and_parsed() -> None:
    pieces = ["tool", "<func", 'tion=w>{"city": ', '"台北"}</function>']
    records = [{"generated_text": p, "finish_reason": None} for p in pieces]
    records.append({"generated_text": "", "finish_reason": "eos_token"})
    chunks = decode_stream([b"".join(_event(r) for r in records)], tools_bound=True)
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    assert merged.content == ""
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [("w", {"city": "台北"})]


def test_stream_plain_text_with_tools_is_not_delayed_to_the_end() -> None:
    records = [{"generated_text": p, "finish_reason": None} for p in ["Hello", " there"]]
    records.append({"generated_text": "", "finish_reason": "eos_token"})
    chunks = decode_stream([b"".join(_event(r) for r in records)], tools_bound=True)
    assert chunks[0].content == "Hello"


def test_stream_strips_echoed_stop_sequence() -> None:
    records = [{"generated_text": p, "finish_reason": None} for p in ["Hello", " yo", "u"]]
    records.append({"generated_text": "", "finish_reason": "stop_sequence"})
    chunks = decode_stream([b"".join(_event(r) for r in records)], stop=["you"])
    assert "".join(str(c.content) for c in chunks) == "Hello "


def test_model_name_alias_and_base_url_normalisation() -> None:
    from langchain_ffm_friendli import ChatFFM

    llm = ChatFFM(model_name="m", api_key="k", base_url="https://api-ams.twcc.ai/api/models/")  # type: ignore[call-arg]
    assert llm.model == "m"
    assert llm.base_url == "https://api-ams.twcc.ai/api"
    assert ChatFFM(model="m", max_new_tokens=7, stop_sequences=["x"]).max_tokens == 7  # type: ignore[call-arg]


# --------------------------------------------------------------------------- pure functions
# Rules cite sections of docs/protocols/ffm.md.


def _ffm_error(field: str, call: object, *args: object, **kwargs: object) -> InvalidParameterError:
    with pytest.raises(InvalidParameterError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert info.value.provider == "ffm"
    return info.value


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        # protocols/ffm.md §1.4 parameters table and §10.7: the documented ranges
        ("temperature", -1, ">= 0"),
        ("top_p", -0.5, "(0, 1]"),
        ("top_p", 1.0001, "(0, 1]"),
        ("top_k", 50.0, "integer in 1..100"),
        ("top_k", True, "integer in 1..100"),
        # protocols/ffm.md §1.4 / §10.1: frequence_penalty is multiplicative, > 0 (not OpenAI's
        # -2..2)
        ("frequence_penalty", -0.5, "> 0"),
        ("seed", 1.5, "integer >= 0"),
        ("seed", True, "integer >= 0"),
        ("max_tokens", -3, "positive integer"),
        ("max_tokens", 12.0, "positive integer"),
        ("max_tokens", False, "positive integer"),
    ],
)
def test_parameter_rules_quote_the_rule_and_the_value(field: str, value: object, rule: str) -> None:
    error = _ffm_error(field, proto.validate_parameters, {field: value})
    assert rule in str(error)
    assert repr(value) in str(error)


@pytest.mark.parametrize(
    "settings",
    [
        # protocols/ffm.md §1.4 boundaries: top_p 1.0 allowed, top_k 1 and 100, seed 0,
        # max_new_tokens 1
        {"top_p": 1.0, "top_k": 1, "seed": 0, "max_tokens": 1, "frequence_penalty": 0.01},
        {"top_k": 100, "temperature": 2.0},
        # protocols/ffm.md §1.4: at most 4 stop_sequences (empty strings are not sequences)
        {"stop": ["a", "b", "c", "d"]},
        {"stop": ["a", "b", "c", "d", "", ""]},
    ],
)
def test_documented_boundaries_pass(settings: dict) -> None:
    proto.validate_parameters(settings)


def test_stop_limit_error_counts_the_sequences() -> None:
    # protocols/ffm.md §1.4: stop_sequences has at most 4 entries
    error = _ffm_error("stop", proto.validate_parameters, {"stop": list("abcdef")})
    assert "at most 4" in str(error)
    assert "got 6" in str(error)


def _sent_parameters(**kwargs: object) -> object:
    model = ChatFFM(model="m", api_key="k")
    plan, _ = model._planned([HumanMessage("hi")], None, kwargs, stream=False)
    return plan.request.body.get("parameters", {})


def test_a_single_stop_string_is_sent_as_a_list() -> None:
    # protocols/ffm.md §1.4: stop_sequences is an array of strings
    assert _sent_parameters(stop="\n\n") == {"stop_sequences": ["\n\n"]}
    assert _sent_parameters(stop=["", "END"]) == {"stop_sequences": ["END"]}


@pytest.mark.parametrize(
    ("field", "value"),
    [("temperature", "0.5"), ("top_p", "1"), ("frequence_penalty", "1.1")],
)
def test_non_numeric_parameter_is_an_invalid_parameter(field: str, value: object) -> None:
    _ffm_error(field, proto.validate_parameters, {field: value})


def test_an_empty_stop_string_is_not_sent() -> None:
    assert _sent_parameters(stop="") == {}


def test_temperature_zero_keeps_the_other_parameters() -> None:
    # protocols/ffm.md §1.4: temperature 0 is invalid on FFM; 0.01 plus top_k=1 is the
    # greedy stand-in
    assert _sent_parameters(temperature=0, max_tokens=8, seed=3) == {
        "max_new_tokens": 8,
        "seed": 3,
        "temperature": 0.01,
        "top_k": 1,
    }


def test_tool_choice_with_several_tools_and_the_pass_through_values() -> None:
    # protocols/ffm.md §3.3: "auto", "none" or {"type": "function", ...}; "required" is undocumented
    assert proto.ffm_tool_choice("required", ["a", "b"]) == "required"
    assert proto.ffm_tool_choice("required", ["a"]) == {
        "type": "function",
        "function": {"name": "a"},
    }
    assert proto.ffm_tool_choice("auto", ["a"]) == "auto"
    assert proto.ffm_tool_choice(False, ["a"]) == "none"
    assert proto.ffm_tool_choice(None, ["a"]) is None


def test_payload_with_tools_and_tool_choice() -> None:
    # protocols/ffm.md §3.3: OpenAI-style tools + tool_choice at the top level; stream at the top
    # level (§1.2)
    tool = {"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}
    body = proto.conversation_payload(
        model="llama3.1-ffm-70b-32k-chat",
        messages=[{"role": "user", "content": "台北天氣?"}],
        parameters={},
        stream=False,
        tools=[tool],
        tool_choice="auto",
    )
    assert body == {
        "model": "llama3.1-ffm-70b-32k-chat",
        "messages": [{"role": "user", "content": "台北天氣?"}],
        "tools": [tool],
        "tool_choice": "auto",
        "stream": False,
    }


def test_payload_omits_empty_parameters_and_tool_choice_without_tools() -> None:
    # protocols/ffm.md §7: build the body with only non-None parameters
    body = proto.conversation_payload(
        model="m",
        messages=[],
        parameters={},
        stream=True,
        tools=[],
        tool_choice="auto",
        extra={"parameters": "not a mapping"},
    )
    assert body == {"model": "m", "messages": [], "stream": True}


def test_payload_tool_without_type_is_refused() -> None:
    # protocols/ffm.md §3.3: each tool's type is required and only "function" is supported
    error = _ffm_error(
        "tools",
        proto.conversation_payload,
        model="m",
        messages=[],
        parameters={},
        stream=False,
        tools=[{"type": "function", "function": {"name": "ok"}}, {"function": {"name": "x"}}],
    )
    assert "only function tools" in str(error)
    assert "None" in str(error)


def test_text_or_missing_response_format_leaves_messages_alone() -> None:
    messages = [{"role": "user", "content": "x"}]
    assert proto.inject_response_format(messages, None) is messages
    assert proto.inject_response_format(messages, {}) is messages
    assert proto.inject_response_format(messages, {"type": "text"}) is messages


@pytest.mark.parametrize("kind", ["regex", "xml", None])
def test_unsupported_response_format_names_the_field(kind: object) -> None:
    # protocols/ffm.md §1.2: the Conversation API has no JSON mode / grammar field at all
    error = _ffm_error(
        "response_format",
        proto.inject_response_format,
        [{"role": "user", "content": "x"}],
        {"type": kind, "schema": "[0-9]+"},
    )
    assert repr(kind) in str(error)
    assert "json_object or json_schema" in str(error)


def test_function_text_calls_are_pulled_out_with_the_surrounding_text_kept() -> None:
    # protocols/ffm.md §3.4: the Llama 3.1 <function=NAME>{args}</function> text fallback
    rest, calls = proto.parse_function_text(
        'Checking. <function=get_weather>{"city": "台北"}</function>'
        "<function=get_time> {} </function>"
    )
    assert rest == "Checking."
    assert [c["function"] for c in calls] == [
        {"name": "get_weather", "arguments": '{"city": "台北"}'},
        {"name": "get_time", "arguments": "{}"},
    ]
    assert all(c["type"] == "function" for c in calls)
    ids = [c["id"] for c in calls]
    assert all(ids)
    assert len(set(ids)) == 2


def test_text_without_a_function_tag_is_returned_verbatim() -> None:
    text = "  plain answer mentioning <function but no tag  "
    assert proto.parse_function_text(text) == (text, [])


def test_only_a_lone_tool_marker_is_dropped() -> None:
    # protocols/ffm.md §3.4: the call is "sometimes prefixed with tool"
    assert proto.parse_function_text("tool <function=f>{}</function>")[0] == ""
    assert proto.parse_function_text("toolbox <function=f>{}</function>")[0] == "toolbox"


@pytest.mark.parametrize(
    ("text", "stop", "expected"),
    [
        ("Hello END", ["END"], "Hello "),
        ("Hello END", ["nope", "END"], "Hello "),
        ("END in the middle", ["END"], "END in the middle"),
        ("Hello", None, "Hello"),
        ("Hello", ["", "lo"], "Hel"),
        ("Hello", [""], "Hello"),
    ],
)
def test_strip_trailing_stop(text: str, stop: list[str] | None, expected: str) -> None:
    # protocols/ffm.md §11 open question: the matched stop text may be echoed; LangChain excludes it
    assert proto.strip_trailing_stop(text, stop) == expected


def test_legacy_function_call_becomes_a_tool_call() -> None:
    # protocols/ffm.md §3.5: legacy models answer with function_call {name, arguments}
    message = proto.parse_conversation(
        {
            "generated_text": None,
            "function_call": {"name": "lookup", "arguments": '{"q": "玉山"}'},
            "finish_reason": "function_call",
        },
        model="ffm-mixtral-8x7b-32k-instruct",
        tools_bound=True,
        stop=["END"],
    )
    assert message.content == ""
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("lookup", {"q": "玉山"})]
    assert message.tool_calls[0]["id"]
    assert message.usage_metadata is None
    assert message.response_metadata == {
        "model_name": "ffm-mixtral-8x7b-32k-instruct",
        "model_provider": "ffm",
        "finish_reason": "function_call",
    }


@pytest.mark.parametrize("function_call", [None, {"arguments": "{}"}, {"name": ""}, "lookup"])
def test_a_nameless_legacy_function_call_is_not_a_call(function_call: object) -> None:
    payload = {"generated_text": "text", "function_call": function_call, "finish_reason": "x"}
    message = proto.parse_conversation(payload, model="m", tools_bound=True, stop=None)
    assert message.tool_calls == []
    assert message.content == "text"
    with pytest.raises(IncompleteStreamError):
        proto.parse_conversation(
            {**payload, "generated_text": None}, model="m", tools_bound=True, stop=None
        )


def test_stop_is_not_stripped_from_a_tool_call_reply_and_model_comes_from_the_body() -> None:
    message = proto.parse_conversation(
        {
            "model": "llama3.3-ffm-70b-32k-chat",
            "generated_text": "calling END",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f"}}],
            "details": {"tokens": []},
            "generated_tokens": 4,
        },
        model="alias",
        tools_bound=True,
        stop=["END"],
    )
    assert message.content == "calling END"
    assert message.response_metadata["model_name"] == "llama3.3-ffm-70b-32k-chat"
    assert message.response_metadata["details"] == {"tokens": []}
    # protocols/ffm.md §1.5: generated_tokens is the output count; a missing prompt count is 0
    assert message.usage_metadata == {"input_tokens": 0, "output_tokens": 4, "total_tokens": 4}


def test_missing_generated_text_error_carries_the_body() -> None:
    # protocols/ffm.md §1.7: a 200 body without generated_text is a format error
    payload = {"detail": "模型忙碌", "finish_reason": None}
    with pytest.raises(IncompleteStreamError) as info:
        proto.parse_conversation(payload, model="m", tools_bound=False, stop=None)
    assert info.value.provider == "ffm"
    assert info.value.raw_record is not None
    assert json.loads(info.value.raw_record) == payload
    assert "模型忙碌" in str(info.value)


# --------------------------------------------------------------------------- generate


def test_generate_payload_sends_the_raw_prompt_as_inputs() -> None:
    # protocols/ffm.md §2: {"model", "inputs": "<prompt string>", "parameters": {...}}
    body = proto.generate_payload(
        model="llama3-ffm-8b-chat",
        prompt="台灣最高的山是",
        parameters={"max_new_tokens": 64, "stop_sequences": ["\n\n"]},
        stream=False,
        extra={"parameters": {"show_probabilities": True}, "custom": "x"},
    )
    assert body == {
        "model": "llama3-ffm-8b-chat",
        "inputs": "台灣最高的山是",
        "parameters": {
            "max_new_tokens": 64,
            "stop_sequences": ["\n\n"],
            "show_probabilities": True,
        },
        "custom": "x",
        "stream": False,
    }


def test_generate_payload_omits_empty_parameters_and_stream_wins_over_extra() -> None:
    body = proto.generate_payload(
        model="m", prompt="p", parameters={}, stream=True, extra={"stream": False}
    )
    assert body == {"model": "m", "inputs": "p", "stream": True}
    assert proto.generate_payload(model="m", prompt="", parameters={}, stream=False) == {
        "model": "m",
        "inputs": "",
        "stream": False,
    }


def test_parse_generate_strips_the_echoed_stop_and_reports_counts() -> None:
    # protocols/ffm.md §2 response: the flat object of §1.5
    text, info, usage = proto.parse_generate(
        {
            "generated_text": "玉山,海拔3952公尺。\n\n",
            "total_time_taken": "0.52 sec",
            "generated_tokens": 12,
            "prompt_tokens": 6,
            "total_tokens": 18,
            "finish_reason": "stop_sequence",
            "details": None,
        },
        ["\n\n"],
    )
    assert text == "玉山,海拔3952公尺。"
    assert info == {
        "finish_reason": "stop_sequence",
        "prompt_tokens": 6,
        "generated_tokens": 12,
        "total_tokens": 18,
    }
    assert usage == {"input_tokens": 6, "output_tokens": 12, "total_tokens": 18}


def test_parse_generate_of_the_old_afs_cloud_body() -> None:
    # protocols/ffm.md §1.5: the older Generate API returns only generated_text, total_time_taken,
    # generated_tokens
    text, info, usage = proto.parse_generate(
        {"generated_text": "Yushan", "total_time_taken": "2.46 sec", "generated_tokens": 3}, None
    )
    assert text == "Yushan"
    assert info == {"finish_reason": None, "generated_tokens": 3}
    assert usage == {"input_tokens": 0, "output_tokens": 3, "total_tokens": 3}


@pytest.mark.parametrize("payload", [{}, {"generated_text": None}, {"generated_text": ["a"]}])
def test_parse_generate_without_text_is_a_format_error(payload: dict) -> None:
    with pytest.raises(IncompleteStreamError) as info:
        proto.parse_generate(payload, None)
    assert info.value.provider == "ffm"
    assert "no generated_text" in str(info.value)


# --------------------------------------------------------------------------- embeddings


@pytest.mark.parametrize(
    ("model", "limits"),
    [
        # protocols/ffm.md §4 limits table: (sequence length, batch limit) in tokens
        ("ffm-embedding", (2048, 2048)),
        ("ffm-embedding-v2", (131072, 131072)),
        ("ffm-embedding-v2.1", (131072, 131072)),
        # unknown models get the smallest documented limits
        ("ffm-embedding-v3", (2048, 2048)),
    ],
)
def test_embedding_limits(model: str, limits: tuple[int, int]) -> None:
    assert proto.embedding_limits(model) == limits


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 1),
        ("a", 1),
        ("hello", 2),  # 5 letters -> ceil(5 / 4)
        ("hello world", 4),
        ("台北", 3),  # 1.5 per CJK character
        ("台", 2),  # rounded up
        ("2024!", 5),  # each digit and punctuation mark counts 1
        ("  \n\t ", 1),
        ("東京タワー is 333m", 13),  # 5 CJK (7.5) + "is" (1) + 3 digits + "m" (1), rounded up
    ],
)
def test_estimate_tokens(text: str, tokens: int) -> None:
    assert proto.estimate_tokens(text) == tokens


def test_estimate_tokens_errs_high_for_longer_text() -> None:
    # protocols/ffm.md §4: batch by estimated tokens; one word per 4 letters is at least what BPE
    # needs
    assert proto.estimate_tokens("internationalization") == 5
    assert proto.estimate_tokens("a b c d") == 4


def test_truncate_to_tokens_keeps_the_longest_prefix_that_fits() -> None:
    text = "hello world again"  # 2 + 2 + 2 tokens
    assert proto.truncate_to_tokens(text, 6) == text
    assert proto.truncate_to_tokens(text, 100) == text
    cut = proto.truncate_to_tokens(text, 4)
    assert text.startswith(cut)
    assert proto.estimate_tokens(cut) <= 4
    assert proto.estimate_tokens(text[: len(cut) + 1]) > 4
    assert cut == "hello world "
    assert proto.truncate_to_tokens("台北市", 3) == "台北"
    assert proto.truncate_to_tokens("台北市", 0) == ""


@pytest.mark.parametrize(
    ("counts", "budget", "batches"),
    [
        # protocols/ffm.md §4: the batch limit is tokens across the whole request, in input order
        ([5, 5, 5], 10, [range(2), range(2, 3)]),
        ([5, 5, 5], 15, [range(3)]),
        ([10, 10], 10, [range(1), range(1, 2)]),
        # a text over budget still gets a request of its own (the server decides)
        ([3, 20, 3], 10, [range(1), range(1, 2), range(2, 3)]),
        ([20], 10, [range(1)]),
        ([], 10, []),
    ],
)
def test_plan_batches(counts: list[int], budget: int, batches: list[range]) -> None:
    assert proto.plan_batches(counts, budget) == batches


def test_embeddings_payload_uses_inputs_as_a_list() -> None:
    # protocols/ffm.md §4: body key is "inputs" (plural) and takes a list
    assert proto.embeddings_payload("ffm-embedding", ("一", "two")) == {
        "model": "ffm-embedding",
        "inputs": ["一", "two"],
    }


def test_parse_embeddings_orders_by_index() -> None:
    # protocols/ffm.md §4: items carry index; sort by it rather than assuming order
    payload = {
        "data": [
            {"embedding": [0.5, -1], "index": 1, "object": "embedding"},
            {"embedding": [1, 2.5], "index": 0, "object": "embedding"},
        ],
        "total_time_taken": "0.06 sec",
        "usage": {"prompt_tokens": 6, "total_tokens": 6},
    }
    vectors = proto.parse_embeddings(payload, 2)
    assert vectors == [[1.0, 2.5], [0.5, -1.0]]
    assert all(isinstance(v, float) for vector in vectors for v in vector)
    # without index, position is the order
    assert proto.parse_embeddings({"data": [{"embedding": [1]}, {"embedding": [2]}]}, 2) == [
        [1.0],
        [2.0],
    ]


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"data": [{"embedding": [1.0], "index": 0}]}, "1 vectors for 2 inputs"),
        ({}, "0 vectors for 2 inputs"),
        ({"data": {"embedding": [1.0]}}, "0 vectors for 2 inputs"),
        ({"data": [{"embedding": [1.0]}, [0.5]]}, "data[1] is not an object"),
        (
            {"data": [{"embedding": [1.0], "index": 1}, {"embedding": [2.0], "index": 2}]},
            "not in 0..1",
        ),
        ({"data": [{"embedding": [1.0], "index": -1}, {"embedding": [2.0]}]}, "not in 0..1"),
        ({"data": [{"embedding": [1.0], "index": "0"}, {"embedding": [2.0]}]}, "not in 0..1"),
        ({"data": [{"embedding": [1.0], "index": True}, {"embedding": [2.0]}]}, "not in 0..1"),
        ({"data": [{"embedding": [1.0], "index": 0}, {"embedding": [2.0], "index": 0}]}, "twice"),
        ({"data": [{"embedding": [1.0]}, {"embedding": "0.1,0.2"}]}, "data[1].embedding"),
        ({"data": [{"embedding": [1.0]}, {}]}, "data[1].embedding"),
        ({"data": [{"embedding": [1.0, "2"]}, {"embedding": [2.0]}]}, "data[0].embedding"),
        ({"data": [{"embedding": [True]}, {"embedding": [2.0]}]}, "data[0].embedding"),
    ],
)
def test_misaligned_embeddings_are_typed_errors(payload: dict, problem: str) -> None:
    from langchain_ffm_friendli.errors import MalformedRecordError

    with pytest.raises(MalformedRecordError) as info:
        proto.parse_embeddings(payload, 2)
    assert problem in str(info.value)
    assert info.value.provider == "ffm"
    assert info.value.raw_record == json.dumps(payload, ensure_ascii=False)


def test_payload_with_tools_but_no_tool_choice_leaves_it_to_the_server() -> None:
    # protocols/ffm.md §3.3: with tools and no tool_choice FFM defaults to "auto"; nothing is sent
    tool = {"type": "function", "function": {"name": "w"}}
    body = proto.conversation_payload(
        model="m", messages=[], parameters={"top_k": 1}, stream=False, tools=(tool,)
    )
    assert body == {
        "model": "m",
        "messages": [],
        "parameters": {"top_k": 1},
        "tools": [tool],
        "stream": False,
    }

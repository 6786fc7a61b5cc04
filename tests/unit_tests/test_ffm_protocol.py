"""FFM wire rules as plain data: payloads, validation, parsing, stream decoding."""

import json
from collections.abc import Iterable
from typing import cast

import httpx
import pytest
from httpx_sse import EventSource
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessageChunk

from langchain_ffm_friendli._deltas import chat_chunk
from langchain_ffm_friendli._streaming import drive
from langchain_ffm_friendli._wire import SSEFraming
from langchain_ffm_friendli.errors import IncompleteStreamError, InvalidParameterError
from langchain_ffm_friendli.ffm import _protocol as proto


def test_parameters_use_ffm_names_and_omit_unset() -> None:
    params = proto.build_parameters(
        {
            "max_tokens": 64,
            "temperature": 0.5,
            "top_k": 50,
            "top_p": 1.0,
            "frequence_penalty": 1.05,
            "stop": ["\n\n"],
            "seed": 7,
        }
    )
    assert params == {
        "max_new_tokens": 64,
        "temperature": 0.5,
        "top_k": 50,
        "top_p": 1.0,
        "frequence_penalty": 1.05,
        "stop_sequences": ["\n\n"],
        "seed": 7,
    }
    assert proto.build_parameters({"temperature": None, "stop": []}) == {}


def test_temperature_zero_becomes_greedy_equivalent() -> None:
    assert proto.build_parameters({"temperature": 0}) == {"temperature": 0.01, "top_k": 1}
    # an explicit top_k is the user's choice and is kept
    assert proto.build_parameters({"temperature": 0, "top_k": 5}) == {
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
        proto.build_parameters({field: value})
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
    """The real decode path: httpx response -> httpx-sse -> SSEFraming -> FFMStream."""
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
    )
    decoder = proto.FFMStream(model="m", **kw)  # type: ignore[arg-type]
    events = EventSource(response).iter_sse()
    chunks = drive(events, SSEFraming("ffm"), decoder, None, chat_chunk)
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

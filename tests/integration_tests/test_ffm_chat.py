"""ChatFFM's requests and answers, asserted on the wire through the emulator's log."""

import json

import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from pydantic import BaseModel, Field

from langchain_ffm_friendli import ChatFFM
from langchain_ffm_friendli.testing import Emulator, Reply, ToolCall

MODEL = "llama3.3-ffm-70b-32k-chat"


@tool
def get_weather(city: str) -> str:
    """Get the current weather of a city."""
    return f"{city}: sunny"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def chat(emu: Emulator, **kw: object) -> ChatFFM:
    return ChatFFM(model=MODEL, base_url=emu.ffm_base_url, api_key=emu.api_key, **kw)  # type: ignore[arg-type]


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    return total


def test_every_parameter_is_sent_under_ffm_names_with_ffm_headers(emu: Emulator) -> None:
    llm = chat(
        emu,
        temperature=0.5,
        max_tokens=64,
        top_p=0.9,
        top_k=40,
        frequence_penalty=1.1,
        seed=42,
        stop=["\n\n"],
        default_headers={"X-Trace": "t1"},
        model_kwargs={"parameters": {"show_probabilities": True}},
    )
    llm.invoke([SystemMessage("你是一個有幫助的助理"), HumanMessage("人口最多的國家是?")])
    request = emu.requests[-1]
    assert request.path == "/ffm/api/models/conversation"
    assert request.json == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "你是一個有幫助的助理"},
            {"role": "user", "content": "人口最多的國家是?"},
        ],
        "parameters": {
            "max_new_tokens": 64,
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 40,
            "frequence_penalty": 1.1,
            "stop_sequences": ["\n\n"],
            "seed": 42,
            "show_probabilities": True,
        },
        "stream": False,
    }
    assert request.headers["x-api-key"] == emu.api_key
    assert request.headers["x-api-host"] == "afs-inference"
    assert request.headers["x-trace"] == "t1"
    assert "authorization" not in request.headers  # the key goes in one header only
    assert "人口最多的國家是" in request.body.decode("utf-8")  # UTF-8, not \\u escapes


def test_per_call_overrides_and_unset_values_are_omitted(emu: Emulator) -> None:
    llm = chat(emu, api_host=None)
    llm.invoke("hi", temperature=0.2, max_tokens=5, model="llama3.1-ffm-8b-32k-chat")
    request = emu.requests[-1]
    assert request.json["parameters"] == {"temperature": 0.2, "max_new_tokens": 5}
    assert request.json["model"] == "llama3.1-ffm-8b-32k-chat"
    assert "x-api-host" not in request.headers
    llm.invoke("hi")
    assert "parameters" not in emu.requests[-1].json  # nothing unset is sent


def test_temperature_zero_is_sent_as_greedy(emu: Emulator) -> None:
    chat(emu, temperature=0).invoke("hi")
    assert emu.requests[-1].json["parameters"] == {"temperature": 0.01, "top_k": 1}


def test_stop_sequence_is_honoured_and_not_echoed(emu: Emulator) -> None:
    llm = chat(emu)
    message = llm.invoke("hi", stop=["emulator"])
    assert message.content == "Hello! This is the FFM "
    assert message.response_metadata["finish_reason"] == "stop_sequence"
    streamed = "".join(str(c.content) for c in llm.stream("hi", stop=["emulator"]))
    assert streamed == "Hello! This is the FFM "


def test_max_tokens_reports_length(emu: Emulator) -> None:
    message = chat(emu, max_tokens=3).invoke("hi")
    assert message.response_metadata["finish_reason"] == "length"
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] == 3


def test_stream_usage_and_metadata_on_exactly_one_chunk(emu: Emulator) -> None:
    chunks = list(chat(emu).stream("人口最多的國家是?"))
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert sum(1 for c in chunks if c.response_metadata.get("model_name")) == 1
    total = merge(chunks)
    assert total.response_metadata["model_name"] == MODEL
    assert total.response_metadata["finish_reason"] == "stop_sequence"
    assert total.response_metadata["model_provider"] == "ffm"
    assert total.content == "Hello! This is the FFM emulator. You said: 人口最多的國家是?"


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        (None, None),
        ("auto", "auto"),
        ("none", "none"),
        ("any", {"type": "function", "function": {"name": "get_weather"}}),
        (True, {"type": "function", "function": {"name": "get_weather"}}),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_on_the_wire(emu: Emulator, choice: object, wire: object) -> None:
    chat(emu).bind_tools([get_weather], tool_choice=choice).invoke("weather in Taipei?")  # type: ignore[arg-type]
    body = emu.requests[-1].json
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body.get("tool_choice") == wire


def test_any_with_several_tools_is_required(emu: Emulator) -> None:
    chat(emu).bind_tools([get_weather, add], tool_choice="any").invoke("weather in Taipei?")
    assert emu.requests[-1].json["tool_choice"] == "required"


def test_unknown_tool_choice_fails_when_binding() -> None:
    llm = ChatFFM(model=MODEL, api_key="k")
    with pytest.raises(ValueError, match="tool_choice"):
        llm.bind_tools([get_weather], tool_choice="get_wether")


def test_tool_round_trip_sends_tool_role_and_null_assistant_content(emu: Emulator) -> None:
    llm = chat(emu).bind_tools([get_weather])
    question = HumanMessage("What is the weather in 台北?")
    ai = llm.invoke([question])
    assert isinstance(ai, AIMessage)
    assert [c["name"] for c in ai.tool_calls] == ["get_weather"]
    result = get_weather.invoke(ai.tool_calls[0])
    final = llm.invoke([question, ai, result])
    assert "sunny" in str(final.content)
    sent = emu.requests[-1].json["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": ai.tool_calls[0]["id"],
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "arguments": json.dumps(ai.tool_calls[0]["args"], ensure_ascii=False),
                },
            }
        ],
    }
    assert sent[2]["role"] == "tool"
    assert sent[2]["tool_call_id"] == ai.tool_calls[0]["id"]
    assert sent[2]["content"] == result.content


@pytest.mark.parametrize("style", ["native", "text", "no_id"])
def test_every_tool_call_style_parses_in_invoke_and_stream(emu: Emulator, style: str) -> None:
    reply = Reply(tool_calls=[ToolCall("get_weather", {"city": "台北"})], tool_call_style=style)  # type: ignore[arg-type]
    emu.queue(reply, reply)
    llm = chat(emu).bind_tools([get_weather])
    invoked = llm.invoke("weather?")
    streamed = merge(list(llm.stream("weather?")))
    for message in (invoked, streamed):
        assert isinstance(message, AIMessage)
        assert [(c["name"], c["args"]) for c in message.tool_calls] == [
            ("get_weather", {"city": "台北"})
        ]
        assert message.tool_calls[0]["id"]
        assert message.content == ""


def test_parallel_tool_calls(emu: Emulator) -> None:
    reply = Reply(
        tool_calls=[ToolCall("get_weather", {"city": "台北"}), ToolCall("add", {"a": 1, "b": 2})]
    )
    emu.queue(reply, reply)
    llm = chat(emu).bind_tools([get_weather, add])
    for message in (llm.invoke("x"), merge(list(llm.stream("x")))):
        assert [c["name"] for c in message.tool_calls] == ["get_weather", "add"]  # type: ignore[union-attr]
        assert len({c["id"] for c in message.tool_calls}) == 2  # type: ignore[union-attr]


def test_invalid_argument_json_goes_to_invalid_tool_calls(emu: Emulator) -> None:
    emu.queue(Reply(tool_calls=[ToolCall("get_weather", '{"city": "台')]))
    llm = chat(emu).bind_tools([get_weather])
    message = llm.invoke("x")
    assert message.tool_calls == []
    assert message.invalid_tool_calls[0]["args"] == '{"city": "台'
    # Streaming: LangChain core repairs truncated JSON when merging chunks, so only
    # arguments that are not JSON at all end up invalid there; still no exception.
    emu.queue(Reply(tool_calls=[ToolCall("get_weather", "city=台北")]))
    streamed = merge(list(llm.stream("x")))
    assert streamed.tool_calls == []
    assert streamed.invalid_tool_calls[0]["args"] == "city=台北"


class Country(BaseModel):
    """A country and its main religion."""

    name: str = Field(description="country name")
    population_millions: int = Field(description="population in millions")


class Religion(BaseModel):
    """The main religion of a country."""

    country: str
    religion: str


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_structured_output_methods(emu: Emulator, method: str) -> None:
    # json_mode carries no schema, so the prompt names the keys (as users must)
    schema = Religion if method == "json_mode" else Country
    prompt = "Tell me about India (population 1428 million) as JSON with 'country' and 'religion'."
    structured = chat(emu).with_structured_output(schema, method=method)  # type: ignore[arg-type]
    result = structured.invoke(prompt)
    assert isinstance(result, schema)
    if isinstance(result, Country):
        assert result.population_millions == 1428
    body = emu.requests[-1].json
    if method == "function_calling":
        assert body["tool_choice"] == {"type": "function", "function": {"name": "Country"}}
    else:
        assert "tools" not in body
        assert "JSON" in body["messages"][0]["content"]
        assert body["messages"][0]["role"] == "system"
        if method == "json_schema":
            assert '"population_millions"' in body["messages"][0]["content"]


def test_structured_output_include_raw_keeps_parsing_errors(emu: Emulator) -> None:
    emu.queue(Reply(text="not json at all"))
    structured = chat(emu).with_structured_output(Country, method="json_mode", include_raw=True)
    out = structured.invoke("x")
    assert out["parsed"] is None
    assert isinstance(out["parsing_error"], OutputParserException)
    assert out["raw"].content == "not json at all"


def test_tool_message_with_list_content_and_error_status(emu: Emulator) -> None:
    ai = AIMessage(
        content="",
        tool_calls=[{"name": "add", "args": {"a": 1, "b": 2}, "id": "c1", "type": "tool_call"}],
    )
    tm = ToolMessage(content=[{"type": "text", "text": "boom"}], tool_call_id="c1", status="error")
    chat(emu).bind_tools([add]).invoke([HumanMessage("1+2?"), ai, tm])
    assert emu.requests[-1].json["messages"][2] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "boom",
    }

"""The agent matrix: LangChain agents and LangGraph graphs on every chat model, end to end.

Each test runs against the emulator for ChatFFM, ChatFriendli and ChatMonsterAPI with the
newest ``langchain`` / ``langgraph`` in the environment: ``create_agent`` with a
structured response (ToolStrategy, because the profiles say ``structured_output=False``),
``SummarizationMiddleware`` with a fractional trigger, a ``StateGraph`` with ``ToolNode``,
``tools_condition`` and a checkpointer, the ``messages`` / ``updates`` stream modes, and
``astream_events`` v2 / ``stream_events`` v3.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import SummarizationMiddleware
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from pydantic import BaseModel

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from langchain_ffm_friendli.testing import Emulator, RecordedRequest

PROVIDERS = ["ffm", "friendli", "monsterapi"]
MODELS = {
    "ffm": "llama3.3-ffm-70b-32k-chat",
    "friendli": "meta-llama-3.1-8b-instruct",
    "monsterapi": "meta-llama/Meta-Llama-3.1-8B-Instruct",
}
QUESTION = "What is the weather in 'Taipei'?"


def chat(emu: Emulator, provider: str) -> Any:
    """The provider's chat model with its documented model id, pointed at the emulator."""
    key, model = emu.api_key, MODELS[provider]
    if provider == "ffm":
        return ChatFFM(model=model, base_url=emu.ffm_base_url, api_key=key)
    if provider == "friendli":
        return ChatFriendli(model=model, base_url=emu.friendli_base_url, api_key=key)
    return ChatMonsterAPI(model=model, base_url=emu.monsterapi_base_url, api_key=key)


@tool
def get_weather(city: str) -> str:
    """Get the current weather of a city."""
    return f"{city}: sunny, 25 degrees"


class WeatherReport(BaseModel):
    """The final answer about the weather."""

    city: str
    conditions: str


def chat_requests(emu: Emulator) -> list[RecordedRequest]:
    """The generating requests the emulator received (chat and conversation routes)."""
    return [r for r in emu.requests if isinstance(r.json, dict) and "messages" in r.json]


def wire_text(request: RecordedRequest) -> str:
    """The request's messages as JSON text, for 'does it carry X' checks."""
    return json.dumps(request.json["messages"], ensure_ascii=False)


def tool_names(request: RecordedRequest) -> list[str]:
    return [t["function"]["name"] for t in request.json.get("tools") or []]


# ---------------------------------------------------------------------- create_agent


@pytest.mark.parametrize("provider", PROVIDERS)
def test_create_agent_structured_response_uses_the_tool_strategy(
    emu: Emulator, provider: str
) -> None:
    model = chat(emu, provider)
    assert model.profile["structured_output"] is False
    agent = create_agent(model, tools=[get_weather], response_format=WeatherReport)
    result = agent.invoke({"messages": [("user", QUESTION)]})

    report = result["structured_response"]
    assert isinstance(report, WeatherReport)
    assert report.city == "Taipei"
    assert next(m.name for m in result["messages"] if m.type == "tool") == "get_weather"
    sent = chat_requests(emu)
    assert sent
    for request in sent:
        # ToolStrategy: the schema travels as one more tool, never as response_format.
        assert "response_format" not in request.json
        assert tool_names(request) == ["get_weather", "WeatherReport"]


# ----------------------------------------------------------- SummarizationMiddleware


def long_history(threshold: int) -> list[BaseMessage]:
    """Traditional Chinese turns worth more than ``threshold`` tokens, then the question."""
    turn = "今天台北的天氣很好我們去公園散步" * 60  # 960 CJK characters, about 960 tokens
    history: list[BaseMessage] = []
    for index in range(threshold // 900 + 2):
        history.append(HumanMessage(turn) if index % 2 == 0 else AIMessage(turn))
    return [*history, HumanMessage(QUESTION)]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_summarization_middleware_with_a_fraction_trigger(emu: Emulator, provider: str) -> None:
    model = chat(emu, provider)
    threshold = int(model.profile["max_input_tokens"] * 0.8)
    history = long_history(threshold)
    assert model.get_num_tokens_from_messages(history) > threshold

    # The default counter (4 characters per token) under-counts CJK about 4x: no summary.
    default = SummarizationMiddleware(model=model, trigger=("fraction", 0.8), keep=("messages", 1))
    assert default.token_counter(history) < threshold

    middleware = SummarizationMiddleware(
        model=model,
        trigger=("fraction", 0.8),
        keep=("messages", 1),
        token_counter=model.get_num_tokens_from_messages,
    )
    agent = create_agent(model, tools=[get_weather], middleware=[middleware])
    result = agent.invoke({"messages": history})

    messages = result["messages"]
    assert messages[0].content.startswith("Here is a summary of the conversation to date:")
    assert messages[1].content == QUESTION
    assert [m.name for m in messages if m.type == "tool"] == ["get_weather"]
    assert len(messages) < len(history)
    sent = chat_requests(emu)
    summary_request, *agent_requests = sent
    assert "get_weather" not in tool_names(summary_request)  # the summary call has no tools
    for request in agent_requests:  # the agent only ever sent the summary and the question
        assert "Here is a summary" in wire_text(request)
        assert "公園散步" * 60 not in wire_text(request)


# ------------------------------------------------------------------ LangGraph graph


def weather_graph(model: Any) -> Any:
    """agent -> (tools -> agent)* with an in-memory checkpointer."""
    bound = model.bind_tools([get_weather])

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bound.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node("tools", ToolNode([get_weather]))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_state_graph_with_tool_node_remembers_the_thread(emu: Emulator, provider: str) -> None:
    graph = weather_graph(chat(emu, provider))
    config = {"configurable": {"thread_id": f"thread-{provider}"}}

    first = graph.invoke({"messages": [("user", QUESTION)]}, config)
    assert [m.type for m in first["messages"]] == ["human", "ai", "tool", "ai"]
    assert first["messages"][1].tool_calls[0]["args"] == {"city": "Taipei"}
    assert "sunny" in first["messages"][-1].text

    second = graph.invoke({"messages": [("user", "Thank you, that is all.")]}, config)
    assert len(second["messages"]) == 6
    last = wire_text(chat_requests(emu)[-1])
    # The second turn's request carries the first turn: question, tool call and result.
    assert "Taipei" in last
    assert "sunny, 25 degrees" in last
    assert "Thank you, that is all." in last
    other = {"configurable": {"thread_id": "another-thread"}}
    graph.invoke({"messages": [("user", "Thank you, that is all.")]}, other)
    assert "Taipei" not in wire_text(chat_requests(emu)[-1])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_graph_stream_modes_messages_and_updates(emu: Emulator, provider: str) -> None:
    graph = weather_graph(chat(emu, provider))
    config = {"configurable": {"thread_id": "streams"}}

    pieces = list(graph.stream({"messages": [("user", QUESTION)]}, config, stream_mode="messages"))
    chunks = [chunk for chunk, _ in pieces if isinstance(chunk, AIMessageChunk)]
    assert chunks
    assert {meta["langgraph_node"] for chunk, meta in pieces if chunk in chunks} == {"agent"}
    text = "".join(chunk.text for chunk in chunks)
    assert "sunny" in text
    assert any(chunk.tool_call_chunks for chunk in chunks)

    updates = list(graph.stream({"messages": [("user", QUESTION)]}, config, stream_mode="updates"))
    nodes = [next(iter(update)) for update in updates]
    assert nodes == ["agent", "tools", "agent"]
    assert updates[1]["tools"]["messages"][0].name == "get_weather"
    assert isinstance(updates[-1]["agent"]["messages"][0], AIMessage)


# ------------------------------------------------------------------ stream events


@pytest.mark.parametrize("provider", PROVIDERS)
def test_astream_events_v2_yields_chat_model_stream_events(emu: Emulator, provider: str) -> None:
    model = chat(emu, provider)

    async def collect() -> list[dict[str, Any]]:
        return [event async for event in model.astream_events("Say hello", version="v2")]

    events = asyncio.run(collect())
    kinds = [event["event"] for event in events]
    assert kinds[0] == "on_chat_model_start"
    assert kinds[-1] == "on_chat_model_end"
    streamed = [e["data"]["chunk"] for e in events if e["event"] == "on_chat_model_stream"]
    assert streamed
    assert all(isinstance(chunk, AIMessageChunk) for chunk in streamed)
    assert "".join(chunk.text for chunk in streamed) == events[-1]["data"]["output"].text != ""


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stream_events_v3_protocol(emu: Emulator, provider: str) -> None:
    # langchain-core 1.8 has the (beta) v3 protocol: a ChatModelStream with projections.
    model = chat(emu, provider)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangChainBetaWarning
        stream = model.stream_events("Say hello", version="v3")
        deltas = list(stream.text)
        output = stream.output
    assert deltas
    assert "".join(deltas) == output.text != ""
    assert isinstance(output, AIMessage)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calls = model.bind_tools([get_weather]).stream_events(QUESTION, version="v3")
        message = calls.output
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Taipei"})
    ]

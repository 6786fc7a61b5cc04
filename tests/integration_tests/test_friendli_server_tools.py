"""Friendli built-in tools as LangChain sees them, over loopback against the emulator.

The tool-assisted route runs ``math:calculator`` (and the other built-ins) itself and
streams ``tool_status`` records (protocols/friendli.md §3.3). Here they become standard
``server_tool_call`` / ``server_tool_result`` content blocks (invoke, stream,
``output_version="v1"``, ``stream_events(version="v3")``), stay in
``additional_kwargs["tool_status"]``, and reach a LangGraph node's custom stream.
Registering the "friendli" block translator must not change anything else:
reasoning stays a reasoning block, FFM and MonsterAPI messages parse as before.
"""

import json
import operator
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, HumanMessage
from langchain_core.messages.block_translators import get_translator

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from langchain_ffm_friendli.testing import Emulator, Reply

MODEL = "meta-llama-3.1-8b-instruct"
QUESTION = "What is 3 + 6?"
CALCULATOR = {"type": "math:calculator"}


def make(emu: Emulator, **kw: Any) -> ChatFriendli:
    llm = ChatFriendli(model=MODEL, base_url=emu.friendli_base_url, api_key=emu.api_key, **kw)
    llm.transport.sleep = lambda _s: None
    return llm


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for c in chunks[1:]:
        total = total + c
    return total


def types(blocks: list[Any]) -> list[str]:
    return [b["type"] for b in blocks]


def check_calculator(blocks: list[Any]) -> None:
    """A calculator call with its args, its successful result, then the answer text."""
    assert types(blocks) == ["server_tool_call", "server_tool_result", "text"]
    call, result, text = blocks
    assert call["name"] == "math:calculator"
    assert call["args"] == {"expression": "3 + 6"}
    assert call["id"].startswith("call_")
    assert result["tool_call_id"] == call["id"]
    assert result["status"] == "success"
    # the output is Friendli's result text as sent: JSON text inside a JSON string
    assert json.loads(json.loads(result["output"])) == {"result": "3 + 6=9"}
    assert "9" in text["text"]


# --------------------------------------------------------------------------- content_blocks


def test_invoke_content_blocks_show_the_call_the_result_then_the_text(emu: Emulator) -> None:
    message = make(emu).bind_tools([CALCULATOR]).invoke(QUESTION)
    check_calculator(message.content_blocks)
    assert isinstance(message.content, str)  # the default output_version keeps text content
    assert "9" in message.content
    # what was there before is still there
    assert [s["status"] for s in message.additional_kwargs["tool_status"]] == ["STARTED", "ENDED"]
    assert message.tool_calls == []
    assert message.response_metadata["model_provider"] == "friendli"


def test_each_status_chunk_has_its_block_and_the_merge_has_all(emu: Emulator) -> None:
    chunks = list(make(emu).bind_tools([CALCULATOR]).stream(QUESTION))
    status_chunks = [c for c in chunks if c.additional_kwargs.get("tool_status")]
    assert [c.response_metadata.get("model_provider") for c in status_chunks] == [
        "friendli",
        "friendli",
    ]
    assert [types(c.content_blocks) for c in status_chunks] == [
        ["server_tool_call"],
        ["server_tool_result"],
    ]
    total = merge(chunks)
    check_calculator(total.content_blocks)
    assert [s["status"] for s in total.additional_kwargs["tool_status"]] == ["STARTED", "ENDED"]


async def test_async_invoke_and_stream_give_the_same_blocks(emu: Emulator) -> None:
    llm = make(emu).bind_tools([CALCULATOR])
    check_calculator((await llm.ainvoke(QUESTION)).content_blocks)
    check_calculator(merge([c async for c in llm.astream(QUESTION)]).content_blocks)


def test_output_version_v1_invoke_puts_the_blocks_in_content(emu: Emulator) -> None:
    message = make(emu, output_version="v1").bind_tools([CALCULATOR]).invoke(QUESTION)
    assert isinstance(message.content, list)
    check_calculator(message.content)
    assert message.content_blocks == message.content
    assert message.response_metadata["output_version"] == "v1"
    assert [s["status"] for s in message.additional_kwargs["tool_status"]] == ["STARTED", "ENDED"]


def test_output_version_v1_stream_gives_blocks_per_chunk(emu: Emulator) -> None:
    chunks = list(make(emu, output_version="v1").bind_tools([CALCULATOR]).stream(QUESTION))
    assert all(isinstance(c.content, list) for c in chunks)
    per_chunk = [b["type"] for c in chunks for b in c.content]
    assert per_chunk[:2] == ["server_tool_call", "server_tool_result"]
    assert set(per_chunk[2:]) == {"text"}
    total = merge(chunks)
    blocks = [{k: v for k, v in b.items() if k != "index"} for b in total.content]
    check_calculator(blocks)


async def test_output_version_v1_async_stream(emu: Emulator) -> None:
    llm = make(emu, output_version="v1").bind_tools([CALCULATOR])
    total = merge([c async for c in llm.astream(QUESTION)])
    assert types(total.content_blocks) == ["server_tool_call", "server_tool_result", "text"]


def test_two_tools_give_two_call_result_pairs_kept_apart(emu: Emulator) -> None:
    llm = make(emu, output_version="v1").bind_tools([CALCULATOR, {"type": "math:statistics"}])
    question = "What is 3 + 6, and what is the mean of 2, 4, 6 and 8?"
    for message in (llm.invoke(question), merge(list(llm.stream(question)))):
        blocks = message.content_blocks
        assert types(blocks) == [
            "server_tool_call",
            "server_tool_result",
            "server_tool_call",
            "server_tool_result",
            "text",
        ]
        assert [b.get("name") for b in blocks[::2][:2]] == ["math:calculator", "math:statistics"]
        assert blocks[1]["tool_call_id"] == blocks[0]["id"]
        assert blocks[3]["tool_call_id"] == blocks[2]["id"]
        assert json.loads(blocks[3]["output"])["mean"] == pytest.approx(4.833333)


def test_an_errored_tool_is_an_error_result(emu: Emulator) -> None:
    message = make(emu).bind_tools([CALCULATOR]).invoke("What is 1 / 0?", resume_generation=True)
    blocks = message.content_blocks
    assert types(blocks) == ["server_tool_call", "server_tool_result", "text"]
    result = blocks[1]
    assert result["status"] == "error"
    assert result["output"] == "division by zero"
    assert result["extras"]["error"] == {"type": "INVALID_PARAMETER", "msg": "division by zero"}
    assert message.additional_kwargs["tool_status"][-1]["status"] == "ERRORED"


def test_a_v1_answer_goes_back_as_history_as_its_text(emu: Emulator) -> None:
    llm = make(emu, output_version="v1").bind_tools([CALCULATOR])
    first = llm.invoke(QUESTION)
    second = llm.invoke([HumanMessage(QUESTION), first, HumanMessage("And 2 + 2?")])
    assert emu.requests[-1].json["messages"][1] == {"role": "assistant", "content": "3 + 6 = 9."}
    assert types(second.content_blocks) == ["server_tool_call", "server_tool_result", "text"]
    assert second.content_blocks[0]["args"] == {"expression": "2 + 2"}


# --------------------------------------------------------------------------- v3 stream events


def test_stream_events_v3_carries_the_server_tool_blocks(emu: Emulator) -> None:
    stream = make(emu).bind_tools([CALCULATOR]).stream_events(QUESTION, version="v3")
    events = list(stream)
    finished = [e["content"] for e in events if e["event"] == "content-block-finish"]
    check_calculator([{k: v for k, v in b.items() if k != "index"} for b in finished])
    started = [e["content"]["type"] for e in events if e["event"] == "content-block-start"]
    assert started == ["server_tool_call", "server_tool_result", "text"]
    output = stream.output
    assert types(output.content_blocks) == ["server_tool_call", "server_tool_result", "text"]
    assert [s["status"] for s in output.additional_kwargs["tool_status"]] == ["STARTED", "ENDED"]


async def test_astream_events_v3_carries_the_server_tool_blocks(emu: Emulator) -> None:
    stream = await make(emu).bind_tools([CALCULATOR]).astream_events(QUESTION, version="v3")
    events = [e async for e in stream]
    finished = [e["content"] for e in events if e["event"] == "content-block-finish"]
    assert types(finished) == ["server_tool_call", "server_tool_result", "text"]
    assert finished[0]["args"] == {"expression": "3 + 6"}


# --------------------------------------------------------------------------- nothing else changed


def test_reasoning_content_is_still_a_reasoning_block(emu: Emulator) -> None:
    llm = make(emu)
    emu.queue(Reply(text="Nine.", reasoning="3 plus 6 is 9"), route="friendli.chat")
    message = llm.invoke(QUESTION)
    assert message.response_metadata["model_provider"] == "friendli"
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "3 plus 6 is 9"},
        {"type": "text", "text": "Nine."},
    ]
    emu.queue(Reply(text="Nine.", reasoning="3 plus 6 is 9"), route="friendli.chat")
    total = merge(list(llm.stream(QUESTION)))
    assert total.content_blocks == [
        {"type": "reasoning", "reasoning": "3 plus 6 is 9"},
        {"type": "text", "text": "Nine."},
    ]
    emu.queue(Reply(text="Nine.", reasoning="3 plus 6 is 9"), route="friendli.chat")
    v1 = make(emu, output_version="v1").invoke(QUESTION)
    assert types(v1.content_blocks) == ["reasoning", "text"]


def test_reasoning_comes_before_the_server_tools(emu: Emulator) -> None:
    emu.queue(Reply(text="Nine.", reasoning="add them"), route="friendli.tools_chat")
    message = make(emu).bind_tools([CALCULATOR]).invoke(QUESTION)
    assert types(message.content_blocks) == [
        "reasoning",
        "server_tool_call",
        "server_tool_result",
        "text",
    ]


def test_plain_friendli_text_parses_as_before(emu: Emulator) -> None:
    message = make(emu).invoke("Hello")
    assert message.content_blocks == [{"type": "text", "text": message.content}]


def test_ffm_and_monsterapi_content_blocks_are_unchanged(emu: Emulator) -> None:
    assert get_translator("ffm") is None
    assert get_translator("monsterapi") is None
    ffm = ChatFFM(model="llama3.3-ffm-70b-32k-chat", base_url=emu.ffm_base_url, api_key=emu.api_key)
    monster = ChatMonsterAPI(
        model="meta-llama/Meta-Llama-3.1-8B-Instruct",
        base_url=emu.monsterapi_base_url,
        api_key=emu.api_key,
    )
    for llm, provider in ((ffm, "ffm"), (monster, "monsterapi")):
        message = llm.invoke("Hello")
        assert message.response_metadata["model_provider"] == provider
        assert isinstance(message.content, str)
        # exactly what langchain-core's best-effort parsing gives a provider-less copy
        plain = AIMessage(content=message.content, additional_kwargs=message.additional_kwargs)
        assert message.content_blocks == plain.content_blocks
        assert types(message.content_blocks) == ["text"]


# --------------------------------------------------------------------------- LangGraph


class State(TypedDict):
    messages: Annotated[list[AnyMessage], operator.add]


def statuses(parts: list[Any]) -> list[str]:
    return [p["tool_status"]["status"] for p in parts if isinstance(p, dict) and "tool_status" in p]


def test_graph_custom_stream_gets_the_tool_statuses(emu: Emulator) -> None:
    graph_mod = pytest.importorskip("langgraph.graph")
    llm = make(emu).bind_tools([CALCULATOR])

    def ask(state: State) -> dict[str, Any]:
        return {"messages": [llm.invoke(state["messages"])]}

    graph = graph_mod.StateGraph(State).add_node("ask", ask)
    graph = graph.add_edge(graph_mod.START, "ask").compile()
    parts = list(graph.stream({"messages": [("user", QUESTION)]}, stream_mode="custom"))
    assert statuses(parts) == ["STARTED", "ENDED"]
    assert parts[0]["tool_status"]["name"] == "math:calculator"
    # outside the graph the same model writes nowhere and still answers
    assert "9" in str(llm.invoke(QUESTION).content)


async def test_graph_astream_custom_gets_the_tool_statuses(emu: Emulator) -> None:
    graph_mod = pytest.importorskip("langgraph.graph")
    llm = make(emu).bind_tools([CALCULATOR])

    async def ask(state: State) -> dict[str, Any]:
        return {"messages": [await llm.ainvoke(state["messages"])]}

    graph = graph_mod.StateGraph(State).add_node("ask", ask)
    graph = graph.add_edge(graph_mod.START, "ask").compile()
    parts = [
        p async for p in graph.astream({"messages": [("user", QUESTION)]}, stream_mode="custom")
    ]
    assert statuses(parts) == ["STARTED", "ENDED"]


def test_graph_streaming_node_and_final_state(emu: Emulator) -> None:
    graph_mod = pytest.importorskip("langgraph.graph")
    llm = make(emu).bind_tools([CALCULATOR])

    def ask(state: State) -> dict[str, Any]:
        return {"messages": [merge(list(llm.stream(state["messages"])))]}

    graph = graph_mod.StateGraph(State).add_node("ask", ask)
    graph = graph.add_edge(graph_mod.START, "ask").compile()
    parts = list(graph.stream({"messages": [("user", QUESTION)]}, stream_mode=["custom", "values"]))
    assert statuses([p for mode, p in parts if mode == "custom"]) == ["STARTED", "ENDED"]
    final = [p for mode, p in parts if mode == "values"][-1]["messages"][-1]
    assert types(final.content_blocks) == ["server_tool_call", "server_tool_result", "text"]

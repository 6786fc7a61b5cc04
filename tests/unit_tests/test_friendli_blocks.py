"""Friendli built-in tools as standard content blocks, and tool_status in LangGraph.

The records are the verbatim ``tool_status`` payloads of docs/protocols/friendli.md
§3.3 (``ToolStatusData``; STARTED, ENDED) and the ERRORED / UPDATING shapes the
emulator derives from the same schema (``error: {type, msg}``, ``message``).
"""

import importlib
import json
import sys
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.block_translators import get_translator
from langchain_core.runnables import RunnableLambda

from langchain_ffm_friendli import _events
from langchain_ffm_friendli._deltas import CustomEvent, chat_chunk
from langchain_ffm_friendli._wire import Record
from langchain_ffm_friendli.friendli import _protocol as proto

# protocols/friendli.md §3.3, verbatim
STARTED = json.loads(
    '{"tool_call_id":"call_3QrfStXSU6fGdOGPcETocIAq","name":"math:calculator","status":"STARTED",'
    '"parameters":[{"name":"expression","value":"150 * 1.60934"}],"result":null,"files":null,'
    '"message":null,"error":null,"usage":null,"timestamp":1726277121}'
)
ENDED = json.loads(
    '{"tool_call_id":"call_3QrfStXSU6fGdOGPcETocIAq","name":"math:calculator","status":"ENDED",'
    '"parameters":[{"name":"expression","value":"150 * 1.60934"}],'
    '"result":"\\"{\\\\\\"result\\\\\\": \\\\\\"150 * 1.60934=241.401000000000\\\\\\"}\\"",'
    '"files":null,"message":null,"error":null,"usage":null,"timestamp":1726277121}'
)
CALL_ID = "call_3QrfStXSU6fGdOGPcETocIAq"


def status(**fields: Any) -> dict[str, Any]:
    return {**STARTED, **fields}


# --------------------------------------------------------------------------- pure conversion


def test_recorded_result_is_double_encoded_json_text() -> None:
    # The shape the docs show: a JSON string holding a JSON object as text.
    assert json.loads(json.loads(ENDED["result"])) == {"result": "150 * 1.60934=241.401000000000"}


def test_started_is_a_server_tool_call() -> None:
    assert proto.tool_status_blocks(STARTED) == [
        {
            "type": "server_tool_call",
            "id": CALL_ID,
            "name": "math:calculator",
            "args": {"expression": "150 * 1.60934"},
            "index": f"{CALL_ID}:call",
        }
    ]


def test_ended_is_a_successful_server_tool_result_with_the_output_as_sent() -> None:
    assert proto.tool_status_blocks(ENDED) == [
        {
            "type": "server_tool_result",
            "tool_call_id": CALL_ID,
            "status": "success",
            "output": ENDED["result"],
            "index": f"{CALL_ID}:result",
        }
    ]


def test_errored_is_an_error_result_carrying_the_tool_error() -> None:
    error = {"type": "INVALID_PARAMETER", "msg": "division by zero"}
    (block,) = proto.tool_status_blocks(status(status="ERRORED", error=error))
    assert block["type"] == "server_tool_result"
    assert block["status"] == "error"
    assert block.get("output") == "division by zero"
    assert block.get("extras") == {"error": error}
    # a result, when the server sends one, wins over the error text
    (with_result,) = proto.tool_status_blocks(status(status="ERRORED", error=error, result="x"))
    assert with_result.get("output") == "x"
    # an error without msg (or no error at all) leaves output out
    (bare,) = proto.tool_status_blocks(status(status="ERRORED", error=None))
    assert "output" not in bare


def test_updating_and_unknown_statuses_give_no_block() -> None:
    assert proto.tool_status_blocks(status(status="UPDATING", message="searching")) == []
    assert proto.tool_status_blocks(status(status="PAUSED")) == []
    assert proto.tool_status_blocks({}) == []


def test_friendli_fields_go_to_extras() -> None:
    files = [{"name": "plot.png", "url": "https://example.invalid/plot.png"}]
    (call,) = proto.tool_status_blocks(status(message="running", files=files))
    assert call.get("extras") == {"files": files, "message": "running"}


def test_missing_call_id_gives_an_empty_id_and_no_index() -> None:
    # AISDK treats tool_call_id as nullable for file:text (protocols/friendli.md §3.3)
    (call,) = proto.tool_status_blocks(status(tool_call_id=None, name="file:text"))
    assert call.get("id") == ""
    assert "index" not in call
    (result,) = proto.tool_status_blocks({**ENDED, "tool_call_id": None})
    assert result.get("tool_call_id") == ""
    assert "index" not in result


@pytest.mark.parametrize(
    ("parameters", "args"),
    [
        ([{"name": "a", "value": "1"}, {"name": "b", "value": "x y"}], {"a": "1", "b": "x y"}),
        ([{"name": "a"}], {"a": None}),
        ([{"value": "orphan"}, "junk", {"name": "k", "value": "v"}], {"k": "v"}),
        ([], {}),
        (None, {}),
        ("expression=1", {}),
        ({"name": "a", "value": "1"}, {}),
    ],
)
def test_args_come_from_parameters(parameters: Any, args: dict[str, Any]) -> None:
    (call,) = proto.tool_status_blocks(status(parameters=parameters))
    assert call.get("args") == args


def test_a_list_of_statuses_in_order() -> None:
    second = status(tool_call_id="call_2", name="web:search")
    out = proto.server_tool_blocks([STARTED, second, status(status="UPDATING"), ENDED, "junk"])
    assert [(b["type"], b.get("index")) for b in out] == [
        ("server_tool_call", f"{CALL_ID}:call"),
        ("server_tool_call", "call_2:call"),
        ("server_tool_result", f"{CALL_ID}:result"),
    ]
    assert proto.server_tool_blocks(None) == []
    assert proto.server_tool_blocks("STARTED") == []


# --------------------------------------------------------------------------- the decoder


def test_a_tool_status_chunk_names_its_provider() -> None:
    stream = proto.ChatStream(model="m", provider=proto.PROVIDER)
    (delta,) = stream.feed(Record("tool_status", STARTED, json.dumps(STARTED)))
    assert delta.metadata == {"model_provider": "friendli"}
    assert delta.extra == {"tool_status": [STARTED]}
    assert delta.event == CustomEvent("tool_status", STARTED)
    message = chat_chunk(delta).message
    assert message.response_metadata["model_provider"] == "friendli"
    assert [b["type"] for b in message.content_blocks] == ["server_tool_call"]


# --------------------------------------------------------------------------- the translator


def test_the_translator_is_registered_once_per_import() -> None:
    import langchain_ffm_friendli.friendli as package

    translator = get_translator("friendli")
    assert translator is not None
    assert translator["translate_content"] is proto.translate_content
    assert translator["translate_content_chunk"] is proto.translate_content_chunk
    importlib.reload(package)  # registering again replaces the entry with the same functions
    again = get_translator("friendli")
    assert again is not None
    assert again["translate_content"] is proto.translate_content


def test_without_tool_status_langchain_parses_as_before() -> None:
    with pytest.raises(NotImplementedError):
        proto.translate_content(AIMessage("hi"))
    with pytest.raises(NotImplementedError):
        proto.translate_content_chunk(AIMessageChunk(content="hi"))
    # ... so reasoning_content still becomes a reasoning block for friendli messages
    message = AIMessage(
        "Nine.",
        additional_kwargs={"reasoning_content": "3 plus 6"},
        response_metadata={"model_provider": "friendli"},
    )
    assert message.content_blocks == [
        {"type": "reasoning", "reasoning": "3 plus 6"},
        {"type": "text", "text": "Nine."},
    ]


def test_a_message_gets_reasoning_then_tools_then_text() -> None:
    message = AIMessage(
        "About 241.4 km.",
        additional_kwargs={"tool_status": [STARTED, ENDED], "reasoning_content": "convert"},
        response_metadata={"model_provider": "friendli", "finish_reason": "stop"},
    )
    blocks = message.content_blocks
    assert [b["type"] for b in blocks] == [
        "reasoning",
        "server_tool_call",
        "server_tool_result",
        "text",
    ]
    assert blocks[1:3] == proto.server_tool_blocks([STARTED, ENDED])
    assert message.response_metadata["model_provider"] == "friendli"  # not changed


def test_a_message_with_function_tool_calls_keeps_them() -> None:
    message = AIMessage(
        "",
        tool_calls=[{"name": "get_weather", "args": {"city": "Taipei"}, "id": "c1"}],
        additional_kwargs={"tool_status": [STARTED, ENDED]},
        response_metadata={"model_provider": "friendli"},
    )
    types = [b["type"] for b in message.content_blocks]
    assert types == ["server_tool_call", "server_tool_result", "tool_call"]


def test_chunks_translate_alone_and_merged() -> None:
    meta = {"model_provider": "friendli"}
    chunks = [
        AIMessageChunk(content="", additional_kwargs={"tool_status": [s]}, response_metadata=meta)
        for s in (STARTED, ENDED)
    ]
    chunks.append(AIMessageChunk(content="About 241.4 km."))
    assert [[b["type"] for b in c.content_blocks] for c in chunks] == [
        ["server_tool_call"],
        ["server_tool_result"],
        ["text"],
    ]
    total = chunks[0] + chunks[1] + chunks[2]
    assert [b["type"] for b in total.content_blocks] == [
        "server_tool_call",
        "server_tool_result",
        "text",
    ]


# --------------------------------------------------------------------------- LangGraph writer


def test_no_graph_no_write() -> None:
    # outside any runnable get_stream_writer raises RuntimeError: nothing happens
    _events._write_to_graph(CustomEvent("tool_status", STARTED))
    # inside a runnable that is not a graph node it raises KeyError: nothing happens
    RunnableLambda(lambda x: _events._write_to_graph(CustomEvent("tool_status", x))).invoke(STARTED)


def test_without_langgraph_no_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langgraph.config", None)  # import raises ImportError
    _events._write_to_graph(CustomEvent("tool_status", STARTED))


def test_in_a_graph_node_the_writer_gets_the_event(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langgraph")
    import langgraph.config

    written: list[Any] = []
    monkeypatch.setattr(langgraph.config, "get_stream_writer", lambda: written.append)
    _events.dispatch(CustomEvent("tool_status", STARTED), None)
    assert written == [{"tool_status": STARTED}]


async def test_async_dispatch_writes_too(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langgraph")
    import langgraph.config

    written: list[Any] = []
    monkeypatch.setattr(langgraph.config, "get_stream_writer", lambda: written.append)
    await _events.adispatch(CustomEvent("tool_status", ENDED), None)
    assert written == [{"tool_status": ENDED}]


# --------------------------------------------------------------------------- back into a request


def test_server_tool_blocks_are_not_sent_back_in_history() -> None:
    from langchain_ffm_friendli._openai.messages import content_to_text, message_to_dict

    v1_answer = [*proto.server_tool_blocks([STARTED, ENDED]), {"type": "text", "text": "241.4"}]
    assert content_to_text(v1_answer, provider="friendli", role="assistant") == "241.4"
    chunk_form = [{"type": "server_tool_call_chunk", "args": "{}"}, {"type": "text", "text": "x"}]
    assert content_to_text(chunk_form, provider="friendli", role="assistant") == "x"
    message = AIMessage(v1_answer, additional_kwargs={"tool_status": [STARTED, ENDED]})
    assert message_to_dict(message, provider="friendli") == {
        "role": "assistant",
        "content": "241.4",
    }

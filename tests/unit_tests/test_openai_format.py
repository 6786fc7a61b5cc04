"""LangChain <-> OpenAI-style message and tool conversion."""

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from pydantic import BaseModel

from langchain_ffm_friendli._openai.messages import message_to_dict, messages_to_dicts
from langchain_ffm_friendli._openai.tools import format_tools, tool_choice_to_openai
from langchain_ffm_friendli.errors import InvalidParameterError


def conv(message: object) -> dict:
    return message_to_dict(message, provider="ffm")  # type: ignore[arg-type]


def test_roles_and_names() -> None:
    assert conv(SystemMessage("s")) == {"role": "system", "content": "s"}
    assert conv(HumanMessage("h", name="bob")) == {"role": "user", "content": "h", "name": "bob"}
    assert conv(ChatMessage(role="human", content="x")) == {"role": "human", "content": "x"}


def test_assistant_tool_call_turn_has_null_content_and_unescaped_args() -> None:
    message = AIMessage(
        content="",
        tool_calls=[{"name": "w", "args": {"city": "台北"}, "id": "call_1", "type": "tool_call"}],
    )
    assert conv(message) == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "w", "arguments": '{"city": "台北"}'},
            }
        ],
    }


def test_anthropic_tool_use_blocks_are_folded_into_tool_calls() -> None:
    message = AIMessage(
        content=[
            {"type": "text", "text": "checking"},
            {"type": "tool_use", "id": "t", "name": "w", "input": {}},
        ],
        tool_calls=[{"name": "w", "args": {}, "id": "t", "type": "tool_call"}],
    )
    out = conv(message)
    assert out["content"] == "checking"
    assert out["tool_calls"][0]["id"] == "t"


def test_tool_message_round_trip_fields() -> None:
    out = conv(ToolMessage("sunny", tool_call_id="call_1", name="w", status="error"))
    assert out == {"role": "tool", "tool_call_id": "call_1", "content": "sunny", "name": "w"}


def test_non_text_blocks_are_refused_not_dropped() -> None:
    message = HumanMessage(content=[{"type": "image", "url": "https://x/y.png"}])
    with pytest.raises(InvalidParameterError, match="image"):
        conv(message)


def test_empty_history_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="messages"):
        messages_to_dicts([], provider="ffm")


def test_tools_from_functions_models_and_builtin_dicts() -> None:
    class Person(BaseModel):
        """A person."""

        name: str

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    tools = format_tools([add, Person, {"type": "math:calculator"}])
    assert tools[0]["function"]["name"] == "add"
    assert tools[1]["function"]["name"] == "Person"
    assert tools[2] == {"type": "math:calculator"}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        (True, "required"),
        (False, "none"),
        ("add", {"type": "function", "function": {"name": "add"}}),
    ],
)
def test_tool_choice_spellings(choice: object, expected: object) -> None:
    assert tool_choice_to_openai(choice, ["add"], provider="ffm") == expected

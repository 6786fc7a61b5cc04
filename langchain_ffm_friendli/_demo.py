"""The main job behind ``make demo``: a streamed answer and a tool round trip.

Runs against the real provider when its key is in the environment, otherwise
against the embedded emulator, so it works on a fresh machine with no network.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from pydantic import SecretStr

from langchain_ffm_friendli.errors import ProviderError
from langchain_ffm_friendli.ffm.chat_models import ChatFFM

DEFAULT_FFM_MODEL = "llama3.3-ffm-70b-32k-chat"


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"{city}: sunny, 28°C, humidity 70%"


@tool
def convert_currency(amount: float, currency: str) -> str:
    """Convert an amount of New Taiwan dollars (TWD) into another currency."""
    rates = {"USD": 0.031, "JPY": 4.7, "EUR": 0.029}
    rate = rates.get(currency.upper(), 1.0)
    return f"{amount} TWD = {amount * rate:.2f} {currency.upper()}"


@contextlib.contextmanager
def _ffm_model() -> Iterator[tuple[ChatFFM, str]]:
    if os.environ.get("FFM_API_KEY"):
        model = ChatFFM(model=os.environ.get("FFM_MODEL", DEFAULT_FFM_MODEL), temperature=0.3)
        yield model, f"real FFM at {model.base_url}"
        return
    from langchain_ffm_friendli.testing import Emulator

    with Emulator() as emu:
        model = ChatFFM(
            model=DEFAULT_FFM_MODEL,
            base_url=emu.ffm_base_url,
            api_key=SecretStr(emu.api_key),
            temperature=0.3,
        )
        yield model, f"embedded emulator at {emu.ffm_base_url} (set FFM_API_KEY for real FFM)"


def _tool_round_trip(model: ChatFFM, question: str, tools: list[BaseTool], out: TextIO) -> None:
    by_name = {t.name: t for t in tools}
    bound = model.bind_tools(tools)
    history: list[BaseMessage] = [HumanMessage(question)]
    out.write(f"> {question}\n")
    for _ in range(5):
        reply = bound.invoke(history)
        assert isinstance(reply, AIMessage)
        history.append(reply)
        if not reply.tool_calls:
            out.write(f"answer: {reply.content}\n")
            return
        for call in reply.tool_calls:
            out.write(f"tool call: {call['name']}({call['args']}) id={call['id']}\n")
            result = by_name[call["name"]].invoke(call)
            assert isinstance(result, ToolMessage)
            out.write(f"tool result: {result.content}\n")
            history.append(result)
    out.write("stopped after 5 model turns\n")


def run_ffm(out: TextIO = sys.stdout) -> None:
    """Stream an answer, then complete a tool-calling round trip, with ChatFFM."""
    with _ffm_model() as (model, where):
        out.write(f"== ChatFFM: {where}\n")
        out.write("> 人口最多的國家是? 主要宗教為?\n")
        usage = None
        for chunk in model.stream("人口最多的國家是? 主要宗教為?"):
            out.write(str(chunk.content))
            out.flush()
            if chunk.usage_metadata:
                usage = chunk.usage_metadata
        out.write("\n")
        if usage:
            out.write(
                f"usage: {usage['input_tokens']} in, {usage['output_tokens']} out, "
                f"{usage['total_tokens']} total\n"
            )
        _tool_round_trip(
            model,
            "What is the weather in Taipei? Use the tool.",
            [get_weather, convert_currency],
            out,
        )


def main(provider: str = "ffm", out: TextIO = sys.stdout) -> int:
    """Run the demo for one provider; a provider that fails is reported in one line."""
    runners = {"ffm": run_ffm}
    selected = list(runners) if provider == "all" else [provider]
    status = 0
    for name in selected:
        try:
            runners[name](out)
        except ProviderError as exc:
            out.write(f"{name}: cannot complete the demo: {exc}\n")
            status = 1
    return status

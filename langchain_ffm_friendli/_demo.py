"""The main job behind ``make demo``: a LangChain agent with two tools, per provider.

For each provider in turn the agent (``langchain.agents.create_agent``) streams
its answer token by token, shows every tool call and tool result as it happens,
shows Friendli's built-in tool statuses, and prints token usage at the end. It
talks to the real provider when that provider's key is in the environment and to
the embedded emulator otherwise, so it runs on a fresh machine with no network.
A provider that cannot be reached is reported in one line; the others still run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool, tool
from pydantic import SecretStr

from langchain_ffm_friendli.errors import ProviderError

PROVIDERS = ("ffm", "friendli", "monsterapi")


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"{city}: sunny, 28°C, humidity 70%"


@tool
def convert_currency(amount: float, currency: str) -> str:
    """Convert an amount of New Taiwan dollars (TWD) into another currency (USD, JPY, EUR)."""
    rates = {"USD": 0.031, "JPY": 4.7, "EUR": 0.029}
    code = currency.strip().upper()
    if code not in rates:
        return f"unknown currency {currency!r}; try USD, JPY or EUR"
    return f"{amount:g} TWD = {amount * rates[code]:.2f} {code}"


TOOLS: list[BaseTool] = [get_weather, convert_currency]


@dataclass
class Scenario:
    """One provider's run: how to build its model and what to ask."""

    name: str
    key_env: str
    model_env: str
    default_model: str
    build: Callable[[str, str, SecretStr | None], BaseChatModel]
    questions: list[str]
    extra_tools: list[dict[str, Any]] = field(default_factory=list)


def _ffm(model: str, base_url: str, api_key: SecretStr | None) -> BaseChatModel:
    from langchain_ffm_friendli.ffm.chat_models import ChatFFM

    return ChatFFM(model=model, base_url=base_url, api_key=api_key, temperature=0.2)


def _friendli(model: str, base_url: str, api_key: SecretStr | None) -> BaseChatModel:
    from langchain_ffm_friendli.friendli.chat_models import ChatFriendli

    return ChatFriendli(model=model, base_url=base_url, api_key=api_key, temperature=0.2)


def _monsterapi(model: str, base_url: str, api_key: SecretStr | None) -> BaseChatModel:
    from langchain_ffm_friendli.monsterapi.chat_models import ChatMonsterAPI

    return ChatMonsterAPI(
        model=model, base_url=base_url, api_key=api_key, temperature=0.2, max_tokens=512
    )


SCENARIOS = {
    "ffm": Scenario(
        "ffm",
        "FFM_API_KEY",
        "FFM_MODEL",
        "llama3.3-ffm-70b-32k-chat",
        _ffm,
        ["What is the weather in 'Taipei'? Use the weather tool."],
    ),
    "friendli": Scenario(
        "friendli",
        "FRIENDLI_TOKEN",
        "FRIENDLI_MODEL",
        "meta-llama-3.1-8b-instruct",
        _friendli,
        ["What is 3 + 6?", "What is the weather in 'Taipei'? Use the weather tool."],
        extra_tools=[{"type": "math:calculator"}],
    ),
    "monsterapi": Scenario(
        "monsterapi",
        "MONSTER_API_KEY",
        "MONSTER_MODEL",
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
        _monsterapi,
        ["Convert 1000 TWD into 'USD' with the currency tool."],
    ),
}


@contextlib.contextmanager
def _endpoint(scenario: Scenario, emulator: Any) -> Iterator[tuple[str, SecretStr | None, str]]:
    """(base_url, api_key, description): the real provider if its key is set.

    An empty base_url and no key make the class read its own env vars.
    """
    key = os.environ.get(scenario.key_env)
    if key:
        yield "", None, f"real {scenario.name} (key from {scenario.key_env})"
        return
    base = {
        "ffm": emulator.ffm_base_url,
        "friendli": emulator.friendli_base_url,
        "monsterapi": emulator.monsterapi_base_url,
    }[scenario.name]
    yield (
        base,
        emulator.api_key,
        f"embedded emulator at {base} (set {scenario.key_env} for the real API)",
    )


def _readable(value: Any) -> str:
    """Tool results may be JSON text, even encoded twice: show the innermost value."""
    for _ in range(3):
        if not isinstance(value, str):
            break
        try:
            value = json.loads(value)
        except ValueError:
            break
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    return str(value)


async def _ask(agent: Any, question: str, out: TextIO) -> dict[str, int]:
    """Stream one agent run; return the token usage it reported."""
    usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    out.write(f"> {question}\n")
    at_line_start = True
    async for event in agent.astream_events({"messages": [("user", question)]}, version="v2"):
        kind = event["event"]
        if kind == "on_chat_model_stream":
            text = event["data"]["chunk"].text
            if text:
                out.write(text)
                out.flush()
                at_line_start = text.endswith("\n")
            continue
        if not at_line_start:
            out.write("\n")
            at_line_start = True
        if kind == "on_tool_start":
            out.write(f"  -> tool call: {event['name']}({event['data'].get('input')})\n")
        elif kind == "on_tool_end":
            output = event["data"].get("output")
            content = getattr(output, "content", output)
            out.write(f"  <- tool result: {content}\n")
        elif kind == "on_custom_event" and event["name"] == "tool_status":
            status = event["data"]
            params = ", ".join(f"{p['name']}={p['value']}" for p in status.get("parameters") or [])
            detail = _readable(status.get("result") or status.get("error") or "")
            out.write(
                f"  [built-in {status['name']}] {status['status']} {params} {detail}".rstrip()
                + "\n"
            )
        elif kind == "on_chat_model_end":
            message_usage = getattr(event["data"]["output"], "usage_metadata", None) or {}
            for key in usage:
                usage[key] += int(message_usage.get(key) or 0)
    if not at_line_start:
        out.write("\n")
    return usage


async def _run_provider(scenario: Scenario, emulator: Any, out: TextIO) -> None:
    from langchain.agents import create_agent

    model_name = os.environ.get(scenario.model_env, scenario.default_model)
    with _endpoint(scenario, emulator) as (base_url, api_key, where):
        out.write(f"\n== {scenario.name}: {model_name} via {where}\n")
        model = scenario.build(model_name, base_url, api_key)
        tools: list[Any] = [*TOOLS, *scenario.extra_tools]
        agent = create_agent(model, tools=tools)
        total = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        for question in scenario.questions:
            usage = await _ask(agent, question, out)
            for key in total:
                total[key] += usage[key]
        out.write(
            f"token usage: {total['input_tokens']} in, {total['output_tokens']} out, "
            f"{total['total_tokens']} total\n"
        )


def main(provider: str = "all", out: TextIO = sys.stdout) -> int:
    """Run the demo for one provider or all; 0 when every provider completed."""
    try:
        import langchain.agents  # noqa: F401
    except ImportError:
        out.write(
            "the demo needs the demo extra (langchain): pip install '.[demo]' in a checkout "
            "(make demo installs it)\n"
        )
        return 2
    from langchain_ffm_friendli.testing import Emulator

    selected = list(PROVIDERS) if provider == "all" else [provider]
    failures = 0
    with Emulator() as emulator:
        for name in selected:
            try:
                asyncio.run(_run_provider(SCENARIOS[name], emulator, out))
            except ProviderError as exc:
                failures += 1
                out.write(f"{name}: cannot complete the demo: {exc}\n")
    return 1 if failures else 0

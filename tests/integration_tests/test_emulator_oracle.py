"""The emulator as an oracle: model ids, strictness, the agent-grade scripted model, the
standalone server and the opt-in pytest plugin."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import httpx
import pytest
from langchain.agents import create_agent
from pydantic import BaseModel

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from langchain_ffm_friendli.errors import ModelNotFoundError
from langchain_ffm_friendli.testing import Emulator, Fault, Reply

pytest_plugins = ["pytester"]

FFM = "llama3.3-ffm-70b-32k-chat"
FRIENDLI = "meta-llama-3.1-8b-instruct"
MONSTER = "meta-llama/Meta-Llama-3.1-8B-Instruct"


def chat_models(emu: Emulator, model: str | None = None) -> dict[str, Any]:
    key = emu.api_key
    return {
        "ffm": ChatFFM(model=model or FFM, base_url=emu.ffm_base_url, api_key=key),
        "friendli": ChatFriendli(
            model=model or FRIENDLI, base_url=emu.friendli_base_url, api_key=key
        ),
        "monsterapi": ChatMonsterAPI(
            model=model or MONSTER, base_url=emu.monsterapi_base_url, api_key=key
        ),
    }


# ------------------------------------------------------------------------------ model ids


def test_unknown_model_ids_get_each_providers_answer(emu: Emulator) -> None:
    headers = {"X-API-KEY": emu.api_key, "Authorization": f"Bearer {emu.api_key}"}
    messages = [{"role": "user", "content": "hi"}]
    ffm = httpx.post(
        emu.ffm_base_url + "/models/conversation",
        json={"model": "nope", "messages": messages},
        headers=headers,
    )
    assert (ffm.status_code, ffm.json()) == (404, {"detail": "Not Found"})
    friendli = httpx.post(
        emu.friendli_base_url + "/chat/completions",
        json={"model": "nope", "messages": messages},
        headers=headers,
    )
    assert (friendli.status_code, friendli.json()) == (404, {"detail": "Model 'nope' not found."})
    monster = httpx.post(
        emu.monsterapi_base_url + "/generate",
        json={"model": "nope", "messages": messages},
        headers=headers,
    )
    assert monster.status_code == 422
    (entry,) = monster.json()["detail"]
    assert entry["loc"] == ["body", "model"]
    assert MONSTER in entry["msg"]
    # Dedicated endpoints are the user's own: any endpoint id is served.
    dedicated = httpx.post(
        emu.friendli_dedicated_base_url + "/chat/completions",
        json={"model": "ep-123abc", "messages": messages},
        headers=headers,
    )
    assert dedicated.status_code == 200


@pytest.mark.parametrize("provider", ["ffm", "friendli"])
def test_clients_see_model_not_found(emu: Emulator, provider: str) -> None:
    with pytest.raises(ModelNotFoundError):
        chat_models(emu, "no-such-model")[provider].invoke("hi")


def test_models_option_and_accept_unknown_models() -> None:
    with Emulator(models=["my-finetune"]) as emu:
        assert "my-finetune" in emu.known_models["friendli"]
        assert FFM in emu.known_models["ffm"]
        for model in chat_models(emu, "my-finetune").values():
            assert model.invoke("hi").content
    with Emulator(accept_unknown_models=True) as emu:
        assert chat_models(emu, "anything/at-all")["friendli"].invoke("hi").content


# ------------------------------------------------------------------------------ strictness


def test_assert_all_consumed_names_what_was_left(emu: Emulator) -> None:
    emu.queue(Reply(text="used"), Fault.status(503), route="ffm.conversation")
    assert chat_models(emu)["ffm"].invoke("hi").content == "used"
    left = r"(?s)1 queued item\(s\) were never used.*status_code=503"
    with pytest.raises(AssertionError, match=left):
        emu.assert_all_consumed()
    emu.reset()
    emu.assert_all_consumed()


def test_strict_emulator_fails_on_exit_with_unused_items() -> None:
    with pytest.raises(AssertionError, match="never used"), Emulator(strict=True) as emu:
        emu.queue(Reply(text="never asked for"))
    with Emulator(strict=True) as emu:  # all consumed: no failure
        emu.queue(Reply(text="asked"))
        assert chat_models(emu)["friendli"].invoke("hi").content == "asked"


# ---------------------------------------------------------------------- the scripted model


class WeatherReport(BaseModel):
    """The final answer about the weather."""

    city: str
    conditions: str


def get_weather(city: str) -> str:
    """Get the weather of a city."""
    return f"{city}: sunny"


@pytest.mark.parametrize("provider", ["ffm", "friendli", "monsterapi"])
def test_agent_structured_response_after_tool_results(emu: Emulator, provider: str) -> None:
    agent = create_agent(
        chat_models(emu)[provider], tools=[get_weather], response_format=WeatherReport
    )
    result = agent.invoke({"messages": [("user", "What is the weather in 'Taipei'?")]})
    report = result["structured_response"]
    assert isinstance(report, WeatherReport)
    assert report.city == "Taipei"
    tool_names = [m.name for m in result["messages"] if m.type == "tool"]
    assert tool_names[0] == "get_weather"


@pytest.mark.parametrize("provider", ["ffm", "friendli", "monsterapi"])
def test_parallel_tool_calls_for_several_requests(emu: Emulator, provider: str) -> None:
    model = chat_models(emu)[provider].bind_tools([get_weather])
    message = model.invoke("What is the weather in 'Taipei' and in 'Tokyo'?")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Taipei"}),
        ("get_weather", {"city": "Tokyo"}),
    ]
    single = model.invoke("What is the weather in 'Taipei'?")
    assert len(single.tool_calls) == 1


def test_parallel_calls_of_different_tools(emu: Emulator) -> None:
    def get_time(city: str) -> str:
        """Get the local time of a city."""
        return "noon"

    model = chat_models(emu)["friendli"].bind_tools([get_weather, get_time])
    message = model.invoke("Get the weather in 'Paris' and the time in 'Tokyo'")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Tokyo"}),
    ]
    # parallel_tool_calls=False is honoured on the OpenAI-compatible route.
    one = chat_models(emu)["friendli"].bind_tools(
        [get_weather, get_time], parallel_tool_calls=False
    )
    assert len(one.invoke("Get the weather in 'Paris' and the time in 'Tokyo'").tool_calls) == 1


def test_reasoning_replies(emu: Emulator) -> None:
    emu.queue(Reply(text="42.", reasoning="Six times seven."))
    message = chat_models(emu)["friendli"].invoke("6*7?")
    assert message.content == "42."
    assert message.additional_kwargs["reasoning_content"] == "Six times seven."
    emu.queue(Reply(text="42.", reasoning="6*7"))
    streamed = "".join(
        c.additional_kwargs.get("reasoning_content", "")
        for c in chat_models(emu)["friendli"].stream("6*7?")
    )
    assert streamed == "6*7"
    emu.queue(Reply(text="42.", reasoning="6*7"))  # FFM has no reasoning field
    assert chat_models(emu)["ffm"].invoke("6*7?").content == "<think>\n6*7\n</think>\n\n42."


def test_images_are_acknowledged(emu: Emulator) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    message = {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]}
    body = {"model": FRIENDLI, "messages": [message]}
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    data = httpx.post(emu.friendli_base_url + "/chat/completions", json=body, headers=headers)
    assert "(I received 1 image.)" in data.json()["choices"][0]["message"]["content"]


# ---------------------------------------------------------------------- standalone server


def test_standalone_server_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_ffm_friendli.testing", "--port", "0", "--api-key", "k1"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(9)]
        env = dict(line.strip().split("=", 1) for line in lines[1:])
        assert env["FRIENDLI_TOKEN"] == env["FFM_API_KEY"] == env["MONSTER_API_KEY"] == "k1"
        assert env["FFM_BASE_URL"].startswith("http://127.0.0.1:")
        response = httpx.post(
            env["FRIENDLI_BASE_URL"] + "/chat/completions",
            json={"model": FRIENDLI, "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": "Bearer k1"},
        )
        assert response.json()["choices"][0]["message"]["content"].endswith("You said: hi")
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "emulator stopped" in out


# ------------------------------------------------------------------------- pytest plugin

PLUGIN_TESTS = """
from langchain_ffm_friendli import ChatFFM
from langchain_ffm_friendli.testing import Reply

pytest_plugins = ["langchain_ffm_friendli.testing.pytest_plugin"]


def test_fixture(lcff_emulator):
    lcff_emulator.queue(Reply(text="fine"))
    llm = ChatFFM(
        model="llama3.3-ffm-70b-32k-chat",
        base_url=lcff_emulator.ffm_base_url,
        api_key=lcff_emulator.api_key,
    )
    assert llm.invoke("hi").content == "fine"


def test_session_fixture(lcff_emulator_session):
    assert lcff_emulator_session.running


def test_unused_reply_fails(lcff_emulator):
    lcff_emulator.queue(Reply(text="never used"))
"""


def test_opt_in_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plugin=PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=3, errors=1)  # the strict fixture fails the last test
    result.stdout.fnmatch_lines(["*never used*"])


def test_plugin_is_not_registered_automatically(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x(lcff_emulator):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'lcff_emulator' not found*"])

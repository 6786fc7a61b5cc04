"""The vendors' own clients check the emulator, so it is an oracle and not a mirror of ours.

* The official ``friendli`` SDK (a test-only dependency) parses every Friendli response and
  stream the emulator sends, and its request models accept every body our Friendli classes
  send, except the short allowlist below (fields the older completions page documents beyond the
  SDK schema, protocols/friendli.md §4.5).
* The ``openai`` SDK streams with usage and tools on the OpenAI-compatible routes.
* vLLM's example streaming client (re-implemented below; installing vLLM is not feasible)
  reads the MonsterAPI ``/v1/generate`` stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx
import openai
import pytest
import requests
from friendli import SyncFriendli
from friendli.core import models as fm
from friendli.core.models.toolstatusdata import ToolStatusData
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from pydantic import BaseModel

from langchain_ffm_friendli import ChatFriendli, ChatMonsterAPI, FriendliLLM
from langchain_ffm_friendli.testing import Emulator, Fault, Reply

MODEL = "meta-llama-3.1-8b-instruct"
MONSTER_MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"

#: Request fields the older completions page documents but the friendli SDK 0.16 schema lacks:
#: the legacy completions beam search and output options (protocols/friendli.md §4.1, §4.5).
#: Also written in docs/emulator.md ("The vendors' clients as the oracle").
SDK_SCHEMA_ALLOWLIST = frozenset(
    {
        "beam_search_type",
        "early_stopping",
        "include_output_logits",
        "include_output_logprobs",
        "length_penalty",
        "num_beams",
        "timeout_microseconds",
    }
)
#: Sent by our classes, in neither the older completions page nor the SDK schema: the
#: OpenAI-style names of a ``json_schema`` response format. protocols/friendli.md §2.4: the
#: spec's json_schema object defines only schema; OpenAI clients also send name and strict,
#: and whether extras are ignored is not documented. Kept visible here (and in
#: docs/emulator.md) rather than hidden.
CLIENT_EXTRAS = frozenset(
    {
        "response_format.json_schema.name",
        "response_format.json_schema.description",
        "response_format.json_schema.strict",
    }
)

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def sdk(emu: Emulator, product: str = "") -> SyncFriendli:
    """The official client; the emulator serves Friendli under ``/friendli``."""
    suffix = "/container" if product == "container" else ""
    return SyncFriendli(token=emu.api_key, server_url=f"{emu.url}/friendli{suffix}")


def unknown_keys(sent: Any, parsed: Any, path: str = "") -> list[str]:
    """Keys of ``sent`` that the model dump ``parsed`` lost: fields the schema lacks."""
    missing: list[str] = []
    if isinstance(sent, dict) and isinstance(parsed, dict):
        for key, value in sent.items():
            if key not in parsed:
                missing.append(path + key)
            else:
                missing += unknown_keys(value, parsed[key], f"{path}{key}.")
    elif isinstance(sent, list) and isinstance(parsed, list):
        for index, (a, b) in enumerate(zip(sent, parsed, strict=False)):
            missing += unknown_keys(a, b, f"{path}{index}.")
    return missing


def schema_gaps(model: type[BaseModel], body: dict[str, Any]) -> list[str]:
    """Validate a request body with an SDK model; return the fields it does not know."""
    parsed = model.model_validate(body).model_dump(by_alias=True, exclude_unset=True)
    return unknown_keys(body, json.loads(json.dumps(parsed, default=str)))


# ------------------------------------------------------------------ friendli SDK: responses

CHAT_CASES = {
    "text": {"messages": [{"role": "user", "content": "Hello!"}]},
    "n_and_logprobs": {
        "messages": [{"role": "user", "content": "Hello!"}],
        "n": 2,
        "logprobs": True,
        "top_logprobs": 2,
    },
    "tool_call": {
        "messages": [{"role": "user", "content": "What is the weather in 'Taipei'?"}],
        "tools": [WEATHER],
    },
    "parallel_tool_calls": {
        "messages": [{"role": "user", "content": "The weather in 'Taipei' and in 'Tokyo'?"}],
        "tools": [WEATHER],
    },
    "json_schema": {
        "messages": [{"role": "user", "content": "Tell me about 'Taipei'."}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": WEATHER["function"]["parameters"]},
        },
    },
    "tool_result": {
        "messages": [
            {"role": "user", "content": "What is the weather in 'Taipei'?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Taipei"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
        "tools": [WEATHER],
    },
}


@pytest.mark.parametrize("product", ["serverless", "dedicated", "container"])
@pytest.mark.parametrize("case", sorted(CHAT_CASES))
def test_friendli_sdk_parses_every_chat_response_and_stream(
    module_emu: Emulator, case: str, product: str
) -> None:
    client = sdk(module_emu, product)
    api = getattr(client, product).chat
    kwargs: dict[str, Any] = {"model": MODEL if product != "dedicated" else "ep-123abc"}
    if product == "container":  # the container SDK takes its URL per call
        kwargs["server_url"] = f"{module_emu.url}/friendli/container"
    kwargs.update(CHAT_CASES[case])
    result = api.complete(**kwargs)
    assert isinstance(result, fm.ServerlessChatCompleteSuccess)  # every product's model
    message = result.choices[0].message
    if case.endswith("tool_calls") or case == "tool_call":
        names = [call.function.name for call in message.tool_calls or []]
        assert names == ["get_weather"] * (2 if case == "parallel_tool_calls" else 1)
        assert result.choices[0].finish_reason == "tool_calls"
    else:
        assert message.content
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    events = list(api.complete(**kwargs, stream=True, stream_options={"include_usage": True}))
    datas = [event.data for event in events]
    assert all(isinstance(d, fm.StreamedChatData) for d in datas)
    assert datas[-1].choices == []
    assert datas[-1].usage is not None
    assert datas[-1].usage.total_tokens == result.usage.total_tokens
    finishes = [c.finish_reason for d in datas for c in d.choices if c.finish_reason]
    assert finishes == [result.choices[0].finish_reason] * kwargs.get("n", 1)


def test_friendli_sdk_parses_reasoning_replies(module_emu: Emulator) -> None:
    module_emu.queue(
        Reply(text="42.", reasoning="Six times seven."), Reply(text="42.", reasoning="6*7")
    )
    result = sdk(module_emu).serverless.chat.complete(
        model="deepseek-ai/DeepSeek-R1-0528", messages=[{"role": "user", "content": "6*7?"}]
    )
    assert result.choices[0].message.content == "42."
    assert module_emu.requests[-1].route == "friendli.chat"
    events = list(
        sdk(module_emu).serverless.chat.complete(
            model="deepseek-ai/DeepSeek-R1-0528",
            messages=[{"role": "user", "content": "6*7?"}],
            stream=True,
        )
    )
    assert "".join(c.delta.content or "" for e in events for c in e.data.choices) == "42."


@pytest.mark.parametrize(
    "extra",
    [
        {"prompt": "Once upon a time"},
        {"tokens": [1, 2, 3]},
        {"prompt": "Hi", "n": 2, "logprobs": 2},
    ],
    ids=["prompt", "tokens", "n_logprobs"],
)
def test_friendli_sdk_parses_completions_and_streams(
    module_emu: Emulator, extra: dict[str, Any]
) -> None:
    api = sdk(module_emu).serverless.completions
    result = api.complete(serverless_completions_body={"model": MODEL, "max_tokens": 8, **extra})
    assert isinstance(result, fm.ServerlessCompletionsSuccess)
    assert len(result.choices) == extra.get("n", 1)
    assert all(choice.text for choice in result.choices)
    body = {"model": MODEL, "max_tokens": 8, "stream": True, **extra}
    body["stream_options"] = {"include_usage": True}
    events = list(api.complete(serverless_completions_body=body))
    datas = [event.data for event in events]
    assert all(isinstance(d, fm.StreamedCompletionData) for d in datas)
    assert datas[-1].usage is not None
    streamed = "".join(c.text for d in datas for c in d.choices if c.index == 0)
    assert streamed == result.choices[0].text


def test_tool_assisted_stream_validates_against_sdk_models(module_emu: Emulator) -> None:
    # SDK 0.16 dropped the tool-assisted endpoint but keeps its event models.
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "What is 3 + 6?"}],
        "tools": [{"type": "math:calculator"}],
        "stream": True,
    }
    url = module_emu.url + "/friendli/serverless/tools/v1/chat/completions"
    headers = {"Authorization": f"Bearer {module_emu.api_key}", "X-Emulator-Token-Event": "token"}
    raw = httpx.post(url, json=body, headers=headers).content.decode()
    statuses, tokens = [], []
    for block in raw.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        if fields["data"] == "[DONE]":
            continue
        if fields.get("event") == "tool_status":
            statuses.append(ToolStatusData.model_validate_json(fields["data"]))
        else:
            tokens.append(fm.StreamedChatData.model_validate_json(fields["data"]))
    assert [s.status for s in statuses] == ["STARTED", "ENDED"]
    assert "9" in "".join(c.delta.content or "" for t in tokens for c in t.choices)


# ------------------------------------------------------------ friendli SDK: our requests


def test_chat_friendli_request_bodies_validate_against_the_sdk(module_emu: Emulator) -> None:
    def get_weather(city: str) -> str:
        """Get the weather of a city."""
        return "sunny"

    model = ChatFriendli(
        model=MODEL,
        base_url=module_emu.friendli_base_url,
        api_key=module_emu.api_key,
        temperature=0.5,
        max_tokens=64,
        top_p=0.9,
        top_k=5,
        min_p=0.1,
        stop=["\n\n"],
        seed=7,
        frequency_penalty=0.1,
        presence_penalty=0.1,
        repetition_penalty=1.1,
        logprobs=True,
        top_logprobs=2,
        n=1,
        logit_bias={"5": 1.0},
        eos_token=[2],
        chat_template_kwargs={"enable_thinking": False},
    )
    module_emu.reset()
    model.invoke("Hello!")
    list(model.stream("Hello!"))
    tools = model.bind_tools([get_weather], tool_choice="auto", parallel_tool_calls=True)
    ai = tools.invoke("What is the weather in 'Taipei'?")
    history = [HumanMessage("What is the weather in 'Taipei'?"), ai]
    history += [ToolMessage("sunny", tool_call_id=c["id"]) for c in ai.tool_calls]
    tools.invoke(history)
    model.with_structured_output(
        WEATHER["function"]["parameters"] | {"title": "City"}, method="json_schema"
    ).invoke("Tell me about 'Taipei'.")
    model.invoke([HumanMessage("hi"), AIMessage("Hello"), HumanMessage("again")])
    bodies = [r.json for r in module_emu.requests]
    assert len(bodies) == 6
    for body in bodies:
        gaps = schema_gaps(fm.ServerlessChatCompletionBody, body)
        assert set(gaps) <= SDK_SCHEMA_ALLOWLIST | CLIENT_EXTRAS, (gaps, body)


def test_reasoning_effort_values_are_the_sdk_enums() -> None:
    """Our allowed ``reasoning_effort`` values are exactly every SDK chat body's enum."""
    from typing import get_args

    from friendli.core.models import (
        containerchatcompletionbody,
        dedicatedchatcompletionbody,
        serverlesschatcompletionbody,
        serverlesschatcompletionstreambody,
    )

    from langchain_ffm_friendli.friendli._protocol import REASONING_EFFORTS

    for enum in (
        serverlesschatcompletionbody.ServerlessChatCompletionBodyReasoningEffort,
        serverlesschatcompletionstreambody.ServerlessChatCompletionStreamBodyReasoningEffort,
        dedicatedchatcompletionbody.DedicatedChatCompletionBodyReasoningEffort,
        containerchatcompletionbody.ContainerChatCompletionBodyReasoningEffort,
    ):
        assert get_args(enum) == REASONING_EFFORTS
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(ValueError, match="reasoning_effort"):
        fm.ServerlessChatCompletionBody.model_validate(body | {"reasoning_effort": "huge"})


def test_chat_friendli_reasoning_and_media_bodies_validate_against_the_sdk(emu: Emulator) -> None:
    """Reasoning fields, replayed ``reasoning_content`` and media parts are SDK fields.

    SDK 0.16.5: ``ServerlessChatCompletionBody.reasoning_effort`` (enum),
    ``reasoning_budget`` (int), ``parse_reasoning`` / ``include_reasoning`` (bool);
    ``AssistantMessage.reasoning_content``; ``UserMessage.content`` parts
    ``ImageContent`` / ``AudioContent`` / ``VideoContent`` (``{"url": ...}``).
    """
    vision = ChatFriendli(
        model="zai-org/GLM-5.3-Flash",
        base_url=emu.friendli_base_url,
        api_key=emu.api_key,
        reasoning_effort="high",
        reasoning_budget=256,
        parse_reasoning=True,
        include_reasoning=True,
    )
    emu.reset()
    emu.queue(Reply(text="42.", reasoning="Six times seven."))
    first = vision.invoke("6*7?")
    assert first.additional_kwargs["reasoning_content"] == "Six times seven."
    picture = HumanMessage(
        content=[
            {"type": "text", "text": "And these?"},
            {"type": "image", "base64": "iVBORw0KGgo=", "mime_type": "image/png"},
            {"type": "image", "url": "https://example.com/cat.png"},
            {"type": "image_url", "image_url": {"url": "https://example.com/dog.png"}},
            {"type": "video", "url": "https://example.com/clip.mp4"},
        ]
    )
    history = [HumanMessage("6*7?"), first, picture]
    vision.invoke(history, reasoning_effort="minimal")
    list(vision.stream(history, include_reasoning=False))
    dedicated = ChatFriendli(
        model="ep-omni", base_url=emu.friendli_dedicated_base_url, api_key=emu.api_key
    )
    dedicated.invoke([HumanMessage(content=[{"type": "audio", "url": "https://x/a.wav"}])])
    bodies = [r.json for r in emu.requests]
    assert len(bodies) == 4
    assert bodies[1]["messages"][1]["reasoning_content"] == "Six times seven."
    assert [p["type"] for p in bodies[1]["messages"][2]["content"]] == [
        "text",
        "image_url",
        "image_url",
        "image_url",
        "video_url",
    ]
    assert bodies[3]["messages"][0]["content"][0]["type"] == "audio_url"
    for body in bodies:
        gaps = schema_gaps(fm.ServerlessChatCompletionBody, body)
        assert gaps == [], (gaps, body)
    parsed = fm.ServerlessChatCompletionBody.model_validate(bodies[1])
    assert parsed.reasoning_effort == "minimal"
    assert parsed.reasoning_budget == 256
    assert isinstance(parsed.messages[1], fm.AssistantMessage)
    assert parsed.messages[1].reasoning_content == "Six times seven."
    content = parsed.messages[2].content
    assert isinstance(content, list)
    assert [type(p).__name__ for p in content] == [
        "TextContent",
        "ImageContent",
        "ImageContent",
        "ImageContent",
        "VideoContent",
    ]
    assert (
        fm.DedicatedChatCompletionBody.model_validate(bodies[3])
        .messages[0]
        .content[0]
        .audio_url.url
        == "https://x/a.wav"
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "params",
    [
        {
            "temperature": 0.7,
            "top_p": 0.9,
            "top_k": 5,
            "min_p": 0.1,
            "max_tokens": 16,
            "n": 2,
            "seed": [1, 2],
            "stop": ["\n"],
            "frequency_penalty": 0.1,
            "presence_penalty": 0.1,
            "repetition_penalty": 1.1,
            "logprobs": 2,
            "no_repeat_ngram": 3,
            "bad_words": ["bad"],
            "eos_token": [2],
        },
        {
            "num_beams": 2,
            "beam_search_type": "DETERMINISTIC",
            "length_penalty": 1.2,
            "early_stopping": True,
            "max_tokens": 16,
            "timeout_microseconds": 10_000_000,
        },
    ],
    ids=["sampling", "beam_search"],
)
def test_friendli_llm_request_bodies_validate_against_the_sdk(
    module_emu: Emulator, params: dict[str, Any]
) -> None:
    llm = FriendliLLM(
        model=MODEL, base_url=module_emu.friendli_base_url, api_key=module_emu.api_key, **params
    )
    module_emu.reset()
    llm.invoke("Once upon a time")
    if "num_beams" not in params:  # protocols/friendli.md §4.5: beam search cannot stream
        list(llm.stream("Once upon a time", n=1, seed=1))  # a stream is one generation
    for recorded in module_emu.requests:
        assert recorded.route == "friendli.completions"
        gaps = schema_gaps(fm.CompletionsServerlessBodyWithPrompt, recorded.json)
        assert set(gaps) <= SDK_SCHEMA_ALLOWLIST, (gaps, recorded.json)
    if "num_beams" in params:
        assert set(gaps) == {"num_beams", "beam_search_type", "length_penalty"} | {
            "early_stopping",
            "timeout_microseconds",
        }


# --------------------------------------------------------------------------- openai SDK


@pytest.mark.parametrize("route", ["friendli", "monsterapi"])
def test_openai_sdk_streams_with_usage_and_tools(module_emu: Emulator, route: str) -> None:
    base = module_emu.friendli_base_url if route == "friendli" else module_emu.monsterapi_base_url
    model = MODEL if route == "friendli" else MONSTER_MODEL
    client = openai.OpenAI(base_url=base, api_key=module_emu.api_key, max_retries=0)
    messages: Any = [{"role": "user", "content": "The weather in 'Taipei' and in 'Tokyo'?"}]
    stream = client.chat.completions.create(
        model=model,
        messages=messages,
        tools=[WEATHER],  # type: ignore[list-item]
        stream=True,
        stream_options={"include_usage": True},
    )
    calls: dict[int, dict[str, str]] = {}
    chunks = list(stream)
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"name": "", "arguments": ""})
                if delta.function and delta.function.name:
                    call["name"] = delta.function.name
                if delta.function and delta.function.arguments:
                    call["arguments"] += delta.function.arguments
    assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [
        ("get_weather", {"city": "Taipei"}),
        ("get_weather", {"city": "Tokyo"}),
    ]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    whole = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER])  # type: ignore[list-item]
    assert whole.usage is not None
    assert whole.usage.total_tokens == chunks[-1].usage.total_tokens


def test_openai_sdk_text_completions_stream_with_usage(module_emu: Emulator) -> None:
    client = openai.OpenAI(
        base_url=module_emu.friendli_base_url, api_key=module_emu.api_key, max_retries=0
    )
    stream = client.completions.create(
        model=MODEL,
        prompt="Once upon a time",
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.text for chunk in chunks for c in chunk.choices)
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 8


def test_openai_sdk_sees_unknown_models_as_not_found(module_emu: Emulator) -> None:
    messages: Any = [{"role": "user", "content": "hi"}]
    client = openai.OpenAI(
        base_url=module_emu.friendli_base_url, api_key=module_emu.api_key, max_retries=0
    )
    with pytest.raises(openai.NotFoundError) as friendli:
        client.chat.completions.create(model="no-such-model", messages=messages)
    assert friendli.value.body == {"detail": "Model 'no-such-model' not found."}
    client = openai.OpenAI(
        base_url=module_emu.monsterapi_base_url, api_key=module_emu.api_key, max_retries=0
    )
    with pytest.raises(openai.NotFoundError, match="does not exist"):  # vLLM's error object
        client.chat.completions.create(model="no-such-model", messages=messages)


# ----------------------------------------------------------------- vLLM's stream reader


def vllm_get_streaming_response(response: requests.Response) -> Iterable[list[str]]:
    """vLLM's example client, ``examples/api_client.py`` (vLLM 0.5.3-0.6.2), verbatim logic.

    MonsterAPI's Generate page quotes this loop (protocols/monsterapi.md §0.3); vLLM's
    ``entrypoints/api_server.py`` of those versions writes
    ``(json.dumps({"text": text_outputs}) + "\\0").encode()``.
    """
    for chunk in response.iter_lines(chunk_size=8192, decode_unicode=False, delimiter=b"\0"):
        if chunk:
            data = json.loads(chunk.decode("utf-8"))
            output = data["text"]
            yield output


def vllm_post_http_request(
    emu: Emulator, prompt: str, n: int, *, stream: bool
) -> requests.Response:
    """vLLM's example ``post_http_request`` plus the ``model`` and key MonsterAPI needs."""
    headers = {"User-Agent": "Test Client", "Authorization": f"Bearer {emu.api_key}"}
    pload = {
        "model": MONSTER_MODEL,
        "prompt": prompt,
        "n": n,
        "use_beam_search": True,
        "best_of": max(n, 2),
        "temperature": 0.0,
        "max_tokens": 16,
        "stream": stream,
    }
    return requests.post(
        emu.monsterapi_base_url + "/generate",
        headers=headers,
        json=pload,
        stream=stream,
        timeout=10,
    )


@pytest.mark.parametrize("n", [1, 2])
def test_vllm_example_client_reads_the_monsterapi_stream(module_emu: Emulator, n: int) -> None:
    prompt = "台北 weather?"
    outputs = list(
        vllm_get_streaming_response(vllm_post_http_request(module_emu, prompt, n, stream=True))
    )
    assert len(outputs) > 2
    assert all(len(texts) == n for texts in outputs)
    assert all(text.startswith(prompt) for texts in outputs for text in texts)  # the echo
    final = vllm_post_http_request(module_emu, prompt, n, stream=False).json()["response"]["text"]
    assert outputs[-1] == final


def test_mixed_records_fault_breaks_vllm_but_not_our_client(module_emu: Emulator) -> None:
    module_emu.queue(Fault.mixed_records())
    with pytest.raises((KeyError, TypeError)):
        list(vllm_get_streaming_response(vllm_post_http_request(module_emu, "hi", 1, stream=True)))
    chat = ChatMonsterAPI(
        model=MONSTER_MODEL, base_url=module_emu.monsterapi_base_url, api_key=module_emu.api_key
    )
    module_emu.queue(Fault.mixed_records(reply=Reply(text="台北 is sunny today.")))
    assert "".join(str(c.content) for c in chat.stream("hi")) == "台北 is sunny today."
    assert module_emu.pending == 0

"""Reasoning and media over loopback: ChatFriendli's reasoning fields and replay, media parts.

The exact wire is read from ``emu.requests[-1].json``; the friendli SDK's request models
validate those bodies in test_emulator_vendor_clients.py. ChatFFM and ChatMonsterAPI
take text only: images are refused naming the provider before any request, and an
assistant turn's reasoning is left off their wire (it is not part of the prompt there).
"""

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from pydantic import ValidationError

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from langchain_ffm_friendli.errors import InvalidParameterError
from langchain_ffm_friendli.testing import Emulator, Reply

MODEL = "meta-llama-3.1-8b-instruct"
VISION = "google/gemma-4-31B-it"
REASONER = "deepseek-ai/DeepSeek-R1-0528"
PNG = "iVBORw0KGgo="
URL = "https://example.com/cat.png"


def friendli(emu: Emulator, model: str = MODEL, **kw: Any) -> ChatFriendli:
    return ChatFriendli(model=model, base_url=emu.friendli_base_url, api_key=emu.api_key, **kw)


def merged(chunks: Iterator[AIMessageChunk]) -> AIMessageChunk:
    total: AIMessageChunk | None = None
    for chunk in chunks:
        total = chunk if total is None else total + chunk
    assert total is not None
    return total


def picture(*blocks: dict[str, Any]) -> HumanMessage:
    return HumanMessage(content=[{"type": "text", "text": "What is this?"}, *blocks])


# ------------------------------------------------------------------------ reasoning fields


def test_reasoning_fields_go_on_the_wire_from_init_and_per_call(emu: Emulator) -> None:
    llm = friendli(emu, REASONER, reasoning_effort="high", reasoning_budget=512)
    llm.invoke("6*7?", parse_reasoning=True, include_reasoning=False, reasoning_effort="low")
    body = emu.requests[-1].json
    assert body["reasoning_effort"] == "low"
    assert body["reasoning_budget"] == 512
    assert body["parse_reasoning"] is True
    assert body["include_reasoning"] is False
    list(llm.stream("6*7?"))
    assert emu.requests[-1].json["reasoning_effort"] == "high"
    assert "parse_reasoning" not in emu.requests[-1].json  # unset fields are omitted
    assert llm._identifying_params["reasoning_effort"] == "high"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reasoning_effort", "huge"),
        ("reasoning_budget", 0),
        ("reasoning_budget", -5),
        ("parse_reasoning", "sometimes"),
    ],
)
def test_bad_reasoning_values_fail_at_init_naming_the_field(
    emu: Emulator, field: str, value: Any
) -> None:
    with pytest.raises(ValidationError, match=field):
        friendli(emu, REASONER, **{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reasoning_effort", "HIGH"),
        ("reasoning_budget", 0),
        ("include_reasoning", "no"),
    ],
)
def test_bad_reasoning_values_per_call_fail_before_any_request(
    emu: Emulator, field: str, value: Any
) -> None:
    llm = friendli(emu, REASONER)
    with pytest.raises(InvalidParameterError) as info:
        llm.invoke("hi", **{field: value})
    assert info.value.field == field
    with pytest.raises(InvalidParameterError):
        list(llm.stream("hi", **{field: value}))
    assert emu.requests == []


# ------------------------------------------------------------------------ reasoning output


def test_invoke_reasoning_becomes_reasoning_content_and_a_reasoning_block(emu: Emulator) -> None:
    emu.queue(Reply(text="42.", reasoning="Six times seven."))
    msg = friendli(emu, REASONER).invoke("6*7?")
    assert msg.content == "42."
    assert msg.additional_kwargs["reasoning_content"] == "Six times seven."
    assert msg.content_blocks == [
        {"type": "reasoning", "reasoning": "Six times seven."},
        {"type": "text", "text": "42."},
    ]


def test_stream_reasoning_is_aggregated_into_one_reasoning_block(emu: Emulator) -> None:
    emu.queue(Reply(text="42.", reasoning="Six times seven."))
    full = merged(friendli(emu, REASONER).stream("6*7?"))
    assert full.content == "42."
    assert full.additional_kwargs["reasoning_content"] == "Six times seven."
    kinds = [b["type"] for b in full.content_blocks]
    assert kinds == ["reasoning", "text"]
    assert full.content_blocks[0]["reasoning"] == "Six times seven."  # type: ignore[typeddict-item]


async def test_astream_reasoning(emu: Emulator) -> None:
    emu.queue(Reply(text="42.", reasoning="Six times seven."))
    total: AIMessageChunk | None = None
    async for chunk in friendli(emu, REASONER).astream("6*7?"):
        total = chunk if total is None else total + chunk
    assert total is not None
    assert total.additional_kwargs["reasoning_content"] == "Six times seven."


# ------------------------------------------------------------------------ reasoning replay


def history_with(ai: AIMessage) -> list[BaseMessage]:
    return [HumanMessage("6*7?"), ai, HumanMessage("And 6*8?")]


def test_friendli_replays_reasoning_as_reasoning_content(emu: Emulator) -> None:
    emu.queue(Reply(text="42.", reasoning="Six times seven."))
    llm = friendli(emu, REASONER)
    first = llm.invoke("6*7?")
    llm.invoke(history_with(first))
    assert emu.requests[-1].json["messages"][1] == {
        "role": "assistant",
        "content": "42.",
        "reasoning_content": "Six times seven.",
    }
    streamed = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "Six eights."},
            {"type": "text", "text": "48."},
        ]
    )
    list(llm.stream(history_with(streamed)))
    assert emu.requests[-1].json["messages"][1] == {
        "role": "assistant",
        "content": "48.",
        "reasoning_content": "Six eights.",
    }


def test_text_only_providers_leave_reasoning_off_the_wire(emu: Emulator) -> None:
    ai = AIMessage(
        content=[{"type": "reasoning", "reasoning": "hmm"}, {"type": "text", "text": "42."}],
        additional_kwargs={"reasoning_content": "hmm"},
    )
    ffm = ChatFFM(model="llama3.3-ffm-70b-32k-chat", base_url=emu.ffm_base_url, api_key=emu.api_key)
    ffm.invoke(history_with(ai))
    assert emu.requests[-1].json["messages"][1] == {"role": "assistant", "content": "42."}
    monster = ChatMonsterAPI(
        model="meta-llama/Meta-Llama-3.1-8B-Instruct",
        base_url=emu.monsterapi_base_url,
        api_key=emu.api_key,
    )
    monster.invoke(history_with(ai))
    assert emu.requests[-1].json["messages"][1] == {"role": "assistant", "content": "42."}
    assert "hmm" not in str(emu.requests[-1].json)


# ------------------------------------------------------------------------ images and media


def test_image_blocks_become_friendli_image_url_parts(emu: Emulator) -> None:
    llm = friendli(emu, VISION)
    msg = llm.invoke(
        [
            picture(
                {"type": "image", "base64": PNG, "mime_type": "image/png"},
                {"type": "image", "url": URL},
                {"type": "image", "source_type": "url", "url": URL},
                {"type": "image_url", "image_url": {"url": URL, "detail": "high"}},
            )
        ]
    )
    assert "(I received 4 images.)" in str(msg.content)
    assert emu.requests[-1].json["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "image_url", "image_url": {"url": URL}},
                {"type": "image_url", "image_url": {"url": URL}},
                {"type": "image_url", "image_url": {"url": URL}},
            ],
        }
    ]
    full = merged(llm.stream([picture({"type": "image", "url": URL})]))
    assert "(I received 1 image.)" in str(full.content)


def test_video_and_audio_parts(emu: Emulator) -> None:
    flash = friendli(emu, "zai-org/GLM-5.3-Flash")  # profile: text, image, video
    flash.invoke([picture({"type": "video", "url": "https://x/clip.mp4"})])
    assert emu.requests[-1].json["messages"][0]["content"][1] == {
        "type": "video_url",
        "video_url": {"url": "https://x/clip.mp4"},
    }
    with pytest.raises(InvalidParameterError, match="does not accept audio input") as info:
        flash.invoke([picture({"type": "audio", "url": "https://x/a.wav"})])
    assert info.value.field == "messages[0].content[1]"
    # A dedicated endpoint is the user's own deployment: nothing is assumed about it.
    dedicated = ChatFriendli(
        model="ep-omni", base_url=emu.friendli_dedicated_base_url, api_key=emu.api_key
    )
    dedicated.invoke([picture({"type": "audio", "base64": "UklG", "mime_type": "audio/wav"})])
    assert emu.requests[-1].json["messages"][0]["content"][1] == {
        "type": "audio_url",
        "audio_url": {"url": "data:audio/wav;base64,UklG"},
    }


def test_a_documented_text_model_refuses_images_before_sending(emu: Emulator) -> None:
    llm = friendli(emu, MODEL)
    with pytest.raises(InvalidParameterError, match="does not accept image input") as info:
        llm.invoke([HumanMessage("hi"), picture({"type": "image", "url": URL})])
    assert info.value.field == "messages[1].content[1]"
    assert VISION in str(info.value)
    with pytest.raises(InvalidParameterError):
        list(llm.stream([picture({"type": "image", "url": URL})]))
    with pytest.raises(InvalidParameterError):  # a per-call model is checked too
        friendli(emu, VISION).invoke([picture({"type": "image", "url": URL})], model=MODEL)
    assert emu.requests == []


def test_images_outside_user_messages_and_bad_blocks_are_refused(emu: Emulator) -> None:
    llm = friendli(emu, VISION)
    with pytest.raises(InvalidParameterError, match="in system messages"):
        llm.invoke([("system", [{"type": "image", "url": URL}]), ("human", "hi")])
    # langchain-core's tracing formatter already refuses this one (a ValueError, as ours is).
    with pytest.raises(ValueError, match="mime_type"):
        llm.invoke([picture({"type": "image", "base64": PNG})])
    with pytest.raises(InvalidParameterError, match="file id"):
        llm.invoke([picture({"type": "image", "file_id": "file-abc"})])
    assert emu.requests == []


@pytest.mark.parametrize("provider", ["ffm", "monsterapi"])
def test_text_only_providers_refuse_images_naming_the_provider(
    emu: Emulator, provider: str
) -> None:
    llm: ChatFFM | ChatMonsterAPI
    if provider == "ffm":
        llm = ChatFFM(
            model="llama3.3-ffm-70b-32k-chat", base_url=emu.ffm_base_url, api_key=emu.api_key
        )
    else:
        llm = ChatMonsterAPI(
            model="meta-llama/Meta-Llama-3.1-8B-Instruct",
            base_url=emu.monsterapi_base_url,
            api_key=emu.api_key,
        )
    for block in (
        {"type": "image", "url": URL},
        {"type": "image", "base64": PNG, "mime_type": "image/png"},
        {"type": "image_url", "image_url": {"url": URL}},
    ):
        with pytest.raises(InvalidParameterError, match=f"{provider} does not accept image"):
            llm.invoke([picture(block)])
        with pytest.raises(InvalidParameterError):
            list(llm.stream([picture(block)]))
    assert emu.requests == []
    llm.invoke([HumanMessage(content=[{"type": "text", "text": "plain "}, "text"])])
    assert emu.requests[-1].json["messages"][-1]["content"] == "plain text"

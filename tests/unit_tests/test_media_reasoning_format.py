"""Media parts and reasoning replay in the shared OpenAI-style conversion (_openai.messages).

Friendli takes ``image_url`` / ``audio_url`` / ``video_url`` user parts and an assistant
``reasoning_content`` (protocols/friendli.md §2.2; friendli SDK 0.16.5 ``UserMessage``,
``ImageContent``/``AudioContent``/``VideoContent``, ``AssistantMessage``). FFM and
MonsterAPI take text only (protocols/ffm.md §1.3, protocols/monsterapi.md §5): media is
refused naming the provider and reasoning is left off the wire.
"""

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from langchain_ffm_friendli._openai.messages import (
    content_to_parts,
    content_to_text,
    media_part,
    media_url,
    message_to_dict,
    messages_to_dicts,
    reasoning_text,
)
from langchain_ffm_friendli.errors import InvalidParameterError

URL = "https://example.com/cat.png"
FIELD = "messages[user].content[0]"


def part(kind: str, url: str) -> dict[str, Any]:
    return {"type": kind, kind: {"url": url}}


# ------------------------------------------------------------------------ media blocks


@pytest.mark.parametrize(
    ("block", "wire"),
    [
        ({"type": "image", "url": URL}, part("image_url", URL)),
        (
            {"type": "image", "base64": "aGk=", "mime_type": "image/png"},
            part("image_url", "data:image/png;base64,aGk="),
        ),
        ({"type": "image", "source_type": "url", "url": URL}, part("image_url", URL)),
        (
            {"type": "image", "source_type": "base64", "data": "aGk=", "mime_type": "image/jpeg"},
            part("image_url", "data:image/jpeg;base64,aGk="),
        ),
        (
            {"type": "image", "url": "data:image/gif;base64,R0"},
            part("image_url", "data:image/gif;base64,R0"),
        ),
        ({"type": "image_url", "image_url": {"url": URL, "detail": "low"}}, part("image_url", URL)),
        ({"type": "image_url", "image_url": URL}, part("image_url", URL)),
        ({"type": "audio", "url": "https://x/a.wav"}, part("audio_url", "https://x/a.wav")),
        (
            {"type": "audio", "base64": "UklG", "mime_type": "audio/wav"},
            part("audio_url", "data:audio/wav;base64,UklG"),
        ),
        ({"type": "video", "url": "https://x/v.mp4"}, part("video_url", "https://x/v.mp4")),
        (
            {"type": "audio_url", "audio_url": {"url": "https://x/a"}},
            part("audio_url", "https://x/a"),
        ),
        (
            {"type": "video_url", "video_url": {"url": "https://x/v"}},
            part("video_url", "https://x/v"),
        ),
    ],
    ids=[
        "image-url",
        "image-base64",
        "legacy-url",
        "legacy-base64",
        "data-url",
        "openai-image_url-detail-dropped",
        "openai-image_url-string",
        "audio-url",
        "audio-base64",
        "video-url",
        "openai-audio_url",
        "openai-video_url",
    ],
)
def test_media_blocks_become_url_parts(block: dict[str, Any], wire: dict[str, Any]) -> None:
    assert media_part(block, provider="friendli", field=FIELD) == wire


@pytest.mark.parametrize(
    ("block", "rule"),
    [
        ({"type": "image", "base64": "aGk="}, "mime_type"),
        ({"type": "image", "base64": "aGk=", "mime_type": "png"}, "mime_type"),
        ({"type": "image", "file_id": "file-1"}, "file id"),
        ({"type": "image", "source_type": "id", "id": "file-1"}, "source_type='id'"),
        ({"type": "image"}, "needs a url or base64"),
        ({"type": "image", "url": ""}, "needs a url or base64"),
    ],
)
def test_media_blocks_without_a_usable_source_name_the_block(
    block: dict[str, Any], rule: str
) -> None:
    with pytest.raises(InvalidParameterError, match=rule) as info:
        media_url(block, provider="friendli", field=FIELD)
    assert info.value.field == FIELD


def test_openai_part_without_a_url_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match=r"image_url=\{'url'"):
        media_part({"type": "image_url", "image_url": {}}, provider="friendli", field=FIELD)


def test_all_text_content_stays_a_string_and_media_keeps_the_order() -> None:
    text_only = ["a", {"type": "text", "text": "b"}, {"type": "reasoning", "reasoning": "x"}]
    assert content_to_parts(text_only, provider="friendli") == "ab"
    assert content_to_parts("plain", provider="friendli") == "plain"
    mixed = [{"type": "text", "text": "look"}, {"type": "image", "url": URL}, "and this"]
    assert content_to_parts(mixed, provider="friendli") == [
        {"type": "text", "text": "look"},
        part("image_url", URL),
        {"type": "text", "text": "and this"},
    ]


def test_non_media_blocks_are_refused_on_a_media_provider() -> None:
    with pytest.raises(InvalidParameterError, match="'file' is not supported by friendli"):
        content_to_parts([{"type": "file", "url": "https://x/a.pdf"}], provider="friendli")


def test_media_provider_puts_parts_in_user_messages_only() -> None:
    human = HumanMessage(content=[{"type": "text", "text": "hi"}, {"type": "image", "url": URL}])
    out = message_to_dict(human, provider="friendli", media=True)
    assert out == {
        "role": "user",
        "content": [{"type": "text", "text": "hi"}, part("image_url", URL)],
    }
    system = SystemMessage(content=[{"type": "image", "url": URL}])
    with pytest.raises(InvalidParameterError, match="in system messages") as info:
        message_to_dict(system, provider="friendli", media=True)
    assert info.value.field == "messages[system].content"
    ai = AIMessage(content=[{"type": "image", "url": URL}])
    with pytest.raises(InvalidParameterError, match="in assistant messages"):
        message_to_dict(ai, provider="friendli", media=True)


@pytest.mark.parametrize("provider", ["ffm", "monsterapi"])
@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "url": URL},
        {"type": "image", "base64": "aGk=", "mime_type": "image/png"},
        {"type": "image_url", "image_url": {"url": URL}},
    ],
)
def test_text_only_providers_refuse_images_naming_the_provider(
    provider: str, block: dict[str, Any]
) -> None:
    message = HumanMessage(content=[{"type": "text", "text": "see"}, block])
    with pytest.raises(InvalidParameterError, match=f"{provider} does not accept image") as info:
        messages_to_dicts([message], provider=provider)
    assert info.value.provider == provider
    assert info.value.field == "messages[user].content"


def test_text_only_providers_keep_joining_text_blocks() -> None:
    content = ["a", {"type": "text", "text": "b"}, {"type": "tool_use", "id": "t"}]
    assert content_to_text(content, provider="ffm", role="user") == "ab"
    message = HumanMessage(content=[{"type": "text", "text": "x"}])
    assert message_to_dict(message, provider="friendli", media=True)["content"] == "x"
    with pytest.raises(
        InvalidParameterError, match=r"'file' is not supported by ffm \(text only\)"
    ):
        content_to_text([{"type": "file", "url": "u"}], provider="ffm", role="user")


# ------------------------------------------------------------------------ reasoning


def test_reasoning_text_from_additional_kwargs_or_blocks() -> None:
    assert reasoning_text(AIMessage("a", additional_kwargs={"reasoning_content": "r"})) == "r"
    assert reasoning_text(AIMessage("a")) is None
    blocks = AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "one "},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "two "}]},
            {"type": "thinking", "thinking": "three", "signature": "s"},
            {"type": "text", "text": "answer"},
            "bare",
        ]
    )
    assert reasoning_text(blocks) == "one two three"
    assert reasoning_text(AIMessage(content=[{"type": "text", "text": "t"}])) is None


def test_reasoning_is_replayed_only_where_the_provider_takes_it() -> None:
    ai = AIMessage("42.", additional_kwargs={"reasoning_content": "6*7"})
    assert message_to_dict(ai, provider="friendli", reasoning=True) == {
        "role": "assistant",
        "content": "42.",
        "reasoning_content": "6*7",
    }
    # FFM / MonsterAPI: reasoning is not part of the prompt there, so it stays off the wire.
    assert message_to_dict(ai, provider="ffm") == {"role": "assistant", "content": "42."}
    blocks = AIMessage(
        content=[{"type": "reasoning", "reasoning": "hm"}, {"type": "text", "text": "x"}]
    )
    assert message_to_dict(blocks, provider="friendli", reasoning=True)["reasoning_content"] == "hm"
    assert message_to_dict(blocks, provider="monsterapi") == {"role": "assistant", "content": "x"}


def test_reasoning_rides_along_with_tool_calls() -> None:
    ai = AIMessage(
        content="",
        additional_kwargs={"reasoning_content": "call it"},
        tool_calls=[{"name": "w", "args": {}, "id": "c1", "type": "tool_call"}],
    )
    out = message_to_dict(ai, provider="friendli", reasoning=True)
    assert out["content"] is None
    assert out["reasoning_content"] == "call it"
    assert out["tool_calls"][0]["id"] == "c1"

"""Token estimates: CJK-aware, deterministic, and usable as a LangChain token counter."""

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    trim_messages,
)
from langchain_core.tools import tool

from langchain_ffm_friendli._tokens import (
    IMAGE_TOKENS,
    MEDIA_TOKENS,
    MESSAGE_OVERHEAD_TOKENS,
    TOOL_CALL_OVERHEAD_TOKENS,
    estimate_message_tokens,
    estimate_tokens,
    truncate_to_tokens,
)
from langchain_ffm_friendli.ffm import _protocol as ffm_proto

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
TEXT = st.text(max_size=200)
MIXED = st.text(
    alphabet=st.sampled_from(
        list("abcdefgh XYZ0123456789.,!?_-\n台北天氣如何，。はカ한글éßПривет😀１")
    ),
    max_size=120,
)


def test_empty_and_blank_texts_cost_nothing() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens(" \n\t\u3000") == 0
    assert estimate_message_tokens([]) == 0


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("台北現在天氣如何", 8),  # one per Traditional Chinese character
        ("台北現在天氣如何？", 9),  # fullwidth punctuation is one
        ("こんにちは", 5),
        ("abcd", 1),  # ~4 Latin letters per token
        ("internationalization", 5),
        ("Hello, world!", 6),
        ("2024", 2),  # digits in groups of up to three
        ("1234567", 3),
        ("Python程式設計", 6),  # Latin and CJK are counted apart
        ("Привет", 3),  # other scripts: ~2 letters per token
    ],
)
def test_examples(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


@given(st.text(alphabet=CJK, max_size=300))
@settings(max_examples=200)
def test_cjk_text_counts_its_characters(text: str) -> None:
    assert estimate_tokens(text) == len(text)
    spaced = " ".join(text)
    assert estimate_tokens(spaced) == len(text)


@given(st.one_of(TEXT, MIXED), st.one_of(TEXT, MIXED))
@settings(max_examples=200)
def test_concatenation_is_additive_within_one_token(a: str, b: str) -> None:
    joined = estimate_tokens(a + b)
    assert estimate_tokens(a) + estimate_tokens(b) - 1 <= joined
    assert joined <= estimate_tokens(a) + estimate_tokens(b)
    assert joined >= max(estimate_tokens(a), estimate_tokens(b))


@given(st.one_of(TEXT, MIXED))
@settings(max_examples=300)
def test_conservative_errs_high_and_covers_the_embeddings_estimate(text: str) -> None:
    high = estimate_tokens(text, conservative=True)
    assert high >= estimate_tokens(text)
    # The FFM embeddings batching estimate may delegate here without shrinking.
    assert max(1, high) >= ffm_proto.estimate_tokens(text)


@given(st.one_of(TEXT, MIXED), st.integers(min_value=0, max_value=60))
@settings(max_examples=300)
def test_truncation_keeps_the_longest_fitting_prefix(text: str, limit: int) -> None:
    cut = truncate_to_tokens(text, limit)
    assert text.startswith(cut)
    assert estimate_tokens(cut) <= limit
    if cut != text:
        assert estimate_tokens(text[: len(cut) + 1]) > limit


def test_estimates_are_deterministic() -> None:
    text = "FFM 使用者以繁體中文撰寫 prompts, 例如 2024 年的報告。"
    assert len({estimate_tokens(text) for _ in range(5)}) == 1


def test_each_message_costs_its_overhead_and_text() -> None:
    messages = [SystemMessage("你是助理"), HumanMessage("台北天氣?")]
    assert estimate_message_tokens(messages) == 2 * MESSAGE_OVERHEAD_TOKENS + 4 + 5


def test_message_like_inputs_are_accepted() -> None:
    as_objects = estimate_message_tokens([HumanMessage("hello there")])
    assert estimate_message_tokens([("user", "hello there")]) == as_objects
    assert estimate_message_tokens([{"role": "user", "content": "hello there"}]) == as_objects


def test_images_cost_a_fixed_amount_whatever_their_size() -> None:
    small = base64.b64encode(b"x" * 10).decode()
    large = base64.b64encode(b"x" * 100_000).decode()

    def with_image(data: str) -> HumanMessage:
        return HumanMessage(
            content_blocks=[
                {"type": "text", "text": "describe"},
                {"type": "image", "base64": data, "mime_type": "image/png"},
            ]
        )

    text_only = estimate_message_tokens([HumanMessage("describe")])
    assert estimate_message_tokens([with_image(small)]) == text_only + IMAGE_TOKENS
    assert estimate_message_tokens([with_image(large)]) == text_only + IMAGE_TOKENS
    openai_style = HumanMessage(
        content=[{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{large}"}}]
    )
    assert estimate_message_tokens([openai_style]) == MESSAGE_OVERHEAD_TOKENS + IMAGE_TOKENS
    audio = HumanMessage(content=[{"type": "audio", "url": "https://example.com/a.mp3"}])
    assert estimate_message_tokens([audio]) == MESSAGE_OVERHEAD_TOKENS + MEDIA_TOKENS


def test_tool_calls_count_their_name_and_arguments_once() -> None:
    call = {"name": "get_weather", "args": {"location": "台北"}, "id": "call_0"}
    plain = estimate_message_tokens([AIMessage("")])
    with_call = estimate_message_tokens([AIMessage("", tool_calls=[call])])
    expected = TOOL_CALL_OVERHEAD_TOKENS + estimate_tokens('get_weather {"location":"台北"}')
    assert with_call == plain + expected
    # v1 content carrying the same call as a block is not counted twice.
    v1 = AIMessage(
        content=[
            {"type": "tool_call", "id": "call_0", "name": "get_weather", "args": call["args"]}
        ],
        tool_calls=[call],
    )
    assert estimate_message_tokens([v1]) == with_call


def test_tool_messages_count_content_and_call_id() -> None:
    message = ToolMessage('{"temperature": 28}', tool_call_id="call_0")
    assert estimate_message_tokens([message]) == (
        MESSAGE_OVERHEAD_TOKENS + estimate_tokens('{"temperature": 28}') + estimate_tokens("call_0")
    )


def test_reasoning_blocks_count() -> None:
    thinking = AIMessage(content=[{"type": "reasoning", "reasoning": "先想一想"}])
    assert estimate_message_tokens([thinking]) == MESSAGE_OVERHEAD_TOKENS + 4


def test_tool_schemas_add_to_the_count() -> None:
    @tool
    def get_weather(location: str) -> str:
        """Get the current weather for a city."""
        return location

    messages = [HumanMessage("weather?")]
    assert estimate_message_tokens(messages, tools=[get_weather]) > estimate_message_tokens(
        messages
    ) + estimate_tokens("Get the current weather for a city.")


def test_works_as_trim_messages_token_counter() -> None:
    history = [SystemMessage("你是一個有幫助的助理")]
    for i in range(20):
        history += [
            HumanMessage(f"第{i}個問題：台北的天氣如何？"),
            AIMessage(f"第{i}個回答：晴天。"),
        ]
    trimmed = trim_messages(
        history,
        max_tokens=100,
        token_counter=estimate_message_tokens,
        strategy="last",
        include_system=True,
        start_on="human",
    )
    assert estimate_message_tokens(trimmed) <= 100
    assert isinstance(trimmed[0], SystemMessage)
    assert trimmed[-1] == history[-1]
    assert len(trimmed) < len(history)

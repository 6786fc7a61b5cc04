"""LangChain's standard integration suite, over loopback against the emulator.

Four suites, one per chat class and structured-output route: ChatFFM, ChatFriendli
(function calling and, in a second suite, ``json_schema`` response_format) and
ChatMonsterAPI. All point at the one session-wide emulator of ``_shared``.

Capability flags are set truthfully. FFM's Conversation API is text-only (no image,
audio, video or PDF input), has tool calling with tool_choice, and gets JSON mode
through an instruction (see ChatFFM's docstring). Friendli's chat completions are
OpenAI-compatible and text only here (vision is Beta). MonsterAPI chats on
``/generate`` and runs tools and JSON on its OpenAI-compatible route.
"""

from typing import ClassVar

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from tests.integration_tests._shared import shared_emulator


class _EmulatorChatSuite(ChatModelIntegrationTests):
    """What the suites share: the session emulator, temperature 0, JSON mode, Anthropic inputs.

    A subclass names its chat class (``chat_model_class``), its model id, the emulator
    URL it talks to (an ``Emulator`` property such as ``ffm_base_url``) and the model
    that the standard ``model_override`` test switches to.
    """

    model_id: ClassVar[str]
    base_url_property: ClassVar[str]
    override_model_id: ClassVar[str]

    @property
    def chat_model_params(self) -> dict:
        emu = shared_emulator()
        return {
            "model": self.model_id,
            "base_url": getattr(emu, self.base_url_property),
            "api_key": emu.api_key,
            "temperature": 0,
        }

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return self.override_model_id


class TestChatFFMIntegration(_EmulatorChatSuite):
    """FFM's Conversation API: text only, tool calling with tool_choice, JSON by instruction."""

    chat_model_class = ChatFFM
    model_id = "llama3.3-ffm-70b-32k-chat"
    base_url_property = "ffm_base_url"
    override_model_id = "llama3.1-ffm-8b-32k-chat"


class TestChatFriendliIntegration(_EmulatorChatSuite):
    """Friendli chat completions: OpenAI-compatible, text only here (vision is Beta)."""

    chat_model_class = ChatFriendli
    model_id = "meta-llama-3.1-8b-instruct"
    base_url_property = "friendli_base_url"
    override_model_id = "meta-llama-3.3-70b-instruct"


class TestChatFriendliJsonSchemaIntegration(TestChatFriendliIntegration):
    """The same suite with structured output through Friendli's json_schema response_format."""

    @property
    def structured_output_kwargs(self) -> dict:
        return {"method": "json_schema"}


class TestChatMonsterAPIIntegration(_EmulatorChatSuite):
    """MonsterAPI: chat on /generate, tools and JSON on its OpenAI-compatible route."""

    chat_model_class = ChatMonsterAPI
    model_id = "meta-llama/Meta-Llama-3.1-8B-Instruct"
    base_url_property = "monsterapi_base_url"
    override_model_id = "google/gemma-2-9b-it"

    @pytest.mark.xfail(
        reason=(
            "MonsterAPI's /generate stream is NUL-delimited cumulative text with no token "
            "counts (the protocol notes list them as unknown) and the emulator sends none, "
            "so the streamed message has no usage_metadata; ChatMonsterAPI reports usage "
            "on invoke only."
        ),
        raises=AssertionError,
        strict=True,
    )
    def test_usage_metadata_streaming(self, model: BaseChatModel) -> None:
        super().test_usage_metadata_streaming(model)

"""LangChain's standard integration suite for ChatFFM, over loopback against the emulator.

Capability flags are set truthfully: FFM's Conversation API is text-only (no
image, audio, video or PDF input), has tool calling with tool_choice, and gets
JSON mode through an instruction (see ChatFFM's docstring).
"""

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_ffm_friendli import ChatFFM, ChatFriendli, ChatMonsterAPI
from tests.integration_tests._shared import shared_emulator


class TestChatFFMIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatFFM]:
        return ChatFFM

    @property
    def chat_model_params(self) -> dict:
        emu = shared_emulator()
        return {
            "model": "llama3.3-ffm-70b-32k-chat",
            "base_url": emu.ffm_base_url,
            "api_key": emu.api_key,
            "temperature": 0,
        }

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "llama3.1-ffm-8b-32k-chat"

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True


class TestChatFriendliIntegration(ChatModelIntegrationTests):
    """Friendli chat completions: OpenAI-compatible, text only here (vision is Beta)."""

    @property
    def chat_model_class(self) -> type[ChatFriendli]:
        return ChatFriendli

    @property
    def chat_model_params(self) -> dict:
        emu = shared_emulator()
        return {
            "model": "meta-llama-3.1-8b-instruct",
            "base_url": emu.friendli_base_url,
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
        return "meta-llama-3.3-70b-instruct"


class TestChatFriendliJsonSchemaIntegration(TestChatFriendliIntegration):
    """The same suite with structured output through Friendli's json_schema response_format."""

    @property
    def structured_output_kwargs(self) -> dict:
        return {"method": "json_schema"}


class TestChatMonsterAPIIntegration(ChatModelIntegrationTests):
    """MonsterAPI: chat on /generate, tools and JSON on its OpenAI-compatible route."""

    @property
    def chat_model_class(self) -> type[ChatMonsterAPI]:
        return ChatMonsterAPI

    @property
    def chat_model_params(self) -> dict:
        emu = shared_emulator()
        return {
            "model": "meta-llama/Meta-Llama-3.1-8B-Instruct",
            "base_url": emu.monsterapi_base_url,
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
        return "google/gemma-2-9b-it"

    @pytest.mark.xfail(
        reason=(
            "MonsterAPI's /generate stream is NUL-delimited cumulative text with no token "
            "counts (the protocol notes list them as unknown); ChatMonsterAPI reads them when a "
            "record carries them and reports usage on invoke. Not strict: a live server that "
            "sends counts passes."
        ),
        strict=False,
    )
    def test_usage_metadata_streaming(self, model: BaseChatModel) -> None:
        super().test_usage_metadata_streaming(model)

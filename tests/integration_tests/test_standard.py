"""LangChain's standard integration suite for ChatFFM, over loopback against the emulator.

Capability flags are set truthfully: FFM's Conversation API is text-only (no
image, audio, video or PDF input), has tool calling with tool_choice, and gets
JSON mode through an instruction (see ChatFFM's docstring).
"""

from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_ffm_friendli import ChatFFM
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

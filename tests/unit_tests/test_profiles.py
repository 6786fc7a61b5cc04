"""Model profiles: every documented model has a truthful one; unknown ids get a safe default."""

import re
from pathlib import Path
from typing import get_type_hints

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from langchain_ffm_friendli import _profiles
from langchain_ffm_friendli._profiles import DEFAULTS, PROFILES, known_models, model_profile
from langchain_ffm_friendli.testing._ffm import models as ffm_emulator
from langchain_ffm_friendli.testing._friendli import models as friendli_emulator
from langchain_ffm_friendli.testing._monsterapi import models as monsterapi_emulator

EMULATED = {
    "ffm": ffm_emulator.MODELS,
    "friendli": friendli_emulator.MODELS,
    "monsterapi": monsterapi_emulator.MODELS,
}
ALL = [(provider, model) for provider, table in PROFILES.items() for model in sorted(table)]
DECLARED = frozenset(get_type_hints(ModelProfile))


@pytest.mark.parametrize("provider", sorted(EMULATED))
def test_every_emulator_model_has_its_own_profile(provider: str) -> None:
    missing = EMULATED[provider] - known_models(provider)
    assert not missing
    for model in EMULATED[provider]:
        profile = model_profile(provider, model)
        assert profile["max_input_tokens"] > 0
        assert profile["text_inputs"] is True


@pytest.mark.parametrize(
    ("provider", "model", "window"),
    [
        ("ffm", "llama3.3-ffm-70b-32k-chat", 32_768),
        ("ffm", "llama3.3-ffm-70b-16k-chat", 16_384),
        ("ffm", "llama3.1-ffm-8b-32k-chat", 32_768),
        ("ffm", "llama3-ffm-8b-chat", 8_192),
        ("ffm", "taide-lx-7b-chat", 4_096),
        ("ffm", "ffm-embedding", 2_048),
        ("ffm", "ffm-embedding-v2.1", 131_072),
        ("friendli", "zai-org/GLM-5.3", 1_048_576),
        ("friendli", "meta-llama-3.1-8b-instruct", 131_072),
        ("monsterapi", "microsoft/Phi-3-mini-4k-instruct", 4_096),
        ("monsterapi", "mistralai/Mistral-7B-Instruct-v0.2", 32_768),
    ],
)
def test_context_windows_follow_the_documented_numbers(
    provider: str, model: str, window: int
) -> None:
    assert model_profile(provider, model)["max_input_tokens"] == window


@pytest.mark.parametrize(("provider", "model"), ALL)
def test_output_never_exceeds_the_window(provider: str, model: str) -> None:
    profile = model_profile(provider, model)
    assert profile.get("max_output_tokens", 0) <= profile["max_input_tokens"]


@pytest.mark.parametrize(("provider", "model"), [*ALL, *((p, None) for p in PROFILES)])
def test_structured_output_is_never_claimed(provider: str, model: str | None) -> None:
    # create_agent would send response_format together with tools (Friendli: 422).
    assert model_profile(provider, model)["structured_output"] is False


@pytest.mark.parametrize(("provider", "model"), ALL)
def test_profiles_use_only_model_profile_keys(provider: str, model: str) -> None:
    assert set(model_profile(provider, model)) <= DECLARED


def test_an_unknown_id_gets_the_provider_default() -> None:
    for provider in PROFILES:
        assert model_profile(provider, "no-such-model") == DEFAULTS[provider]
        assert model_profile(provider, None) == DEFAULTS[provider]
        assert model_profile(provider, "") == DEFAULTS[provider]
    default = model_profile("friendli", "no-such-model")
    assert default["image_inputs"] is False
    assert default["reasoning_output"] is False
    assert default["tool_calling"] is True
    assert default["max_input_tokens"] <= 8_192


def test_friendli_dedicated_ids_and_adapters_get_the_default() -> None:
    assert model_profile("friendli", "depu3n8y5ynxwk") == DEFAULTS["friendli"]
    assert model_profile("friendli", "depu3n8y5ynxwk:my-lora") == DEFAULTS["friendli"]
    # Even a serverless code with an adapter route: the adapter's base is the endpoint's.
    assert model_profile("friendli", "zai-org/GLM-5.3:adapter") == DEFAULTS["friendli"]


def test_lookup_is_case_insensitive_and_ignores_surrounding_spaces() -> None:
    assert model_profile("FFM", " Llama3.3-FFM-70B-32K-Chat ") == model_profile(
        "ffm", "llama3.3-ffm-70b-32k-chat"
    )
    assert model_profile("friendli", "ZAI-ORG/glm-5.3-flash")["image_inputs"] is True


def test_an_unknown_ffm_id_that_names_its_window_gets_that_window() -> None:
    assert model_profile("ffm", "llama3.3-ffm-70b-32k-chat-private")["max_input_tokens"] == 32_768
    assert model_profile("ffm", "my-ffm-128k")["max_input_tokens"] == 131_072
    assert (
        model_profile("ffm", "my-ffm-0k")["max_input_tokens"] == DEFAULTS["ffm"]["max_input_tokens"]
    )


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(ValueError, match="ffm, friendli, monsterapi"):
        model_profile("openai", "gpt-4o")


def test_the_result_is_a_copy_the_caller_may_mutate() -> None:
    first = model_profile("friendli", "zai-org/GLM-5.3")
    first["max_input_tokens"] = 1
    first["reasoning_effort_levels"].append("ultracode")
    again = model_profile("friendli", "zai-org/GLM-5.3")
    assert again["max_input_tokens"] == 1_048_576
    assert again["reasoning_effort_levels"] == ["low", "high", "max"]
    default = model_profile("ffm", None)
    default["tool_calling"] = False
    assert model_profile("ffm", None)["tool_calling"] is True


def test_media_only_for_documented_vision_models() -> None:
    vision = {(p, m) for p, m in ALL if model_profile(p, m)["image_inputs"]}
    assert vision == {("friendli", "google/gemma-4-31B-it"), ("friendli", "zai-org/GLM-5.3-Flash")}
    for provider, model in ALL:
        profile = model_profile(provider, model)
        assert profile["pdf_inputs"] is False
        assert profile["audio_inputs"] is False
        assert profile["image_url_inputs"] == profile["image_inputs"]


def test_reasoning_models_say_so() -> None:
    assert model_profile("friendli", "deepseek-ai/DeepSeek-R1-0528")["reasoning_output"] is True
    assert model_profile("friendli", "zai-org/GLM-5.2")["reasoning_output"] is True
    # The 2507 Instruct release is Qwen3's non-thinking variant.
    assert model_profile("friendli", "Qwen/Qwen3-235B-A22B-Instruct-2507")["reasoning_output"] is (
        False
    )
    assert not any(model_profile("ffm", m)["reasoning_output"] for m in PROFILES["ffm"])


def test_tool_support_follows_the_provider_docs() -> None:
    assert model_profile("ffm", "llama3.3-ffm-70b-32k-chat")["tool_calling"] is True
    assert model_profile("ffm", "llama3.3-ffm-70b-32k-chat")["tool_choice"] is True
    # Mixtral/Mistral only speak the legacy `functions` format.
    assert model_profile("ffm", "ffm-mixtral-8x7b-32k-instruct")["tool_calling"] is False
    # Native Meta models have no AFS tool calls.
    assert model_profile("ffm", "meta-llama3-70b")["tool_calling"] is False
    assert model_profile("ffm", "no-such-model")["tool_choice"] is False
    assert model_profile("friendli", "zai-org/GLM-5")["tool_choice"] is True
    assert model_profile("monsterapi", "google/gemma-2-9b-it")["tool_calling"] is True


def test_every_number_in_the_tables_has_a_source_comment() -> None:
    source = Path(_profiles.__file__).read_text(encoding="utf-8")
    numbers = [line for line in source.splitlines() if re.match(r"^\s+\d[\d_]*,", line)]
    assert len(numbers) > 50
    unsourced = [line for line in numbers if "#" not in line]
    # A number may carry "(limit.context)" when the line above names the source file.
    assert not unsourced


def test_summarization_middleware_accepts_a_fraction_trigger_with_a_profile() -> None:
    middleware = pytest.importorskip("langchain.agents.middleware")
    model = GenericFakeChatModel(
        messages=iter([AIMessage("summary")]),
        profile=model_profile("friendli", "zai-org/GLM-5"),
    )
    summarizer = middleware.SummarizationMiddleware(model=model, trigger=("fraction", 0.8))
    assert summarizer._get_profile_limits() == 202_752
    no_profile = GenericFakeChatModel(messages=iter([AIMessage("summary")]))
    with pytest.raises(ValueError, match="Model profile information is required"):
        middleware.SummarizationMiddleware(model=no_profile, trigger=("fraction", 0.8))


@pytest.mark.parametrize(("provider", "model"), ALL)
def test_create_agent_chooses_the_tool_strategy(provider: str, model: str) -> None:
    factory = pytest.importorskip("langchain.agents.factory")

    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    fake = GenericFakeChatModel(messages=iter([]), profile=model_profile(provider, model))
    assert factory._supports_provider_strategy(fake, tools=[lookup]) is False

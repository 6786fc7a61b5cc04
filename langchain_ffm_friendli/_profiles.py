"""Model profiles (``BaseChatModel.profile``) for FFM, Friendli and MonsterAPI models.

One entry per model id that our provider docs, protocol references or emulator document, keyed by
provider (``"ffm"``, ``"friendli"``, ``"monsterapi"``). Each number and each
capability carries a ``# source:`` comment. Source tags:

* ``protocols/ffm.md``, ``protocols/friendli.md``, ``protocols/monsterapi.md`` with a section
  number (e.g. ``protocols/ffm.md §6.1``): our protocol references in ``docs/protocols/``
  (their own evidence tags, e.g. D-PARAM, are quoted).
* ``md:<path>@<commit>``: models.dev (https://github.com/anomalyco/models.dev), the data
  set LangChain's own profiles are generated from. Its ``providers/friendli/...``
  files record what Friendli's ``GET /serverless/v1/models`` reports
  (``context_length``, ``max_completion_tokens``, input modalities, reasoning options);
  ``models/...`` files are the upstream model cards.
* ``HF <repo>``: the model card / ``config.json`` on https://huggingface.co/<repo>.

Rules applied everywhere:

* ``structured_output`` is False for every model. LangChain's ``create_agent`` picks
  ``ProviderStrategy`` when it is True and then sends ``response_format`` *together
  with* the agent's tools. Friendli answers that combination with HTTP 422 ("The
  'response_format' field cannot be set when tools are specified", protocols/friendli.md §2.3,
  §2.8); FFM's Conversation API has no ``response_format`` at all (protocols/ffm.md §1.2) and
  MonsterAPI's ``/v1/generate`` neither (protocols/monsterapi.md §3.1; its vLLM chat route is not
  documented to combine them). False makes ``create_agent`` use ``ToolStrategy``
  (a forced tool call), which works on all three. ``with_structured_output`` is
  unaffected: it does not read the profile.
* ``max_input_tokens`` is the model's context window. For FFM the window is shared by
  prompt and output (``prompt + max_new_tokens`` must fit, protocols/ffm.md §1.4, §6.1), so
  ``max_output_tokens`` there is the same window: FFM documents no separate cap.
* Media: ``image_inputs`` only for models documented as vision models (Friendli's
  ``image_url`` parts, protocols/friendli.md §2.2); a non-vision Friendli model answers 422.
  FFM and MonsterAPI content is text only (protocols/ffm.md §1.3; protocols/monsterapi.md
  §5). Friendli tool messages are plain strings (protocols/friendli.md §2.2), so no
  ``image_tool_message``.
* ``tool_choice`` means a tool call can be forced (LangChain's ``tool_choice="any"`` or
  a named tool). FFM documents ``auto``/``none``/named but not ``required`` (protocols/ffm.md
  §3.3), so a chat model must map ``"any"`` with one tool to the named form.

Unknown ids get a conservative provider default (:data:`DEFAULTS`): a modest
window, the provider's tool support, no media, no reasoning. See
:func:`model_profile` for the lookup order.
"""

from __future__ import annotations

import re
from typing import Final

from langchain_core.language_models.model_profile import ModelProfile

__all__ = ["DEFAULTS", "PROFILES", "PROVIDERS", "known_models", "model_profile"]

PROVIDERS: Final = ("ffm", "friendli", "monsterapi")


def _profile(
    *,
    max_input_tokens: int,
    max_output_tokens: int | None,
    tool_calling: bool,
    tool_choice: bool,
    tool_call_streaming: bool,
    reasoning_output: bool = False,
    image_inputs: bool = False,
    video_inputs: bool = False,
    reasoning_effort_levels: list[str] | None = None,
) -> ModelProfile:
    """One profile; the flags every entry shares are filled here (see module docs)."""
    profile: ModelProfile = {
        "max_input_tokens": max_input_tokens,
        "text_inputs": True,
        "image_inputs": image_inputs,
        "image_url_inputs": image_inputs,
        "pdf_inputs": False,
        "audio_inputs": False,
        "video_inputs": video_inputs,
        "image_tool_message": False,
        "pdf_tool_message": False,
        "text_outputs": True,
        "image_outputs": False,
        "audio_outputs": False,
        "video_outputs": False,
        "reasoning_output": reasoning_output,
        "tool_calling": tool_calling,
        "tool_choice": tool_choice,
        "tool_call_streaming": tool_calling and tool_call_streaming,
        # See the module docstring: ProviderStrategy would send response_format with tools.
        "structured_output": False,
        "temperature": True,
    }
    if max_output_tokens is not None:
        profile["max_output_tokens"] = max_output_tokens
    if reasoning_effort_levels:
        profile["reasoning_effort_levels"] = list(reasoning_effort_levels)
    return profile


def _ffm(window: int, *, tool_calling: bool, tool_choice: bool, chat: bool = True) -> ModelProfile:
    """An FFM profile: the window is shared by prompt and output (protocols/ffm.md §1.4, §6.1)."""
    return _profile(
        max_input_tokens=window,
        max_output_tokens=window if chat else None,
        tool_calling=tool_calling,
        tool_choice=tool_choice,
        # Streaming with tools is undocumented on FFM (protocols/ffm.md §3.6).
        tool_call_streaming=False,
    )


def _friendli(
    context: int,
    output: int,
    *,
    tool_calling: bool = True,
    reasoning_output: bool = False,
    image_inputs: bool = False,
    video_inputs: bool = False,
    reasoning_effort_levels: list[str] | None = None,
) -> ModelProfile:
    """A Friendli profile: OpenAI-style tools and tool_choice (protocols/friendli.md §2.1, §2.3)."""
    return _profile(
        max_input_tokens=context,
        max_output_tokens=output,
        tool_calling=tool_calling,
        tool_choice=tool_calling,  # none/auto/required/named (protocols/friendli.md §2.3)
        tool_call_streaming=True,  # index-keyed tool-call deltas (protocols/friendli.md §2.7)
        reasoning_output=reasoning_output,
        image_inputs=image_inputs,
        video_inputs=video_inputs,
        reasoning_effort_levels=reasoning_effort_levels,
    )


def _monster(context: int, output: int, *, tool_calling: bool = True) -> ModelProfile:
    """A MonsterAPI profile: tools only via the OpenAI-compatible chat route.

    ``/v1/generate`` has no tools; ``/v1/chat/completions`` is vLLM's OpenAI router with
    ``tools``/``tool_choice`` and SSE deltas (protocols/monsterapi.md §3.1), and ChatMonsterAPI
    sends tool requests there.
    """
    return _profile(
        max_input_tokens=context,
        max_output_tokens=output,
        tool_calling=tool_calling,
        tool_choice=tool_calling,
        tool_call_streaming=True,
    )


# ---------------------------------------------------------------------------- FFM
_FFM: Final[dict[str, ModelProfile]] = {
    # Llama3.3-FFM / Llama3.1-FFM: new `tools` format, parallel calls, tool_choice
    # (protocols/ffm.md §3.1 D-TOOL; §3.3 D-TOOL-HACKMD: tool_choice on the Llama3-FFM generation).
    "llama3.3-ffm-70b-32k-chat": _ffm(
        32_768,  # source: protocols/ffm.md §6.1 (D-MODELS): Llama3.3-FFM-70B "32K spec"; name
        # "-32k"
        tool_calling=True,  # source: protocols/ffm.md §3.1 (D-TOOL) new format
        tool_choice=True,  # source: protocols/ffm.md §3.3 (D-TOOL-HACKMD)
    ),
    "llama3.3-ffm-70b-16k-chat": _ffm(
        16_384,  # source: model name "-16k" (protocols/ffm.md §6.2: GH-TPE default, "possibly a 16K
        # variant")
        tool_calling=True,  # source: protocols/ffm.md §3.1 (D-TOOL): Llama3.3-FFM-70B
        tool_choice=True,  # source: protocols/ffm.md §3.3 (D-TOOL-HACKMD)
    ),
    "llama3.1-ffm-70b-32k-chat": _ffm(
        32_768,  # source: protocols/ffm.md §6.1 (D-MODELS): Llama3.1-FFM "32K spec"; name "-32k"
        tool_calling=True,  # source: protocols/ffm.md §3.1 (D-TOOL)
        tool_choice=True,  # source: protocols/ffm.md §3.3 (D-TOOL-HACKMD)
    ),
    "llama3.1-ffm-8b-32k-chat": _ffm(
        32_768,  # source: protocols/ffm.md §6.1 (D-MODELS): Llama3.1-FFM 8B "32K spec"; name "-32k"
        tool_calling=True,  # source: protocols/ffm.md §3.1 (D-TOOL)
        tool_choice=True,  # source: protocols/ffm.md §3.3 (D-TOOL-HACKMD)
    ),
    # Llama3-FFM (8K): new format, no parallel calls (protocols/ffm.md §3.1).
    "llama3-ffm-70b-chat": _ffm(
        8_192,  # source: protocols/ffm.md §6.1 (D-PARAM): Llama3 (8B, 70B) 8,192
        tool_calling=True,  # source: protocols/ffm.md §3.1 (D-TOOL): Llama3-FFM new format
        tool_choice=True,  # source: protocols/ffm.md §3.3 (D-TOOL-HACKMD)
    ),
    "llama3-ffm-8b-chat": _ffm(
        8_192,  # source: protocols/ffm.md §6.1 (D-PARAM): Llama3 (8B, 70B) 8,192; §5 D-OAI example
        # id
        tool_calling=True,  # source: protocols/ffm.md §3.1 (D-TOOL)
        tool_choice=True,  # source: protocols/ffm.md §3.3 (D-TOOL-HACKMD)
    ),
    "ffm-llama3-70b-chat": _ffm(
        8_192,  # source: protocols/ffm.md §6.2: older name of Llama3-FFM-70B; §6.1 8,192
        tool_calling=True,  # source: protocols/ffm.md §3.1 (D-TOOL): Llama3-FFM
        tool_choice=True,  # source: protocols/ffm.md §3.3 (D-TOOL-HACKMD)
    ),
    # Mistral / Mixtral: only the legacy `functions` format (protocols/ffm.md §3.1, §3.5), which
    # ChatFFM does not send, so no tool calling through `tools`.
    "ffm-mixtral-8x7b-32k-instruct": _ffm(
        32_768,  # source: protocols/ffm.md §6.1 (D-PARAM): Mixtral 8x7B 32,768; name "-32k"
        tool_calling=False,  # source: protocols/ffm.md §3.1 (D-TOOL): legacy format only
        tool_choice=False,  # source: protocols/ffm.md §3.3: tool_choice only on Llama3-FFM
    ),
    "ffm-mistral-7b-32k-instruct": _ffm(
        32_768,  # source: protocols/ffm.md §6.1 (D-PARAM): Mistral 7B 32,768; name "-32k"
        tool_calling=False,  # source: protocols/ffm.md §3.1 (D-TOOL): legacy format only
        tool_choice=False,  # source: protocols/ffm.md §3.3
    ),
    "taide-lx-7b-chat": _ffm(
        4_096,  # source: protocols/ffm.md §6.1 (D-PARAM): Taide-LX (7B) 4,096
        tool_calling=False,  # source: protocols/ffm.md §3.1: not on the D-TOOL list
        tool_choice=False,  # source: protocols/ffm.md §3.3
    ),
    # FFM-Llama2: D-TOOL lists "FFM-Llama2-v2"; these ids are not documented as v2.
    "ffm-llama2-70b-chat": _ffm(
        4_096,  # source: protocols/ffm.md §6.1 (D-PARAM): Llama2 (7B, 13B, 70B) 4,096
        tool_calling=False,  # source: protocols/ffm.md §3.1: only FFM-Llama2-v2 is listed
        tool_choice=False,  # source: protocols/ffm.md §3.3
    ),
    "ffm-llama2-7b-chat-exp": _ffm(
        4_096,  # source: protocols/ffm.md §6.1 (D-PARAM): Llama2 4,096
        tool_calling=False,  # source: protocols/ffm.md §3.1: only FFM-Llama2-v2 is listed
        tool_choice=False,  # source: protocols/ffm.md §3.3
    ),
    # Native Meta models on AFS: "do not support AFS tool calls" (protocols/ffm.md §3.1).
    "meta-llama2-70b-chat": _ffm(
        4_096,  # source: protocols/ffm.md §6.1 (D-PARAM): Llama2 4,096
        tool_calling=False,  # source: protocols/ffm.md §3.1 (D-TOOL): native Meta models
        tool_choice=False,  # source: protocols/ffm.md §3.1
    ),
    "meta-codellama-34b-instruct": _ffm(
        8_192,  # source: protocols/ffm.md §6.1 (D-PARAM): CodeLlama (7B, 13B, 34B) 8,192
        tool_calling=False,  # source: protocols/ffm.md §3.1 (D-TOOL): native Meta models
        tool_choice=False,  # source: protocols/ffm.md §3.1
    ),
    "codellama-7b-instruct": _ffm(
        8_192,  # source: protocols/ffm.md §6.1 (D-PARAM): CodeLlama 8,192
        tool_calling=False,  # source: protocols/ffm.md §3.1 (D-TOOL): native Meta models
        tool_choice=False,  # source: protocols/ffm.md §3.1
    ),
    "codellama-34b-instruct": _ffm(
        8_192,  # source: protocols/ffm.md §6.1 (D-PARAM): CodeLlama 8,192
        tool_calling=False,  # source: protocols/ffm.md §3.1 (D-TOOL): native Meta models
        tool_choice=False,  # source: protocols/ffm.md §3.1
    ),
    "meta-llama3-70b": _ffm(
        8_192,  # source: HF meta-llama/Meta-Llama-3-70B (8K context); protocols/ffm.md §6.2 native
        # Llama 3
        tool_calling=False,  # source: protocols/ffm.md §3.1 (D-TOOL): native Meta models
        tool_choice=False,  # source: protocols/ffm.md §3.1
    ),
    # First-generation FFM-Bloom(z) (AFS Cloud era, protocols/ffm.md §6.2).
    "ffm-bloomz-7b": _ffm(
        2_048,  # source: HF bigscience/bloomz-7b1 (BLOOM trained on 2,048-token sequences)
        tool_calling=False,  # source: protocols/ffm.md §3.1: not on the D-TOOL list
        tool_choice=False,  # source: protocols/ffm.md §3.3
    ),
    "ffm-bloomz-176b-chat": _ffm(
        2_048,  # source: HF bigscience/bloomz (2,048-token sequences)
        tool_calling=False,  # source: protocols/ffm.md §3.1: not on the D-TOOL list
        tool_choice=False,  # source: protocols/ffm.md §3.3
    ),
    "ffm-bloom-7b-chat": _ffm(
        2_048,  # source: HF bigscience/bloom-7b1 (2,048-token sequences)
        tool_calling=False,  # source: protocols/ffm.md §3.1: not on the D-TOOL list
        tool_choice=False,  # source: protocols/ffm.md §3.3
    ),
    # Embedding models (FFMEmbeddings): the window is the per-sequence limit; no output.
    "ffm-embedding": _ffm(
        2_048,  # source: protocols/ffm.md §4 (D-EMB): FFM-embedding 2,048 tokens per sequence and
        # batch
        tool_calling=False,
        tool_choice=False,
        chat=False,
    ),
    "ffm-embedding-v2": _ffm(
        131_072,  # source: protocols/ffm.md §4 (D-EMB): FFM-embedding-v2 131,072
        tool_calling=False,
        tool_choice=False,
        chat=False,
    ),
    "ffm-embedding-v2.1": _ffm(
        131_072,  # source: protocols/ffm.md §4 (D-EMB): FFM-embedding-v2.1 131,072
        tool_calling=False,
        tool_choice=False,
        chat=False,
    ),
}

# ------------------------------------------------------------------------ Friendli
_FRIENDLI: Final[dict[str, ModelProfile]] = {
    # Short codes (2024-2025 docs, protocols/friendli.md §8).
    "meta-llama-3.1-8b-instruct": _friendli(
        131_072,  # source: HF meta-llama/Llama-3.1-8B-Instruct (128K; max_position_embeddings)
        4_096,  # source: md:providers/abacus/models/meta-llama/Meta-Llama-3.1-8B-Instruct.toml
    ),
    "meta-llama-3.3-70b-instruct": _friendli(
        131_072,  # source: HF meta-llama/Llama-3.3-70B-Instruct (128K; max_position_embeddings)
        4_096,  # source: md:models/meta/llama-3.3-70b-instruct.toml@f3fc692 (limit.output)
    ),
    "meta-llama-3-8b-instruct": _friendli(
        8_192,  # source: HF meta-llama/Meta-Llama-3-8B-Instruct (8K context)
        4_096,  # source: none documented; capped at half the window (conservative)
        tool_calling=False,  # source: Llama 3 (not 3.1) has no tool-call chat template
    ),
    "llama-2-13b-chat": _friendli(
        4_096,  # source: HF meta-llama/Llama-2-13b-chat-hf (4K context)
        2_048,  # source: none documented; half the window (conservative)
        tool_calling=False,  # source: Llama 2 has no tool-call chat template
    ),
    # Hugging Face style ids (current, protocols/friendli.md §8).
    "meta-llama/Llama-3.1-8B-Instruct": _friendli(
        131_072,  # source: HF meta-llama/Llama-3.1-8B-Instruct (128K)
        4_096,  # source: md:providers/abacus/models/meta-llama/Meta-Llama-3.1-8B-Instruct.toml
    ),
    "meta-llama/Llama-3.3-70B-Instruct": _friendli(
        131_072,  # source: HF meta-llama/Llama-3.3-70B-Instruct (128K)
        4_096,  # source: md:models/meta/llama-3.3-70b-instruct.toml@f3fc692 (limit.output)
    ),
    "Qwen/Qwen3-235B-A22B-Instruct-2507": _friendli(
        # source: md:providers/friendli/models/Qwen/Qwen3-235B-A22B-Instruct-2507.toml@ff6b227
        262_144,  # (limit.context)
        262_144,  # source: same file, limit.output (Friendli's max_completion_tokens)
        # Instruct-2507 is the non-thinking variant (HF card; Friendli reasoning_options = []).
        reasoning_output=False,
    ),
    "LGAI-EXAONE/EXAONE-4.0.1-32B": _friendli(
        131_072,  # source: md:providers/friendli/models/LGAI-EXAONE/EXAONE-4.0.1-32B.toml@e8dde5e
        131_072,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, reasoning = true (enable_thinking toggle)
    ),
    "LGAI-EXAONE/K-EXAONE-236B-A23B": _friendli(
        262_144,  # source: md:models/lgai-exaone/k-exaone-236b-a23b.toml@295bd4f (limit.context)
        262_144,  # source: md:providers/friendli/models/LGAI-EXAONE/K-EXAONE-236B-A23B.toml@295bd4f
        reasoning_output=True,  # source: same file, reasoning toggle + reasoning_content
    ),
    "MiniMaxAI/MiniMax-M2.1": _friendli(
        204_800,  # source: md:models/minimax/MiniMax-M2.1.toml@f3fc692 (limit.context)
        131_072,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, reasoning = true
    ),
    "MiniMaxAI/MiniMax-M2.5": _friendli(
        196_608,  # source: md:providers/friendli/models/MiniMaxAI/MiniMax-M2.5.toml@b0e2707
        196_608,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, interleaved reasoning_content
    ),
    "zai-org/GLM-4.7": _friendli(
        204_800,  # source: md:models/zhipuai/glm-4.7.toml@f3fc692 (limit.context)
        131_072,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, reasoning = true
    ),
    "zai-org/GLM-5": _friendli(
        202_752,  # source: md:providers/friendli/models/zai-org/GLM-5.toml@b0e2707
        202_752,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, interleaved reasoning_content
    ),
    "zai-org/GLM-5.1": _friendli(
        202_752,  # source: md:providers/friendli/models/zai-org/GLM-5.1.toml@b0e2707
        202_752,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, interleaved reasoning_content
    ),
    "zai-org/GLM-5.2": _friendli(
        1_048_576,  # source: md:providers/friendli/models/zai-org/GLM-5.2.toml@295bd4f
        1_048_576,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, reasoning toggle + effort
        reasoning_effort_levels=["high", "max"],  # source: same file, reasoning_options
    ),
    "zai-org/GLM-5.3": _friendli(
        1_048_576,  # source: md:providers/friendli/models/zai-org/GLM-5.3.toml@6a65701
        1_048_576,  # source: same file, limit.output
        reasoning_output=True,  # source: same file (always reasons; budget_tokens honoured)
        reasoning_effort_levels=["low", "high", "max"],  # source: same file
    ),
    "zai-org/GLM-5.3-Flash": _friendli(
        1_048_576,  # source: md(sst):providers/friendli/models/zai-org/GLM-5.3-Flash.toml@c6ca3ae
        1_048_576,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, reasoning_options effort/budget
        image_inputs=True,  # source: same file, input_modalities=[text,image,video] (live /models)
        video_inputs=True,  # source: same file
        reasoning_effort_levels=["low", "high", "max"],  # source: same file
    ),
    "google/gemma-4-31B-it": _friendli(
        262_144,  # source: md:models/google/gemma-4-31b-it.toml@f3fc692 (limit.context)
        262_144,  # source: md:providers/friendli/models/google/gemma-4-31B-it.toml@295bd4f
        reasoning_output=True,  # source: same file, reasoning toggle + reasoning_content
        image_inputs=True,  # source: md:models/google/gemma-4-31b-it.toml (input text, image)
    ),
    "deepseek-ai/DeepSeek-V3.2": _friendli(
        163_840,  # source: md:providers/friendli/models/deepseek-ai/DeepSeek-V3.2.toml@be9bb76
        163_840,  # source: same file, limit.output
        reasoning_output=True,  # source: same file, reasoning = true (toggle)
    ),
    "deepseek-ai/DeepSeek-R1-0528": _friendli(
        # source: md:providers/huggingface/models/deepseek-ai/DeepSeek-R1-0528.toml@f3fc692
        163_840,  # (limit.context; HF deepseek-ai/DeepSeek-R1-0528 max_position_embeddings)
        32_768,  # source: md:models/deepseek/deepseek-r1.toml@f3fc692 (limit.output)
        reasoning_output=True,  # source: protocols/friendli.md §8 (reasoning guide example model)
    ),
}

# ---------------------------------------------------------------------- MonsterAPI
# max_tokens: the official SDK caps it at 4,096 (protocols/monsterapi.md §5).
_MONSTERAPI: Final[dict[str, ModelProfile]] = {
    "google/gemma-2-9b-it": _monster(
        8_192,  # source: HF google/gemma-2-9b-it ("context length of 8192 tokens")
        4_096,  # source: protocols/monsterapi.md §5: SDK caps max_tokens at 4096
    ),
    "mistralai/Mistral-7B-Instruct-v0.2": _monster(
        32_768,  # source: HF mistralai/Mistral-7B-Instruct-v0.2 ("32k context window")
        4_096,  # source: protocols/monsterapi.md §5: SDK cap
    ),
    "microsoft/Phi-3-mini-4k-instruct": _monster(
        4_096,  # source: protocols/monsterapi.md §5 ("Phi-3-mini-4k: 4096"); name "-4k"
        4_096,  # source: protocols/monsterapi.md §5: SDK cap (shares the 4K window)
    ),
    "meta-llama/Meta-Llama-3.1-8B-Instruct": _monster(
        131_072,  # source: HF meta-llama/Llama-3.1-8B-Instruct (128K)
        4_096,  # source: protocols/monsterapi.md §5: SDK cap
    ),
    # Earlier page revisions and clients (protocols/monsterapi.md §1.1, §4.2).
    "meta-llama/Meta-Llama-3-8B-Instruct": _monster(
        8_192,  # source: HF meta-llama/Meta-Llama-3-8B-Instruct (8K); LlamaIndex default
        # (protocols/monsterapi.md §4.2)
        4_096,  # source: protocols/monsterapi.md §5: SDK cap
    ),
    "microsoft/phi-2": _monster(
        2_048,  # source: HF microsoft/phi-2 (context length 2048)
        2_048,  # source: shares the window; protocols/monsterapi.md §1.1 (no chat template)
        tool_calling=False,  # source: protocols/monsterapi.md §5: no chat template for phi-2
    ),
    "TinyLlama/TinyLlama-1.1B-Chat-v1.0": _monster(
        2_048,  # source: HF TinyLlama/TinyLlama-1.1B-Chat-v1.0 (2048-token sequences)
        2_048,  # source: shares the window
        tool_calling=False,  # source: no tool-call chat template
    ),
}

#: Profiles per provider, keyed by exact model id.
PROFILES: Final[dict[str, dict[str, ModelProfile]]] = {
    "ffm": _FFM,
    "friendli": _FRIENDLI,
    "monsterapi": _MONSTERAPI,
}

#: What an unknown model id gets. Conservative: the smallest window each provider
#: documents for a chat model, the provider's tool support, no media, no reasoning.
DEFAULTS: Final[dict[str, ModelProfile]] = {
    # FFM: Llama2/Taide's 4,096 (protocols/ffm.md §6.1); the Conversation API takes `tools`
    # (protocols/ffm.md §3.3); forcing a call is documented only for Llama3-FFM.
    "ffm": _ffm(4_096, tool_calling=True, tool_choice=False),
    # Friendli (incl. dedicated endpoint ids and ID:ADAPTER, whose base model we cannot
    # know): 8,192; OpenAI-style tools on every product (protocols/friendli.md §2.1).
    "friendli": _friendli(8_192, 4_096),
    # MonsterAPI: Phi-3-mini-4k's 4,096 (protocols/monsterapi.md §5); tools via the chat route.
    "monsterapi": _monster(4_096, 4_096),
}

_LOWER: Final[dict[str, dict[str, str]]] = {
    provider: {model.casefold(): model for model in table} for provider, table in PROFILES.items()
}
# An explicit "-32k" / "_16k" / ".128k" window in an FFM model name (protocols/ffm.md §6.2: the
# model string carries the deployed spec, e.g. "llama3.3-ffm-70b-32k-chat").
_FFM_WINDOW: Final = re.compile(r"(?:^|[-_.])([1-9]\d{0,3})k(?=$|[-_.])")


def known_models(provider: str) -> frozenset[str]:
    """The model ids profiled for ``provider``.

    Args:
        provider: ``"ffm"``, ``"friendli"`` or ``"monsterapi"``.

    Returns:
        The exact ids of :data:`PROFILES` for that provider.
    """
    return frozenset(PROFILES[_provider(provider)])


def _provider(provider: str) -> str:
    key = provider.strip().casefold()
    if key not in PROFILES:
        msg = f"Unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}"
        raise ValueError(msg)
    return key


def _copy(profile: ModelProfile) -> ModelProfile:
    """A copy the caller may mutate (lists copied too)."""
    copy: ModelProfile = {**profile}
    if "reasoning_effort_levels" in copy:
        copy["reasoning_effort_levels"] = list(copy["reasoning_effort_levels"])
    return copy


def model_profile(provider: str, model: str | None) -> ModelProfile:
    """The profile for ``model`` on ``provider``, as a fresh copy.

    Lookup order:

    1. the exact id;
    2. the id with surrounding whitespace removed, compared case-insensitively
       (``"Llama3.3-FFM-70B-32K-Chat"`` finds ``"llama3.3-ffm-70b-32k-chat"``);
    3. Friendli: an ``ID:ADAPTER`` form (a dedicated endpoint's LoRA adapter) and any
       other unknown id, e.g. a dedicated endpoint id, get the provider default, because
       the base model behind an endpoint cannot be known from its id;
    4. FFM: an unknown id that names its window (``-32k``, ``-16k``, ...) gets the FFM
       default with that window (``N * 1024`` tokens);
    5. the provider default (:data:`DEFAULTS`); ``None`` or ``""`` (Friendli container
       without a model) also gets it.

    Args:
        provider: ``"ffm"``, ``"friendli"`` or ``"monsterapi"`` (case-insensitive).
        model: The model id as sent on the wire.

    Returns:
        A new dict each call; mutating it changes nothing here.

    Raises:
        ValueError: ``provider`` is not one of :data:`PROVIDERS`.
    """
    key = _provider(provider)
    table = PROFILES[key]
    if model:
        if model in table:
            return _copy(table[model])
        exact = _LOWER[key].get(model.strip().casefold())
        if exact is not None and not (key == "friendli" and ":" in model):
            return _copy(table[exact])
        if key == "ffm" and (match := _FFM_WINDOW.search(model.strip().casefold())):
            window = int(match.group(1)) * 1024
            profile = _copy(DEFAULTS["ffm"])
            profile["max_input_tokens"] = window
            profile["max_output_tokens"] = window
            return profile
    return _copy(DEFAULTS[key])

"""Friendli's models: the serverless ids, text completions and the tool-assisted answer.

Text completions choices carry ``seed`` and deterministic pseudo ``tokens`` (ids from the
emulator's pseudo tokenizer); the tool-assisted answer states the built-in tools'
results, or stops after a failed run unless ``resume_generation`` is true.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .._model import (
    Completion,
    ModelRequest,
    Reply,
    complete,
    count_tokens,
    scripted_counts,
)
from .._openai_compatible.models import apply_limits, generate, structured_text
from .._openai_compatible.requests import ChatRequest
from .builtin_tools import ToolRun
from .requests import CompletionsRequest

__all__ = [
    "MODELS",
    "PROVIDER",
    "CompletionChoice",
    "generate_choices",
    "generation_microseconds",
    "token_id",
    "tools_completion",
]

#: The provider's name in the default model's greeting.
PROVIDER = "Friendli"
#: Serverless model codes in Friendli's docs, SDK and published roster, both naming
#: generations (protocols/friendli.md §8). Dedicated endpoints and container
#: adapters are the user's own, so those routes take any id.
MODELS = frozenset(
    {
        "meta-llama-3.1-8b-instruct",
        "meta-llama-3.3-70b-instruct",
        "meta-llama-3-8b-instruct",
        "llama-2-13b-chat",
        "meta-llama/Llama-3.1-8B-Instruct",
        "meta-llama/Llama-3.3-70B-Instruct",
        "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "LGAI-EXAONE/EXAONE-4.0.1-32B",
        "LGAI-EXAONE/K-EXAONE-236B-A23B",
        "MiniMaxAI/MiniMax-M2.1",
        "MiniMaxAI/MiniMax-M2.5",
        "zai-org/GLM-4.7",
        "zai-org/GLM-5",
        "zai-org/GLM-5.1",
        "zai-org/GLM-5.2",
        "zai-org/GLM-5.3",
        "zai-org/GLM-5.3-Flash",
        "google/gemma-4-31B-it",
        "deepseek-ai/DeepSeek-V3.2",
        "deepseek-ai/DeepSeek-R1-0528",
    }
)
#: The simulated generation time (``timeout_microseconds`` is compared with it).
_MICROSECONDS_PER_TOKEN = 1000


def token_id(piece: str) -> int:
    """A deterministic pseudo vocabulary id for a token text (same text, same id).

    Args:
        piece: The token text.

    Returns:
        An id in [1000, 128000).
    """
    digest = hashlib.sha256(piece.encode("utf-8")).digest()
    return 1000 + int.from_bytes(digest[:4], "big") % 127000


@dataclass(frozen=True)
class CompletionChoice:
    """One generated text completions choice.

    Attributes:
        index: Its ``index`` (prompt-major).
        seed: The seed it reports.
        prompt: The prompt it continues.
        completion: What the model produced.
    """

    index: int
    seed: int
    prompt: str
    completion: Completion


def _seed(request: CompletionsRequest, generation: int, prompt: str) -> int:
    """The seed a generation used: given, derived from a given int, or pseudo-random."""
    if isinstance(request.seed, list):
        return request.seed[generation]
    if isinstance(request.seed, int):
        return request.seed + generation
    digest = hashlib.sha256(f"{prompt}:{generation}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def _default_text(prompt: str, generation: int) -> str:
    """The default continuation of a prompt (different per generation)."""
    sample = f" (sample {generation + 1})" if generation else ""
    return f" This is the {PROVIDER} emulator continuing{sample}: {prompt}"


def generate_choices(request: CompletionsRequest, reply: Reply | None) -> list[CompletionChoice]:
    """Generate ``n`` choices per prompt (prompt-major ``index``).

    Args:
        request: The validated request.
        reply: A scripted reply (same text for every choice), if any.

    Returns:
        The choices.
    """
    choices = []
    for number, (prompt, prompt_tokens, limit) in enumerate(
        zip(request.prompts, request.prompt_tokens, request.max_tokens, strict=True)
    ):
        messages = [{"role": "user", "content": prompt}]
        for generation in range(request.n):
            scripted = reply
            if scripted is None:
                text = structured_text(request.response_format, messages, provider=PROVIDER)
                scripted = Reply(
                    text=text if text is not None else _default_text(prompt, generation)
                )
            completion = complete(ModelRequest(messages=messages), scripted, provider=PROVIDER)
            counted, _ = scripted_counts(reply, prompt_tokens, 0)
            completion = replace(completion, tool_calls=[], prompt_tokens=counted)
            completion = apply_limits(completion, stop=request.stop, max_tokens=limit, reply=reply)
            choices.append(
                CompletionChoice(
                    index=number * request.n + generation,
                    seed=_seed(request, generation, prompt),
                    prompt=prompt,
                    completion=completion,
                )
            )
    return choices


def generation_microseconds(choices: Sequence[CompletionChoice]) -> int:
    """How long the simulated generation of some choices takes (1 ms per token).

    Args:
        choices: The generated choices.

    Returns:
        Microseconds for the longest choice (at least one token).
    """
    generated = max((c.completion.completion_tokens for c in choices), default=0)
    return _MICROSECONDS_PER_TOKEN * max(generated, 1)


def tools_completion(
    request: ChatRequest, runs: Sequence[ToolRun], reply: Reply | None, *, resume: bool
) -> Completion:
    """The final answer after the built-in runs (or a user function call).

    The answer states the runs' results; after a failed run it is empty unless
    ``resume_generation`` is true. A scripted reply replaces it (the tools still ran).
    The tools' outputs count as prompt tokens.

    Args:
        request: The validated tool-assisted request.
        runs: The built-in runs.
        reply: A scripted reply, if one was queued.
        resume: ``resume_generation``.

    Returns:
        The completion.
    """
    failed = any(run.outcome.error is not None for run in runs)
    if reply is not None or not runs:
        completion = generate(request, reply, provider=PROVIDER)
    elif failed and not resume:
        completion = generate(request, Reply(text=""), provider=PROVIDER)
    else:
        completion = generate(request, None, provider=PROVIDER)
        if not completion.tool_calls:
            answer = " ".join(run.outcome.answer for run in runs if run.outcome.answer)
            completion = generate(request, Reply(text=answer), provider=PROVIDER)
    # The tools' outputs join the prompt, unless the reply scripts the prompt count.
    extra = sum(count_tokens(run.outcome.result or run.outcome.error or "") for run in runs)
    prompt_tokens, _ = scripted_counts(reply, completion.prompt_tokens + extra, 0)
    return replace(completion, prompt_tokens=prompt_tokens)

"""MonsterAPI's models: the documented ids, the scripted generation and the chat templates.

The generation is what vLLM's ``/generate`` would produce for a request: ``n`` outputs
(the default greeting varies per sequence), cut to ``max_tokens``, with the cumulative
snapshots a stream sends (beam search includes a step where another beam leads). The
chat templates render ``messages`` as the server does before generating, and recover a
conversation from a prompt that is already templated.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._model import (
    ModelRequest,
    Reply,
    complete,
    count_tokens,
    cut_text,
    scripted_counts,
    tokenize,
)
from .requests import GenerateRequest

__all__ = [
    "MODELS",
    "PROVIDER",
    "Generation",
    "apply_chat_template",
    "generate",
    "messages_from_prompt",
]

#: The provider's name in the default model's greeting.
PROVIDER = "MonsterAPI"
#: The ``model`` values of the Generate reference page (protocols/monsterapi.md §1.1).
MODELS = frozenset(
    {
        "google/gemma-2-9b-it",
        "mistralai/Mistral-7B-Instruct-v0.2",
        "microsoft/Phi-3-mini-4k-instruct",
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
    }
)
#: A deterministic price, in the order of magnitude of the documented example.
_CREDITS_PER_TOKEN = 7e-6
_GREETING = "Hello!"
_OPENERS = ("Hello!", "Hi!", "Hey there!", "Greetings!", "Good day!")
_BEAM_WORDS = ("Well", "Perhaps", "Indeed")
_BEAM_PUNCTUATION = ("?", ",", ";")

# ------------------------------------------------------------------------- generation


@dataclass(frozen=True)
class Generation:
    """What the model produced for one request, before encoding.

    Attributes:
        echo: The text every output starts with (the prompt, or "" for ``messages``).
        outputs: Per returned sequence, its generated text (without the echo).
        snapshots: Per sequence, the cumulative generated text at each stream step;
            beam search includes a step where another beam leads.
        input_tokens: ``token_counts.input``.
        output_tokens: ``token_counts.output`` (all returned sequences).
    """

    echo: str
    outputs: list[str]
    snapshots: list[list[str]]
    input_tokens: int
    output_tokens: int

    @property
    def texts(self) -> list[str]:
        """The final ``response.text`` list."""
        return [self.echo + output for output in self.outputs]

    @property
    def credits(self) -> float:
        """A deterministic ``credits_consumed``."""
        return round((self.input_tokens + self.output_tokens) * _CREDITS_PER_TOKEN, 8)


def _variants(text: str, count: int, *, scripted: bool) -> list[str]:
    """``count`` outputs: the default greeting varies per sequence, scripted text does not."""
    outputs = [text]
    for index in range(1, count):
        if scripted or not text.startswith(_GREETING):
            outputs.append(text)
            continue
        variant = _OPENERS[index % len(_OPENERS)] + text[len(_GREETING) :]
        if index >= len(_OPENERS):
            variant += f" ({index + 1})"
        outputs.append(variant)
    return outputs


def _beam_snapshots(tokens: list[str]) -> list[str]:
    """Cumulative steps with one step where a losing beam led, rewriting earlier text.

    The extra step replaces the token before step ``at`` (``at = min(2, len - 1)``) by
    another word (or punctuation by other punctuation), so it is not an extension of
    the step before it, and the step after it (the winning beam again) is not an
    extension of it; the last step is the final text.
    """
    if not tokens:
        return [""]
    steps = ["".join(tokens[: i + 1]) for i in range(len(tokens))]
    at = min(2, len(tokens) - 1)
    changed_index = max(at - 1, 0)
    head = "".join(tokens[:changed_index])
    changed = tokens[changed_index]
    tail = tokens[at] if at >= 1 else ""
    stripped = changed.lstrip()
    lead = changed[: len(changed) - len(stripped)]
    words = _BEAM_WORDS if stripped[:1].isalnum() or not stripped else _BEAM_PUNCTUATION
    previous = steps[at - 1] if at >= 1 else None
    alternative = head + lead + words[-1] + tail
    for word in words:
        candidate = head + lead + word + tail
        extends_previous = previous is not None and candidate.startswith(previous)
        if not extends_previous and not steps[at].startswith(candidate):
            alternative = candidate
            break
    steps.insert(at, alternative)
    return steps


def generate(request: GenerateRequest, reply: Reply | None) -> Generation:
    """Run the scripted model for a validated request.

    Args:
        request: The request.
        reply: A scripted reply overriding the default model, if any. Tool calls are
            written into the text (``<function=NAME>{json}</function>``): this raw
            generation API has no structured tool calls.

    Returns:
        The generation, cut to ``max_tokens`` per sequence.
    """
    if request.prompt is not None:
        echo = request.prompt
        messages = messages_from_prompt(request.prompt)
        input_tokens = count_tokens(request.prompt)
    else:
        assert request.messages is not None
        echo = ""
        messages = request.messages
        input_tokens = count_tokens(apply_chat_template(request.model, request.messages))
    if reply is not None and reply.tool_calls:
        reply = dataclasses.replace(reply, tool_call_style="text")
    completion = complete(ModelRequest(messages=messages), reply, provider=PROVIDER)
    variants = _variants(completion.text, request.n, scripted=reply is not None)
    # No stop sequences in this API: only ``max_tokens`` cuts.
    outputs = [cut_text(text, (), request.max_tokens, keep_stop=True)[0] for text in variants]
    output_tokens = sum(count_tokens(output) for output in outputs)
    input_tokens, output_tokens = scripted_counts(reply, input_tokens, output_tokens)
    return Generation(
        echo=echo,
        outputs=outputs,
        snapshots=[_snapshots(output, beam=request.use_beam_search) for output in outputs],
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )


def _snapshots(output: str, *, beam: bool) -> list[str]:
    """The cumulative texts of an output a stream sends, one step per token.

    Beam search includes a step where another beam led (:func:`_beam_snapshots`).
    """
    tokens = tokenize(output)
    if beam:
        return _beam_snapshots(tokens)
    return ["".join(tokens[: i + 1]) for i in range(len(tokens))] or [""]


# ------------------------------------------------------------------ chat templates


def apply_chat_template(model: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """Render messages with (a faithful sketch of) the model's HF chat template.

    Llama 3 / 3.1 (3.1 adds its dated system header), Gemma (``model`` turns), Mistral
    (``[INST]``; a system message is prepended to the first user turn), Phi-3
    (``<|user|>``); any other model gets ChatML. The generation prompt is appended.

    Args:
        model: The model id.
        messages: Validated messages (roles system/user/assistant, string contents).

    Returns:
        The prompt the server feeds the model (used for the input token count).
    """
    name = model.lower()
    turns = [(str(m["role"]), str(m["content"])) for m in messages]
    if "llama-3" in name or "llama3" in name:
        out = "<|begin_of_text|>"
        if "3.1" in name:
            system = turns[0][1].strip() if turns and turns[0][0] == "system" else ""
            turns = turns[1:] if turns and turns[0][0] == "system" else turns
            out += (
                "<|start_header_id|>system<|end_header_id|>\n\n"
                "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                f"{system}<|eot_id|>"
            )
        for role, content in turns:
            out += f"<|start_header_id|>{role}<|end_header_id|>\n\n{content.strip()}<|eot_id|>"
        return out + "<|start_header_id|>assistant<|end_header_id|>\n\n"
    if "gemma" in name:
        out = "<bos>"
        for role, content in turns:
            turn = "model" if role == "assistant" else role
            out += f"<start_of_turn>{turn}\n{content.strip()}<end_of_turn>\n"
        return out + "<start_of_turn>model\n"
    if "mistral" in name or "mixtral" in name:
        system = "\n\n".join(c for r, c in turns if r == "system")
        out = "<s>"
        for role, content in (t for t in turns if t[0] != "system"):
            if role == "user":
                text = f"{system}\n\n{content}" if system else content
                system = ""
                out += f"[INST] {text} [/INST]"
            else:
                out += f"{content}</s>"
        return out
    if "phi-3" in name:
        body = "".join(f"<|{role}|>\n{content}<|end|>\n" for role, content in turns)
        return "<s>" + body + "<|assistant|>\n"
    body = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
    return body + "<|im_start|>assistant\n"


_PROMPT_TURNS = (
    re.compile(r"<\|start_header_id\|>(\w+)<\|end_header_id\|>\n\n(.*?)(?:<\|eot_id\|>|$)", re.S),
    re.compile(r"<start_of_turn>(\w+)\n(.*?)(?:<end_of_turn>|$)", re.S),
    re.compile(r"<\|im_start\|>(\w+)\n(.*?)(?:<\|im_end\|>|$)", re.S),
    re.compile(r"<\|(system|user|assistant)\|>\n?(.*?)(?:<\|end\|>|$)", re.S),
)
_INST = re.compile(r"\[INST\](.*?)\[/INST\]", re.S)
_PROMPT_ROLES = {"model": "assistant", "ipython": "tool", "human": "user"}


def messages_from_prompt(prompt: str) -> list[dict[str, Any]]:
    """Recover the conversation from a templated prompt, for the default model.

    Recognises Llama 3, Gemma, ChatML, Phi-3 and Mistral ``[INST]`` templates; an
    untemplated prompt becomes one user message. The empty generation-prompt turn is
    dropped.

    Args:
        prompt: The ``prompt`` field.

    Returns:
        OpenAI-style messages.
    """
    for pattern in _PROMPT_TURNS:
        turns = pattern.findall(prompt)
        if turns:
            messages = [
                {"role": _PROMPT_ROLES.get(role, role), "content": content.strip()}
                for role, content in turns
            ]
            if messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
                messages.pop()
            if messages:
                return messages
    insts = _INST.findall(prompt)
    if insts:
        return [{"role": "user", "content": insts[-1].strip()}]
    return [{"role": "user", "content": prompt.strip()}]

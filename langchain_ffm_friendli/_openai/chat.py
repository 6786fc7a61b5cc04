"""Chat completions: the request body, the answer, and the stream decoder.

Friendli's chat completions and MonsterAPI's chat route answer with OpenAI's
``chat.completion`` body and ``chat.completion.chunk`` stream records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from langchain_core.messages import AIMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_ffm_friendli._deltas import DeliveredText, Delta, usage_metadata
from langchain_ffm_friendli._openai.json_output import json_instruction, with_system_instruction
from langchain_ffm_friendli._openai.tools import (
    new_tool_call_id,
    parse_tool_calls,
    tool_call_chunks_from_deltas,
)
from langchain_ffm_friendli._wire import Record
from langchain_ffm_friendli.errors import IncompleteStreamError

__all__ = [
    "OpenAIChatStream",
    "chat_result",
    "openai_chat_body",
    "openai_usage",
    "parse_chat_completion",
]


def _message_metadata(payload: Mapping[str, Any], model: str, provider: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "model_name": payload.get("model") or model,
        "model_provider": provider,
    }
    for key in ("id", "created"):
        if payload.get(key) is not None:
            meta[key] = payload[key]
    return meta


def openai_usage(usage: Any) -> UsageMetadata | None:
    """LangChain usage from an OpenAI-style ``usage`` object (cached tokens included)."""
    if not isinstance(usage, Mapping):
        return None
    result = usage_metadata(
        usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens")
    )
    details = usage.get("prompt_tokens_details")
    if result is not None and isinstance(details, Mapping) and details.get("cached_tokens"):
        result["input_token_details"] = {"cache_read": int(details["cached_tokens"])}
    return result


def parse_chat_completion(
    payload: Mapping[str, Any], *, model: str, provider: str
) -> list[tuple[AIMessage, dict[str, Any]]]:
    """Turn a ``chat.completion`` body into (message, generation_info), one per choice.

    Usage is put on the first choice's message only, since it covers all of them.
    """
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        raise IncompleteStreamError(
            f"{provider} response has no choices: {json.dumps(payload, ensure_ascii=False)[:300]}",
            provider=provider,
            raw_record=json.dumps(payload, ensure_ascii=False),
        )
    usage = openai_usage(payload.get("usage"))
    results: list[tuple[AIMessage, dict[str, Any]]] = []
    for position, choice in enumerate(choices):
        message = choice.get("message") or {}
        calls, invalid = parse_tool_calls(message.get("tool_calls") or [])
        info: dict[str, Any] = {"finish_reason": choice.get("finish_reason")}
        if choice.get("logprobs") is not None:
            info["logprobs"] = choice["logprobs"]
        extra: dict[str, Any] = {}
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        if reasoning:
            extra["reasoning_content"] = reasoning
        results.append(
            (
                AIMessage(
                    content=message.get("content") or "",
                    tool_calls=calls,
                    invalid_tool_calls=invalid,
                    additional_kwargs=extra,
                    usage_metadata=usage if position == 0 else None,
                    response_metadata={**_message_metadata(payload, model, provider), **info},
                ),
                info,
            )
        )
    return results


@dataclass
class OpenAIChatStream(DeliveredText):
    """Incremental decoder of ``chat.completion.chunk`` records into deltas.

    Tool-call fragments are passed on by ``index`` (an id is generated for calls
    that arrive without one); finish_reason and model_name go on the finishing
    delta and usage on the usage delta (``choices: []``), each exactly once, so
    LangChain's chunk merging keeps them intact.
    """

    model: str
    provider: str
    finished: bool = False
    done: ClassVar[bool] = False
    """The client never stops these streams early."""
    ended: ClassVar[bool] = False
    """They end at the framing's ``[DONE]``."""
    _ids: dict[int, str] = field(default_factory=dict)
    _pieces: list[str] = field(default_factory=list, repr=False)

    def feed(self, record: Record) -> list[Delta]:
        """Decode one chunk record."""
        data = record.data
        deltas: list[Delta] = []
        for choice in data.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue  # streaming carries one generation (n > 1 is refused earlier)
            delta = self._choice(data, choice)
            if delta is not None:
                deltas.append(delta)
        if "usage" in data:
            usage = openai_usage(data["usage"])
            if usage is not None:
                deltas.append(Delta(usage=usage))
        return deltas

    def _choice(self, record: Mapping[str, Any], choice: Mapping[str, Any]) -> Delta | None:
        delta = choice.get("delta") or {}
        text = delta.get("content") or ""
        if (
            not delta.get("tool_calls")
            and not delta.get("reasoning_content")
            and not delta.get("reasoning")
            and choice.get("logprobs") is None
            and choice.get("finish_reason") in (None, "null")
        ):
            if not text:  # the common case, a plain text delta
                return None
            self._pieces.append(text)
            return Delta(text)
        tool_chunks = tool_call_chunks_from_deltas(delta.get("tool_calls") or [])
        for tc in tool_chunks:
            index = tc["index"] if tc["index"] is not None else 0
            if index not in self._ids:
                self._ids[index] = tc["id"] or new_tool_call_id()
                tc["id"] = self._ids[index]
        extra: dict[str, Any] = {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            extra["reasoning_content"] = reasoning
        metadata: dict[str, Any] = {}
        if choice.get("logprobs") is not None:
            metadata["logprobs"] = choice["logprobs"]
        reason = choice.get("finish_reason")
        if reason is not None and reason != "null":
            self.finished = True
            metadata.update(_message_metadata(record, self.model, self.provider))
            metadata["finish_reason"] = reason
        if not (text or tool_chunks or extra or metadata):
            return None
        if text:
            self._pieces.append(text)
        return Delta(
            text,
            tool_calls=tool_chunks or None,
            extra=extra or None,
            metadata=metadata or None,
        )

    def close(self) -> list[Delta]:
        """End of stream: a stream without a finish_reason is incomplete."""
        if not self.finished:
            raise IncompleteStreamError(
                f"{self.provider} stream ended before a finish_reason; the answer is incomplete",
                provider=self.provider,
                partial_text=self.text,
            )
        return []


def openai_chat_body(
    *,
    model: str,
    messages: list[dict[str, Any]],
    params: Mapping[str, Any],
    stream: bool,
    tools: Sequence[Mapping[str, Any]] | None = None,
    tool_choice: str | Mapping[str, Any] | None = None,
    response_format: Mapping[str, Any] | None = None,
    stream_options: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An OpenAI-style chat-completions body; unset (None) params are omitted.

    A JSON ``response_format`` also adds an instruction to the system prompt:
    constrained decoders still need the model to be told to answer in JSON.
    """
    body: dict[str, Any] = {"model": model}
    body.update({k: v for k, v in params.items() if v is not None})
    if response_format:
        body["response_format"] = dict(response_format)
        messages = with_system_instruction(messages, json_instruction(response_format))
    body["messages"] = messages
    if tools:
        body["tools"] = list(tools)
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
    body.update(extra or {})
    if stream:
        body["stream"] = True
        if stream_options is not None:
            body["stream_options"] = dict(stream_options)
    return body


def chat_result(payload: Mapping[str, Any], *, model: str, provider: str) -> ChatResult:
    """A ChatResult (one generation per choice) from a ``chat.completion`` body."""
    choices = parse_chat_completion(payload, model=model, provider=provider)
    first = choices[0][0]
    return ChatResult(
        generations=[ChatGeneration(message=m, generation_info=info) for m, info in choices],
        llm_output={
            "model_name": first.response_metadata.get("model_name"),
            "token_usage": first.usage_metadata,
        },
    )

"""FFMLLM: LangChain text-completion model for FFM's Generate API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseLLM
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import Generation, GenerationChunk, LLMResult

from langchain_ffm_friendli._base import join_chunks, llm_result
from langchain_ffm_friendli._streaming import SSETextSteps, adrive, drive
from langchain_ffm_friendli._transport import HTTPRequest
from langchain_ffm_friendli.ffm import _protocol as proto
from langchain_ffm_friendli.ffm._settings import SAMPLING_FIELDS, FFMSamplingSettings

__all__ = ["FFMLLM"]

_NOT_PAYLOAD = frozenset({*SAMPLING_FIELDS, "stop", "model", "stream"})


class FFMLLM(FFMSamplingSettings, BaseLLM):
    r"""FFM text completion (``POST {base_url}/models/generate``).

    The prompt is sent verbatim as ``inputs``: FFM applies no chat template, so
    for chat behaviour prefer :class:`~langchain_ffm_friendli.ChatFFM`. Same
    fields, ranges and validation as ChatFFM.

    Setup:
        ``pip install langchain-ffm-friendli`` and ``export FFM_API_KEY=...``.

    Key init args:
        model, temperature (0 means greedy), max_tokens (alias max_new_tokens),
        top_p, top_k, frequence_penalty, stop (alias stop_sequences), seed,
        api_key, base_url, api_host, timeout, max_retries, streaming.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import FFMLLM

            llm = FFMLLM(model="llama3-ffm-8b-chat", max_tokens=64, stop=["\n\n"])

    Invoke:
        .. code-block:: python

            llm.invoke("台灣最高的山是")

    Stream:
        .. code-block:: python

            for piece in llm.stream("台灣最高的山是"):
                print(piece, end="")

    Async:
        .. code-block:: python

            await llm.ainvoke("台灣最高的山是")
            await llm.abatch(["a", "b"])  # concurrent

    Token usage:
        .. code-block:: python

            result = llm.generate(["台灣最高的山是"])
            result.llm_output["token_usage"]
            # {"prompt_tokens": ..., "completion_tokens": ..., "total_tokens": ...}
            result.generations[0][0].generation_info  # finish_reason and FFM's counts

    A stop string that FFM echoes at the end of the text is removed.
    """

    @property
    def _llm_type(self) -> str:
        return "ffm-llm"

    def _request(
        self, prompt: str, stop: list[str] | None, stream: bool, kwargs: dict[str, Any]
    ) -> tuple[HTTPRequest, proto.FFMStream]:
        """Validate and build one request before any I/O happens."""
        parameters, stops = self._parameters(stop, kwargs)
        model = kwargs.get("model") or self.model
        extra = {**self.model_kwargs, **{k: v for k, v in kwargs.items() if k not in _NOT_PAYLOAD}}
        body = proto.generate_payload(
            model=model, prompt=prompt, parameters=parameters, stream=stream, extra=extra
        )
        request = HTTPRequest(
            url=f"{self.base_url}/models/generate", headers=self._ffm_headers(), body=body
        )
        return request, proto.FFMStream(model=model, stop=stops)

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        generations: list[list[Generation]] = []
        for prompt in prompts:
            if self.streaming:
                generations.append(
                    [join_chunks(list(self._stream(prompt, stop, run_manager, **kwargs)))]
                )
                continue
            request, decoder = self._request(prompt, stop, False, kwargs)
            text, info = proto.parse_generate(self.transport.post(request), decoder.stop)
            generations.append([Generation(text=text, generation_info=info)])
        return self._result(generations, kwargs)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        async def one(prompt: str) -> Generation:
            if self.streaming:
                return join_chunks(
                    [c async for c in self._astream(prompt, stop, run_manager, **kwargs)]
                )
            request, decoder = self._request(prompt, stop, False, kwargs)
            text, info = proto.parse_generate(await self.transport.apost(request), decoder.stop)
            return Generation(text=text, generation_info=info)

        results = await asyncio.gather(*(one(p) for p in prompts))
        return self._result([[g] for g in results], kwargs)

    def _result(self, generations: list[list[Generation]], kwargs: dict[str, Any]) -> LLMResult:
        usages = [_usage(g[0].generation_info or {}) for g in generations]
        return llm_result(generations, usages, kwargs.get("model") or self.model)

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        request, decoder = self._request(prompt, stop, True, kwargs)
        steps = SSETextSteps(decoder, proto.PROVIDER, _info)
        yield from drive(self.transport.stream_events(request), steps, run_manager)

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        request, decoder = self._request(prompt, stop, True, kwargs)
        steps = SSETextSteps(decoder, proto.PROVIDER, _info)
        async with aclosing(
            adrive(self.transport.astream_events(request), steps, run_manager)
        ) as chunks:
            async for chunk in chunks:
                yield chunk


def _info(chunk: AIMessageChunk) -> dict[str, Any] | None:
    """generation_info of the final chunk: finish reason and FFM's token counts."""
    reason = chunk.response_metadata.get("finish_reason")
    if reason is None:
        return None
    info: dict[str, Any] = {"finish_reason": reason}
    usage = chunk.usage_metadata
    if usage:
        info["prompt_tokens"] = usage["input_tokens"]
        info["generated_tokens"] = usage["output_tokens"]
        info["total_tokens"] = usage["total_tokens"]
    return info


def _usage(info: dict[str, Any]) -> dict[str, Any]:
    """FFM's counts in generation_info, as OpenAI-style usage."""
    return {
        "prompt_tokens": info.get("prompt_tokens"),
        "completion_tokens": info.get("generated_tokens"),
        "total_tokens": info.get("total_tokens"),
    }

"""MonsterAPILLM: LangChain text-generation model for MonsterAPI's ``/v1/generate`` (prompt)."""

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
from langchain_core.outputs import Generation, GenerationChunk, LLMResult

from langchain_ffm_friendli._base import join_chunks, llm_result
from langchain_ffm_friendli._streaming import adrive, drive
from langchain_ffm_friendli._transport import HTTPRequest
from langchain_ffm_friendli.errors import InvalidParameterError
from langchain_ffm_friendli.monsterapi import _protocol as proto
from langchain_ffm_friendli.monsterapi._settings import MonsterAPISettings

__all__ = ["MonsterAPILLM"]

_CALL_ONLY = frozenset({"model", "stream", "stop"})


class MonsterAPILLM(MonsterAPISettings, BaseLLM):
    """MonsterAPI text generation: ``POST {base_url}/generate`` with a ``prompt``.

    The prompt goes to the model verbatim (apply the model's chat template
    yourself, or use :class:`~langchain_ffm_friendli.ChatMonsterAPI`). The prompt
    that the server echoes at the start of the output is removed. ``n`` > 1
    returns n generations per prompt. Same fields and sampling rules as
    ChatMonsterAPI.

    Setup:
        ``pip install langchain-ffm-friendli`` and ``export MONSTER_API_KEY=...``.

    Key init args:
        model, max_tokens, n, best_of, temperature, top_p, top_k, min_p,
        presence_penalty, frequency_penalty, repetition_penalty, use_beam_search,
        length_penalty, early_stopping, stop (applied client-side), api_key,
        base_url (``MONSTER_API_BASE``), timeout, max_retries.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import MonsterAPILLM

            llm = MonsterAPILLM(model="mistralai/Mistral-7B-Instruct-v0.2", max_tokens=128)

    Invoke:
        .. code-block:: python

            llm.invoke("[INST] Name three mountains in Taiwan. [/INST]")

    Stream:
        .. code-block:: python

            for piece in llm.stream("[INST] Tell a story. [/INST]"):
                print(piece, end="")

    Async:
        .. code-block:: python

            await llm.ainvoke("[INST] Hi [/INST]")

    Token usage:
        .. code-block:: python

            result = llm.generate(["..."])
            result.llm_output["token_usage"]  # from response.token_counts
            result.generations[0][0].generation_info["credits_consumed"]
    """

    @property
    def _llm_type(self) -> str:
        return "monsterapi-llm"

    def _request(self, prompt: str, stream: bool, kwargs: dict[str, Any]) -> HTTPRequest:
        settings = self._settings(**kwargs)
        proto.validate_sampling(settings)
        if stream and (settings.get("n") or 1) > 1:
            raise InvalidParameterError(
                "n", "must be 1 when streaming (one text is streamed)", provider=proto.PROVIDER
            )
        extra = {
            **self.model_kwargs,
            **{
                k: v
                for k, v in kwargs.items()
                if k not in proto.SAMPLING_FIELDS and k not in _CALL_ONLY
            },
        }
        body = proto.generate_payload(
            model=kwargs.get("model") or self.model,
            prompt=prompt,
            settings=settings,
            stream=stream,
            extra=extra,
        )
        return HTTPRequest(
            url=f"{self.base_url}/generate", headers=self._monster_headers(), body=body
        )

    def _generations(
        self, payload: Any, prompt: str, stops: list[str]
    ) -> tuple[list[Generation], Any]:
        result = proto.parse_generate(payload, prompt=prompt, stop=stops)
        info: dict[str, Any] = {}
        if result.credits_consumed is not None:
            info["credits_consumed"] = result.credits_consumed
        if result.usage is not None:
            info["token_counts"] = {
                "input": result.usage["input_tokens"],
                "output": result.usage["output_tokens"],
            }
        return [
            Generation(text=t, generation_info=info or None) for t in result.texts
        ], result.usage

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        stops = self._stops(stop, kwargs)
        outputs = []
        for prompt in prompts:
            if self.streaming:
                outputs.append(
                    ([join_chunks(list(self._stream(prompt, stop, run_manager, **kwargs)))], None)
                )
                continue
            payload = self.transport.post(self._request(prompt, False, kwargs))
            outputs.append(self._generations(payload, prompt, stops))
        return self._result(outputs, kwargs)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        stops = self._stops(stop, kwargs)

        async def one(prompt: str) -> tuple[list[Generation], Any]:
            if self.streaming:
                chunks = [c async for c in self._astream(prompt, stop, run_manager, **kwargs)]
                return [join_chunks(chunks)], None
            payload = await self.transport.apost(self._request(prompt, False, kwargs))
            return self._generations(payload, prompt, stops)

        return self._result(list(await asyncio.gather(*(one(p) for p in prompts))), kwargs)

    def _result(
        self, outputs: list[tuple[list[Generation], Any]], kwargs: dict[str, Any]
    ) -> LLMResult:
        usages = [
            {
                "prompt_tokens": u["input_tokens"],
                "completion_tokens": u["output_tokens"],
                "total_tokens": u["total_tokens"],
            }
            if u
            else None
            for _, u in outputs
        ]
        return llm_result([g for g, _ in outputs], usages, kwargs.get("model") or self.model)

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        request = self._request(prompt, True, kwargs)
        steps = self._steps(prompt, stop, kwargs)
        yield from drive(self.transport.stream_bytes(request), steps, run_manager)

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        request = self._request(prompt, True, kwargs)
        steps = self._steps(prompt, stop, kwargs)
        async with aclosing(
            adrive(self.transport.astream_bytes(request), steps, run_manager)
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    def _steps(
        self, prompt: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> proto.NulSteps[GenerationChunk]:
        return proto.NulSteps(
            self._cumulative(prompt, stop, kwargs), lambda t: GenerationChunk(text=t), _final
        )

    def _cumulative(
        self, prompt: str, stop: list[str] | None, kwargs: dict[str, Any]
    ) -> proto.CumulativeStream:
        beam = kwargs.get("use_beam_search", self.use_beam_search)
        return proto.CumulativeStream(
            prompt=prompt, stop=self._stops(stop, kwargs), buffered=bool(beam)
        )


def _final(decoder: proto.CumulativeStream) -> GenerationChunk:
    info: dict[str, Any] = {"finish_reason": "stop"} if decoder.stopped else {}
    if decoder.credits_consumed is not None:
        info["credits_consumed"] = decoder.credits_consumed
    return GenerationChunk(text="", generation_info=info or None)

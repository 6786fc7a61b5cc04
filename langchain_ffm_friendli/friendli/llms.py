"""FriendliLLM: LangChain text-completion model for Friendli's ``/completions``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseLLM
from langchain_core.outputs import Generation, GenerationChunk, LLMResult

from langchain_ffm_friendli._base import join_chunks, llm_result
from langchain_ffm_friendli._streaming import adrive, drive
from langchain_ffm_friendli._transport import HTTPRequest
from langchain_ffm_friendli.errors import IncompleteStreamError
from langchain_ffm_friendli.friendli import _protocol as proto
from langchain_ffm_friendli.friendli._settings import FriendliClientSettings

__all__ = ["FriendliLLM"]

_CALL_ONLY = frozenset({"model", "stream", "stream_options", "tokens"})


class FriendliLLM(FriendliClientSettings, BaseLLM):
    """Friendli text completions with every documented parameter.

    ``POST {base_url}/completions`` on serverless, dedicated or container
    endpoints (same credentials, team header and endpoint rules as
    :class:`~langchain_ffm_friendli.ChatFriendli`). The prompt comes from
    LangChain; pass ``tokens=[...]`` per call to send token ids instead.

    Setup:
        ``pip install langchain-ffm-friendli`` and ``export FRIENDLI_TOKEN=flp_...``.

    Key init args (Friendli's names; also per-call kwargs; unset ones not sent):
        bad_word_tokens, bad_words, beam_search_type, early_stopping,
        embedding_to_replace, encoder_no_repeat_ngram, encoder_repetition_penalty,
        eos_token, frequency_penalty, include_output_logits, include_output_logprobs,
        length_penalty, max_tokens, max_total_tokens, min_tokens, min_total_tokens,
        n, no_repeat_ngram, num_beams, presence_penalty, repetition_penalty,
        response_format, seed, stop, stop_tokens, temperature, timeout_microseconds,
        token_index_to_replace, top_k, top_p, min_p, logprobs (an integer here),
        stream_usage.

    The documented constraints are checked before any request: max_tokens vs
    max_total_tokens and min_tokens vs min_total_tokens; num_beams in 1..31;
    beam search not with streaming, n > 1 or stop (use stop_tokens);
    DETERMINISTIC beam search without top_k/top_p; beam_search_type,
    early_stopping and length_penalty only with num_beams.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import FriendliLLM

            llm = FriendliLLM(model="meta-llama-3.1-8b-instruct", max_tokens=64)

    Invoke:
        .. code-block:: python

            llm.invoke("Say this is a test")
            llm.invoke("", tokens=[128000, 2028, 374])  # token ids instead of text

    Stream:
        .. code-block:: python

            for piece in llm.stream("Once upon a time"):
                print(piece, end="")

    Async:
        .. code-block:: python

            await llm.ainvoke("Say this is a test")
            await llm.abatch(["a", "b"])  # concurrent

    Token usage:
        ``llm.generate([...]).llm_output["token_usage"]``; streams ask for the
        usage chunk (``stream_usage=True``).

    Generation info:
        ``finish_reason``, ``seed``, ``tokens`` and ``logprobs`` when sent;
        ``llm_output`` has ``token_usage`` and ``model_name``. ``n`` > 1 gives n
        generations per prompt. Streams in the current format and in the legacy
        ``token_sampled`` format are both decoded.
    """

    bad_word_tokens: list[dict[str, list[int]]] | None = None
    bad_words: list[str] | None = None
    beam_search_type: Literal["DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING"] | None = None
    early_stopping: bool | None = None
    embedding_to_replace: list[float] | None = None
    encoder_no_repeat_ngram: int | None = None
    encoder_repetition_penalty: float | None = None
    eos_token: list[int] | None = None
    frequency_penalty: float | None = None
    include_output_logits: bool | None = None
    include_output_logprobs: bool | None = None
    length_penalty: float | None = None
    max_tokens: int | None = None
    max_total_tokens: int | None = None
    min_tokens: int | None = None
    min_total_tokens: int | None = None
    n: int | None = None
    no_repeat_ngram: int | None = None
    num_beams: int | None = None
    presence_penalty: float | None = None
    repetition_penalty: float | None = None
    response_format: dict[str, Any] | None = None
    seed: int | list[int] | None = None
    stop: list[str] | None = None
    stop_tokens: list[dict[str, list[int]]] | None = None
    temperature: float | None = None
    timeout_microseconds: int | None = None
    token_index_to_replace: list[int] | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    logprobs: int | None = None
    """Number of top log probabilities per token (an integer for completions)."""
    streaming: bool = False
    """If True, ``invoke`` goes through the stream."""
    stream_usage: bool = True
    """Ask for the final usage chunk when streaming."""

    def model_post_init(self, context: Any, /) -> None:
        """Check the documented constraints at construction, naming the fields."""
        super().model_post_init(context)
        proto.validate_completions(self._settings(), stream=self.streaming)

    @property
    def _llm_type(self) -> str:
        return "friendli-llm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, **self._settings()}

    def _settings(self, **overrides: Any) -> dict[str, Any]:
        settings = {name: getattr(self, name) for name in proto.COMPLETION_FIELDS}
        settings.update({k: v for k, v in overrides.items() if k in settings})
        if settings.get("stop") == []:
            settings["stop"] = None
        return settings

    def _request(
        self, prompt: str, stop: list[str] | None, stream: bool, kwargs: dict[str, Any]
    ) -> HTTPRequest:
        """Validate and build one request before any I/O happens."""
        settings = self._settings(**kwargs)
        if stop is not None:
            settings["stop"] = stop
        proto.validate_completions(settings, stream=stream)
        body: dict[str, Any] = {"model": kwargs.get("model") or self.model}
        if kwargs.get("tokens") is not None:
            body["tokens"] = list(kwargs["tokens"])
        else:
            body["prompt"] = prompt
        body.update({k: v for k, v in settings.items() if v is not None})
        body.update(self.model_kwargs)
        body.update(
            {
                k: v
                for k, v in kwargs.items()
                if k not in proto.COMPLETION_FIELDS and k not in _CALL_ONLY
            }
        )
        if stream:
            body["stream"] = True
            if "stream_options" in kwargs:
                body["stream_options"] = kwargs["stream_options"]
            elif self.stream_usage:
                body["stream_options"] = {"include_usage": True}
        return HTTPRequest(
            url=f"{self.base_url}/completions", headers=self._friendli_headers(), body=body
        )

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        outputs = []
        for prompt in prompts:
            if self.streaming:
                outputs.append(_streamed(list(self._stream(prompt, stop, run_manager, **kwargs))))
                continue
            outputs.append(_parse(self.transport.post(self._request(prompt, stop, False, kwargs))))
        return self._result(outputs, kwargs)

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        async def one(prompt: str) -> tuple[list[Generation], dict[str, Any]]:
            if self.streaming:
                return _streamed(
                    [c async for c in self._astream(prompt, stop, run_manager, **kwargs)]
                )
            return _parse(await self.transport.apost(self._request(prompt, stop, False, kwargs)))

        return self._result(list(await asyncio.gather(*(one(p) for p in prompts))), kwargs)

    def _result(
        self, outputs: list[tuple[list[Generation], dict[str, Any]]], kwargs: dict[str, Any]
    ) -> LLMResult:
        return llm_result(
            [g for g, _ in outputs], [u for _, u in outputs], kwargs.get("model") or self.model
        )

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        request = self._request(prompt, stop, True, kwargs)
        yield from drive(
            self.transport.stream_events(request), proto.CompletionStream(), run_manager
        )

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        request = self._request(prompt, stop, True, kwargs)
        steps = proto.CompletionStream()
        async with aclosing(
            adrive(self.transport.astream_events(request), steps, run_manager)
        ) as chunks:
            async for chunk in chunks:
                yield chunk


def _parse(payload: dict[str, Any]) -> tuple[list[Generation], dict[str, Any]]:
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices:
        raise IncompleteStreamError(
            f"friendli completion has no choices: {str(payload)[:300]}",
            provider=proto.PROVIDER,
            raw_record=str(payload)[:2000],
        )
    ordered = sorted(choices, key=lambda c: c.get("index", 0))
    generations = [
        Generation(
            text=c.get("text") or "", generation_info=proto.completion_generation_info(c) or None
        )
        for c in ordered
    ]
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
    return generations, usage or {}


def _streamed(chunks: list[GenerationChunk]) -> tuple[list[Generation], dict[str, Any]]:
    generation = join_chunks(chunks)
    info = dict(generation.generation_info or {})
    usage = info.pop("usage", {})
    return [Generation(text=generation.text, generation_info=info or None)], usage

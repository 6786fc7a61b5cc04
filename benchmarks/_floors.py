"""The floor: what any LangChain model over HTTP must pay, and nothing more.

A floor call is two parts, timed together:

* the raw request: ``httpx`` POST of the same JSON body to the same route, then
  JSON decoding of the answer (for streams: an ``httpx-sse`` loop that decodes
  every data event, or for MonsterAPI's NUL-delimited stream, ``iter_raw`` +
  split on ``\\0`` + ``json.loads`` per record);
* langchain-core's own per-call and per-chunk cost: a do-nothing model
  (:class:`NullChat` / :class:`NullLLM`) that returns or yields the same content
  as the route did, without I/O, through ``invoke`` / ``stream``.

For streams the two parts run interleaved, as in any streaming client: the
do-nothing model's ``_stream`` (:class:`PipeChat` / :class:`PipeLLM`) yields
each chunk as soon as the raw loop has decoded its record. The *buffered* floor
runs them one after the other (the whole body first, then the chunks); it is
cheaper, because each loop keeps its own code hot in the CPU caches, but it is
no stream: its first chunk comes after the last byte. Both are reported.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from httpx_sse import EventSource
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, BaseLLM
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult,
    Generation,
    GenerationChunk,
    LLMResult,
)

Framing = Literal["sse", "nul"]


class NullChat(BaseChatModel):
    """A chat model that returns ``content`` or yields ``pieces``, doing nothing else."""

    content: str = ""
    pieces: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "null-chat"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.content))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.content))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for piece in self.pieces:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for piece in self.pieces:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                await run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


class NullLLM(BaseLLM):
    """A text-completion model that returns ``content`` or yields ``pieces``."""

    content: str = ""
    pieces: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "null-llm"

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        return LLMResult(generations=[[Generation(text=self.content)] for _ in prompts])

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        return LLMResult(generations=[[Generation(text=self.content)] for _ in prompts])

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        for piece in self.pieces:
            chunk = GenerationChunk(text=piece)
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        for piece in self.pieces:
            chunk = GenerationChunk(text=piece)
            if run_manager:
                await run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


class PipeChat(NullChat):
    """:class:`NullChat` whose stream yields each piece when the raw loop decodes its record."""

    records: Callable[[], Iterator[Any]] | None = None
    arecords: Callable[[], AsyncIterator[Any]] | None = None

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        assert self.records is not None
        for _record, piece in zip(self.records(), self.pieces, strict=False):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        assert self.arecords is not None
        pieces = iter(self.pieces)
        async for _record in self.arecords():
            piece = next(pieces, "")
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                await run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


class PipeLLM(NullLLM):
    """:class:`NullLLM` whose stream yields each piece when the raw loop decodes its record."""

    records: Callable[[], Iterator[Any]] | None = None
    arecords: Callable[[], AsyncIterator[Any]] | None = None

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        assert self.records is not None
        for _record, piece in zip(self.records(), self.pieces, strict=False):
            chunk = GenerationChunk(text=piece)
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        assert self.arecords is not None
        pieces = iter(self.pieces)
        async for _record in self.arecords():
            piece = next(pieces, "")
            chunk = GenerationChunk(text=piece)
            if run_manager:
                await run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


@dataclass(frozen=True)
class RawRoute:
    """One route as a bare HTTP client sees it: URL, headers, the JSON bodies, framing."""

    url: str
    headers: Mapping[str, str]
    invoke_body: Mapping[str, Any]
    stream_body: Mapping[str, Any]
    framing: Framing

    # ------------------------------------------------------------------ sync

    def invoke(self, client: httpx.Client) -> Any:
        """POST and decode the JSON answer."""
        response = client.post(self.url, json=self.invoke_body, headers=self.headers)
        response.raise_for_status()
        return response.json()

    def stream(self, client: httpx.Client) -> list[Any]:
        """POST a stream request and decode every record (pings and [DONE] skipped)."""
        return list(self.iter_records(client))

    def iter_records(self, client: httpx.Client) -> Iterator[Any]:
        """:meth:`stream`, yielding each record as soon as it is decoded."""
        with client.stream("POST", self.url, json=self.stream_body, headers=self.headers) as r:
            r.raise_for_status()
            if self.framing == "sse":
                for event in EventSource(r).iter_sse():
                    if event.event == "message" and event.data != "[DONE]":
                        yield json.loads(event.data)
            else:
                buffer = b""
                for data in r.iter_raw():
                    buffer += data
                    *complete, buffer = buffer.split(b"\0")
                    for raw in complete:
                        if raw:
                            yield json.loads(raw)

    # ------------------------------------------------------------------ async

    async def ainvoke(self, client: httpx.AsyncClient) -> Any:
        """Async :meth:`invoke`."""
        response = await client.post(self.url, json=self.invoke_body, headers=self.headers)
        response.raise_for_status()
        return response.json()

    async def astream(self, client: httpx.AsyncClient) -> list[Any]:
        """Async :meth:`stream`."""
        return [record async for record in self.aiter_records(client)]

    async def aiter_records(self, client: httpx.AsyncClient) -> AsyncIterator[Any]:
        """Async :meth:`iter_records`."""
        async with client.stream(
            "POST", self.url, json=self.stream_body, headers=self.headers
        ) as r:
            r.raise_for_status()
            if self.framing == "sse":
                async for event in EventSource(r).aiter_sse():
                    if event.event == "message" and event.data != "[DONE]":
                        yield json.loads(event.data)
            else:
                buffer = b""
                async for data in r.aiter_raw():
                    buffer += data
                    *complete, buffer = buffer.split(b"\0")
                    for raw in complete:
                        if raw:
                            yield json.loads(raw)

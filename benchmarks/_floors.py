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
from langchain_core.language_models import BaseChatModel, BaseLLM
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    ChatResult,
    Generation,
    GenerationChunk,
    LLMResult,
)
from pydantic import BaseModel

Framing = Literal["sse", "nul"]


async def _apieces(pieces: list[str]) -> AsyncIterator[str]:
    for piece in pieces:
        yield piece


class _NothingElse(BaseModel):
    """The do-nothing models' fields and one loop: a chunk per piece, the token callback.

    Without ``records`` the pieces are yielded at once (the buffered floor); with them,
    each piece when the raw loop has decoded its record (the streaming floor).
    """

    content: str = ""
    pieces: list[str] = []
    records: Callable[[], Iterator[Any]] | None = None
    arecords: Callable[[], AsyncIterator[Any]] | None = None

    @property
    def _llm_type(self) -> str:
        return f"null-{type(self).__name__.lower()}"

    @staticmethod
    def _chunk(piece: str) -> Any:
        raise NotImplementedError

    def _generate(self, input: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def _agenerate(self, input: Any, *args: Any, **kwargs: Any) -> Any:
        return self._generate(input)

    def _stream(self, input: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
        return self._chunks(run_manager)

    def _astream(self, input: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> Any:
        return self._achunks(run_manager)

    def _chunks(self, run_manager: Any) -> Iterator[Any]:
        records = self.records() if self.records is not None else self.pieces
        for _record, piece in zip(records, self.pieces, strict=False):
            chunk = self._chunk(piece)
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    async def _achunks(self, run_manager: Any) -> AsyncIterator[Any]:
        pieces = iter(self.pieces)
        records = self.arecords() if self.arecords is not None else _apieces(self.pieces)
        async for _record in records:
            piece = next(pieces, "")
            chunk = self._chunk(piece)
            if run_manager:
                await run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


class NullChat(_NothingElse, BaseChatModel):
    """A chat model that returns ``content`` or yields ``pieces``, doing nothing else."""

    @staticmethod
    def _chunk(piece: str) -> ChatGenerationChunk:
        return ChatGenerationChunk(message=AIMessageChunk(content=piece))

    def _generate(self, messages: Any, *args: Any, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.content))])


class NullLLM(_NothingElse, BaseLLM):
    """A text-completion model that returns ``content`` or yields ``pieces``."""

    @staticmethod
    def _chunk(piece: str) -> GenerationChunk:
        return GenerationChunk(text=piece)

    def _generate(self, prompts: list[str], *args: Any, **kwargs: Any) -> LLMResult:
        return LLMResult(generations=[[Generation(text=self.content)] for _ in prompts])


# The streaming floors are the same models with ``records`` set (names kept for the report).
PipeChat = NullChat
PipeLLM = NullLLM


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

"""Shared table and helpers for the reliability suite (test_reliability_*.py).

Every public class is described once in :data:`TARGETS`; a test parametrized over
:data:`CASES` runs against each class through each of its entry points (chat:
invoke / stream / astream; LLM: invoke / stream / astream; embeddings:
embed_documents / aembed_documents), over real sockets against the emulator.
Retry waits are recorded through the transport's injectable ``sleep`` / ``asleep``
(never slept), and jitter is pinned to 0 so backoffs are exact.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FFMEmbeddings,
    FriendliLLM,
    MonsterAPILLM,
)
from langchain_ffm_friendli.testing import Emulator

PROMPT = "hi"
DOCS = ["台北 is a city", "second document"]

CHAT_OPS = ("invoke", "stream", "astream")
LLM_OPS = ("invoke", "stream", "astream")
EMBED_OPS = ("embed_documents", "aembed_documents")
STREAM_OPS = ("stream", "astream")


@dataclass(frozen=True)
class Target:
    """One public class: how to build it against the emulator and how it authenticates."""

    name: str
    cls: type[Any]
    kind: str  # "chat", "llm" or "embeddings"
    model: str
    base_url: Callable[[Emulator], str]
    key_header: str
    framing: str = "sse"  # "sse" or "nul" (MonsterAPI /generate)

    @property
    def ops(self) -> tuple[str, ...]:
        return {"chat": CHAT_OPS, "llm": LLM_OPS, "embeddings": EMBED_OPS}[self.kind]

    def sent_key(self, key: str) -> str:
        """The header value that carries ``key`` on the wire."""
        return key if self.key_header == "x-api-key" else f"Bearer {key}"


TARGETS = [
    Target(
        "ChatFFM",
        ChatFFM,
        "chat",
        "llama3.3-ffm-70b-32k-chat",
        lambda e: e.ffm_base_url,
        "x-api-key",
    ),
    Target(
        "FFMLLM", FFMLLM, "llm", "llama3.3-ffm-70b-32k-chat", lambda e: e.ffm_base_url, "x-api-key"
    ),
    Target(
        "FFMEmbeddings",
        FFMEmbeddings,
        "embeddings",
        "ffm-embedding",
        lambda e: e.ffm_base_url,
        "x-api-key",
    ),
    Target(
        "ChatFriendli",
        ChatFriendli,
        "chat",
        "meta-llama-3.1-8b-instruct",
        lambda e: e.friendli_base_url,
        "authorization",
    ),
    Target(
        "FriendliLLM",
        FriendliLLM,
        "llm",
        "meta-llama-3.1-8b-instruct",
        lambda e: e.friendli_base_url,
        "authorization",
    ),
    Target(
        "ChatMonsterAPI",
        ChatMonsterAPI,
        "chat",
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
        lambda e: e.monsterapi_base_url,
        "authorization",
        "nul",
    ),
    Target(
        "MonsterAPILLM",
        MonsterAPILLM,
        "llm",
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
        lambda e: e.monsterapi_base_url,
        "authorization",
        "nul",
    ),
]
BY_NAME = {t.name: t for t in TARGETS}

CASES = [pytest.param(t, op, id=f"{t.name}-{op}") for t in TARGETS for op in t.ops]
STREAM_CASES = [
    pytest.param(t, op, id=f"{t.name}-{op}") for t in TARGETS for op in t.ops if op in STREAM_OPS
]
TARGET_PARAMS = [pytest.param(t, id=t.name) for t in TARGETS]


@dataclass
class Waits:
    """Retry waits recorded instead of slept, split by the sync and async paths."""

    sync: list[float] = field(default_factory=list)
    async_: list[float] = field(default_factory=list)

    def for_op(self, op: str) -> list[float]:
        """The waits of the path ``op`` uses; the other path must stay empty."""
        used, unused = (self.async_, self.sync) if is_async(op) else (self.sync, self.async_)
        assert unused == [], "the wrong sleep was used"
        return used


def make(target: Target, emu: Emulator | None = None, **kw: Any) -> tuple[Any, Waits]:
    """An instance pointed at the emulator (or at ``base_url`` in kw), waits recorded."""
    params: dict[str, Any] = {"model": target.model}
    if emu is not None:
        params.update(base_url=target.base_url(emu), api_key=emu.api_key)
    params.update(kw)
    obj = target.cls(**params)
    waits = Waits()
    transport = obj.transport
    transport.sleep = waits.sync.append
    transport.jitter = lambda: 0.0

    async def asleep(seconds: float) -> None:
        waits.async_.append(seconds)

    transport.asleep = asleep
    return obj, waits


def is_async(op: str) -> bool:
    return op.startswith("a")


def piece(chunk: Any) -> str:
    """The text a consumer sees in one streamed chunk (chat chunk or LLM string)."""
    return chunk if isinstance(chunk, str) else str(chunk.content)


async def call(obj: Any, op: str, received: list[str] | None = None) -> Any:
    """Run one entry point to completion; streamed text is appended to ``received``."""
    sink = received if received is not None else []
    if op == "invoke":
        result = obj.invoke(PROMPT)
        return result if isinstance(result, str) else str(result.content)
    if op == "stream":
        for chunk in obj.stream(PROMPT):
            sink.append(piece(chunk))
        return "".join(sink)
    if op == "astream":
        async for chunk in obj.astream(PROMPT):
            sink.append(piece(chunk))
        return "".join(sink)
    if op == "embed_documents":
        return obj.embed_documents(DOCS)
    if op == "aembed_documents":
        return await obj.aembed_documents(DOCS)
    raise AssertionError(op)


def checked_out(client: httpx.Client | httpx.AsyncClient) -> int:
    """Connections of an httpx client's pool that are in use (not idle, not closed)."""
    pool = client._transport._pool  # type: ignore[union-attr]
    return sum(1 for c in pool.connections if not c.is_idle() and not c.is_closed())


def open_fds() -> int:
    """The process's open file descriptors (client and emulator sockets included)."""
    return len(os.listdir("/proc/self/fd"))


async def settle(emu: Emulator, connections: int = 0) -> None:
    """Let finalizers run and the emulator see closed connections."""
    for _ in range(5):
        await asyncio.sleep(0)
    assert await asyncio.to_thread(emu.wait_for_connections, connections)

"""Per-call overhead of every model class over the floor, and of ChatOpenAI, sync and async.

For each class: ``invoke`` and a 200-chunk ``stream`` against its emulator route,
next to the floor for the same route and payload (see :mod:`benchmarks._floors`)
and, on the OpenAI-compatible Friendli chat route, ``langchain_openai.ChatOpenAI``.

Method: the emulator runs in its own process (no shared GIL); the prompt is sized
so that the default reply is exactly 200 tokens (one stream event each) and every
contender gets the same route and the same request body (the floor replays the
exact body our class sends). Contenders run in interleaved batches, rotating the
order every round; the ratio is the median over rounds of ours / floor measured
in the same round, so slow drifts of a noisy machine cancel out.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from langchain_core.language_models import BaseLanguageModel

from benchmarks._floors import Framing, NullChat, NullLLM, PipeChat, PipeLLM, RawRoute
from benchmarks._server import API_KEY, emulator_process
from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FriendliLLM,
    MonsterAPILLM,
)

Op = Literal["invoke", "stream", "embed"]
Mode = Literal["sync", "async"]

CHUNKS = 200
TARGETS: Mapping[Op, float] = {"invoke": 1.1, "stream": 1.1, "embed": 1.1}
OPENAI_RATIO_TARGET = 0.45
"""Ours / ChatOpenAI on the same route, paired per round."""
EMBED_TEXTS = 16
_HEADERS_KEPT = ("authorization", "x-api-key", "x-api-host", "x-friendli-team", "accept")


# --------------------------------------------------------------------------- routes


def _openai_text(payload: Any) -> str:
    return str(payload["choices"][0]["message"]["content"])


def _openai_pieces(records: list[Any], prompt: str) -> list[str]:
    out = []
    for record in records:
        choices = record.get("choices") or [{}]
        out.append((choices[0].get("delta") or {}).get("content") or "")
    return out


def _completion_text(payload: Any) -> str:
    return str(payload["choices"][0]["text"])


def _completion_pieces(records: list[Any], prompt: str) -> list[str]:
    return [str((r.get("choices") or [{}])[0].get("text") or "") for r in records]


def _ffm_text(payload: Any) -> str:
    return str(payload["generated_text"])


def _ffm_pieces(records: list[Any], prompt: str) -> list[str]:
    return [str(r.get("generated_text") or "") for r in records]


def _monster_texts(record: Any) -> list[str]:
    if isinstance(record, dict):
        record = record.get("response", record)
        if isinstance(record, dict):
            record = record.get("text")
    return list(record) if isinstance(record, list) else [str(record)]


def _monster_text(payload: Any) -> str:
    return _monster_texts(payload)[0]


def _monster_pieces(records: list[Any], prompt: str) -> list[str]:
    previous = ""
    out = []
    for record in records:
        text = _monster_texts(record)[0]
        out.append(text[len(previous) :])
        previous = text
    if out and prompt and out[0].startswith(prompt):
        out[0] = out[0][len(prompt) :]
    return out


@dataclass(frozen=True)
class Scenario:
    """One model class against its emulator route."""

    name: str
    kind: Literal["chat", "llm"]
    make: Callable[[str], BaseLanguageModel[Any]]
    framing: Framing
    text_of: Callable[[Any], str]
    pieces_of: Callable[[list[Any], str], list[str]]
    openai: bool = False
    """Also time ChatOpenAI on this route (it speaks the same protocol)."""


def _ffm(url: str) -> str:
    return f"{url}/ffm/api"


def _friendli(url: str) -> str:
    return f"{url}/friendli/serverless/v1"


def _monster(url: str) -> str:
    return f"{url}/monsterapi/v1"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "ChatFFM",
        "chat",
        lambda url: ChatFFM(model="ffm-llama3-70b-chat", base_url=_ffm(url), api_key=API_KEY),
        "sse",
        _ffm_text,
        _ffm_pieces,
    ),
    Scenario(
        "ChatFriendli",
        "chat",
        lambda url: ChatFriendli(
            model="meta-llama-3.1-8b-instruct", base_url=_friendli(url), api_key=API_KEY
        ),
        "sse",
        _openai_text,
        _openai_pieces,
        openai=True,
    ),
    Scenario(
        "ChatMonsterAPI",
        "chat",
        lambda url: ChatMonsterAPI(
            model="meta-llama/Meta-Llama-3.1-8B-Instruct", base_url=_monster(url), api_key=API_KEY
        ),
        "nul",
        _monster_text,
        _monster_pieces,
    ),
    Scenario(
        "FFMLLM",
        "llm",
        lambda url: FFMLLM(model="ffm-llama3-70b-chat", base_url=_ffm(url), api_key=API_KEY),
        "sse",
        _ffm_text,
        _ffm_pieces,
    ),
    Scenario(
        "FriendliLLM",
        "llm",
        lambda url: FriendliLLM(
            model="meta-llama-3.1-8b-instruct", base_url=_friendli(url), api_key=API_KEY
        ),
        "sse",
        _completion_text,
        _completion_pieces,
    ),
    Scenario(
        "MonsterAPILLM",
        "llm",
        lambda url: MonsterAPILLM(
            model="meta-llama/Meta-Llama-3.1-8B-Instruct", base_url=_monster(url), api_key=API_KEY
        ),
        "nul",
        _monster_text,
        _monster_pieces,
    ),
)


def make_openai(url: str) -> Any:
    """ChatOpenAI pointed at the emulator's Friendli chat route (same body as ours)."""
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model="meta-llama-3.1-8b-instruct",
        base_url=_friendli(url),
        api_key=API_KEY,  # type: ignore[arg-type]
        stream_usage=True,
    )


# --------------------------------------------------------------------------- calibration


def capture(scenario: Scenario, url: str, prompt: str) -> RawRoute:
    """The exact request our class sends (URL, auth headers, invoke and stream bodies)."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(400, json={"detail": "captured"})

    model = scenario.make(url).model_copy(
        update={"http_client": httpx.Client(transport=httpx.MockTransport(handler))}
    )
    for call in (model.invoke, lambda p: list(model.stream(p))):
        with contextlib.suppress(Exception):  # the 400 is the point
            call(prompt)
    invoke, stream = seen
    headers = {k: v for k, v in invoke.headers.items() if k.lower() in _HEADERS_KEPT}
    return RawRoute(
        url=str(invoke.url),
        headers=headers,
        invoke_body=json.loads(invoke.content),
        stream_body=json.loads(stream.content),
        framing=scenario.framing,
    )


@dataclass
class Calibrated:
    """A scenario ready to time: prompt, raw route, do-nothing model, chunk counts."""

    scenario: Scenario
    prompt: str
    route: RawRoute
    null: BaseLanguageModel[Any]
    records: int
    text_chunks: int


def calibrate(scenario: Scenario, url: str) -> Calibrated:
    """Size the prompt so the reply streams exactly ``CHUNKS`` text pieces."""
    words = 189
    with httpx.Client() as client:
        for _ in range(5):
            prompt = " ".join(["x"] * words)
            route = capture(scenario, url, prompt)
            records = route.stream(client)
            pieces = scenario.pieces_of(records, prompt)
            text = sum(1 for p in pieces if p)
            if text == CHUNKS:
                break
            words += CHUNKS - text
        else:
            raise RuntimeError(f"{scenario.name}: cannot size a {CHUNKS}-chunk reply")
        content = scenario.text_of(route.invoke(client))
    if scenario.kind == "llm" and content.startswith(prompt):
        content = content[len(prompt) :]
    null_cls = NullChat if scenario.kind == "chat" else NullLLM
    null = null_cls(content=content, pieces=pieces)
    return Calibrated(scenario, prompt, route, null, len(records), text)


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Per-call seconds of each contender, one value per round."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        """Median per-call seconds."""
        return statistics.median(self.samples[name])

    def ratio(self, name: str, base: str) -> float:
        """Median over rounds of ``name / base`` measured in the same round."""
        return statistics.median(
            a / b for a, b in zip(self.samples[name], self.samples[base], strict=True)
        )


def _schedule(names: list[str], rounds: int) -> Iterator[str]:
    """Each contender once per round, the order rotated every round."""
    for r in range(rounds):
        yield from names[r % len(names) :] + names[: r % len(names)]


def _batch_seconds(fn: Callable[[], Any], batch: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(batch):
        fn()
    return (time.perf_counter() - start) / batch


async def _abatch_seconds(fn: Callable[[], Awaitable[Any]], batch: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(batch):
        await fn()
    return (time.perf_counter() - start) / batch


def time_sync(contenders: dict[str, Callable[[], Any]], rounds: int, batch: int) -> Timing:
    """Interleaved batches, the order rotated every round (after a warm-up of each)."""
    for fn in contenders.values():  # warm up: connections, caches, lazy imports
        _batch_seconds(fn, 3)
    timing = Timing({n: [] for n in contenders})
    for name in _schedule(list(contenders), rounds):
        timing.samples[name].append(_batch_seconds(contenders[name], batch))
    return timing


async def time_async(
    contenders: dict[str, Callable[[], Awaitable[Any]]], rounds: int, batch: int
) -> Timing:
    """Async :func:`time_sync` (one call at a time, on one event loop)."""
    for fn in contenders.values():
        await _abatch_seconds(fn, 3)
    timing = Timing({n: [] for n in contenders})
    for name in _schedule(list(contenders), rounds):
        timing.samples[name].append(await _abatch_seconds(contenders[name], batch))
    return timing


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    """One class x mode x operation."""

    name: str
    kind: str
    mode: Mode
    op: Op
    ours_s: float
    floor_s: float
    ratio: float
    chunks: int
    openai_s: float | None = None
    openai_ratio: float | None = None
    """ChatOpenAI / floor."""
    vs_openai: float | None = None
    """Ours / ChatOpenAI, paired per round."""
    buffered_s: float | None = None
    """Streams: the buffered floor (whole body first, then the chunks), no stream at all."""
    buffered_ratio: float | None = None
    """Ours / the buffered floor."""

    @property
    def target(self) -> float:
        """The ratio to stay under."""
        return TARGETS[self.op]

    @property
    def per_chunk_us(self) -> float | None:
        """Microseconds per chunk above the floor (streams only)."""
        if self.op != "stream" or not self.chunks:
            return None
        return (self.ours_s - self.floor_s) / self.chunks * 1e6

    @property
    def met(self) -> bool:
        """Whether the floor target (and the ChatOpenAI one, where it applies) is met."""
        ok = self.ratio <= self.target
        if self.vs_openai is not None:
            ok = ok and self.vs_openai <= OPENAI_RATIO_TARGET
        return ok


def _drain(iterator: Any) -> int:
    n = 0
    for _ in iterator:
        n += 1
    return n


async def _adrain(iterator: Any) -> int:
    n = 0
    async for _ in iterator:
        n += 1
    return n


def _pipe(cal: Calibrated, **source: Any) -> BaseLanguageModel[Any]:
    """The streaming floor: the do-nothing model fed, record by record, by the raw loop."""
    cls = PipeChat if cal.scenario.kind == "chat" else PipeLLM
    return cls(content=cal.null.content, pieces=cal.null.pieces, **source)  # type: ignore[attr-defined]


def _contenders_sync(cal: Calibrated, url: str, op: Op, client: httpx.Client) -> dict[str, Any]:
    ours = cal.scenario.make(url)
    prompt, route, null = cal.prompt, cal.route, cal.null
    out: dict[str, Callable[[], Any]]
    if op == "invoke":
        out = {
            "ours": lambda: ours.invoke(prompt),
            "floor": lambda: (route.invoke(client), null.invoke(prompt)),
        }
        if cal.scenario.openai:
            openai = make_openai(url)
            out["openai"] = lambda: openai.invoke(prompt)
    else:
        pipe = _pipe(cal, records=lambda: route.iter_records(client))
        out = {
            "ours": lambda: _drain(ours.stream(prompt)),
            "floor": lambda: _drain(pipe.stream(prompt)),
            "buffered": lambda: (route.stream(client), _drain(null.stream(prompt))),
        }
        if cal.scenario.openai:
            openai = make_openai(url)
            out["openai"] = lambda: _drain(openai.stream(prompt))
    return out


def _contenders_async(
    cal: Calibrated, url: str, op: Op, client: httpx.AsyncClient
) -> dict[str, Any]:
    ours = cal.scenario.make(url)
    prompt, route, null = cal.prompt, cal.route, cal.null
    openai = make_openai(url) if cal.scenario.openai else None
    out: dict[str, Callable[[], Awaitable[Any]]] = {}
    if op == "invoke":

        async def floor_invoke() -> None:
            await route.ainvoke(client)
            await null.ainvoke(prompt)

        out["ours"] = lambda: ours.ainvoke(prompt)
        out["floor"] = floor_invoke
        if openai is not None:
            out["openai"] = lambda: openai.ainvoke(prompt)
    else:
        pipe = _pipe(cal, arecords=lambda: route.aiter_records(client))

        async def buffered_stream() -> None:
            await route.astream(client)
            await _adrain(null.astream(prompt))

        out["ours"] = lambda: _adrain(ours.astream(prompt))
        out["floor"] = lambda: _adrain(pipe.astream(prompt))
        out["buffered"] = buffered_stream
        if openai is not None:
            out["openai"] = lambda: _adrain(openai.astream(prompt))
    return out


def _row(cal: Calibrated, mode: Mode, op: Op, timing: Timing, chunks: int) -> Row:
    row = Row(
        name=cal.scenario.name,
        kind=cal.scenario.kind,
        mode=mode,
        op=op,
        ours_s=timing.median("ours"),
        floor_s=timing.median("floor"),
        ratio=timing.ratio("ours", "floor"),
        chunks=chunks,
    )
    if "buffered" in timing.samples:
        row.buffered_s = timing.median("buffered")
        row.buffered_ratio = timing.ratio("ours", "buffered")
    if "openai" in timing.samples:
        row.openai_s = timing.median("openai")
        row.openai_ratio = timing.ratio("openai", "floor")
        row.vs_openai = timing.ratio("ours", "openai")
    return row


ROUNDS = 31
BATCH: Mapping[Op, int] = {"invoke": 60, "stream": 6, "embed": 60}


def run(
    names: tuple[str, ...] | None = None,
    rounds: int = ROUNDS,
    batch: Mapping[Op, int] = BATCH,
    progress: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Time every scenario (or those named), sync and async, invoke and stream."""
    rows: list[Row] = []
    with emulator_process() as url:
        for scenario in SCENARIOS:
            if names and scenario.name not in names:
                continue
            cal = calibrate(scenario, url)
            chunks = _drain(cal.scenario.make(url).stream(cal.prompt))
            with httpx.Client() as client:
                for op in ("invoke", "stream"):
                    timing = time_sync(_contenders_sync(cal, url, op, client), rounds, batch[op])
                    rows.append(_row(cal, "sync", op, timing, chunks))
                    if progress:
                        progress(rows[-1])

            async def run_async(cal: Calibrated = cal) -> list[Timing]:
                async with httpx.AsyncClient() as client:
                    return [
                        await time_async(_contenders_async(cal, url, op, client), rounds, batch[op])
                        for op in ("invoke", "stream")
                    ]

            for op, timing in zip(("invoke", "stream"), asyncio.run(run_async()), strict=True):
                rows.append(_row(cal, "async", op, timing, chunks))
                if progress:
                    progress(rows[-1])
        if not names or "FFMEmbeddings" in names:
            for row in embedding_rows(url, rounds, batch["embed"]):
                rows.append(row)
                if progress:
                    progress(row)
    return rows


# --------------------------------------------------------------------------- embeddings


def _embedder(url: str) -> Any:
    from langchain_ffm_friendli import FFMEmbeddings

    return FFMEmbeddings(model="ffm-embedding", base_url=_ffm(url), api_key=API_KEY)


def capture_embedding(url: str, texts: list[str]) -> tuple[str, dict[str, str], Any]:
    """URL, auth headers and JSON body of the one request ``embed_documents`` sends."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(400, json={"detail": "captured"})

    model = _embedder(url).model_copy(
        update={"http_client": httpx.Client(transport=httpx.MockTransport(handler))}
    )
    with contextlib.suppress(Exception):
        model.embed_documents(texts)
    (request,) = seen
    headers = {k: v for k, v in request.headers.items() if k.lower() in _HEADERS_KEPT}
    return str(request.url), headers, json.loads(request.content)


def embedding_rows(url: str, rounds: int, batch: int) -> list[Row]:
    """``embed_documents`` / ``aembed_documents`` of one request vs a raw POST + JSON decode.

    Embeddings have no callbacks in langchain-core, so the floor is the raw request alone.
    """
    texts = [f"benchmark text {i} 第{i}號文件" for i in range(EMBED_TEXTS)]
    target, headers, body = capture_embedding(url, texts)
    ours = _embedder(url)
    rows: list[Row] = []
    with httpx.Client() as client:

        def floor() -> Any:
            response = client.post(target, json=body, headers=headers)
            response.raise_for_status()
            return response.json()

        timing = time_sync(
            {"ours": lambda: ours.embed_documents(texts), "floor": floor}, rounds, batch
        )
    rows.append(_embedding_row("sync", timing))

    async def run_async() -> Timing:
        async with httpx.AsyncClient() as client:

            async def afloor() -> Any:
                response = await client.post(target, json=body, headers=headers)
                response.raise_for_status()
                return response.json()

            return await time_async(
                {"ours": lambda: ours.aembed_documents(texts), "floor": afloor}, rounds, batch
            )

    rows.append(_embedding_row("async", asyncio.run(run_async())))
    return rows


def _embedding_row(mode: Mode, timing: Timing) -> Row:
    return Row(
        name="FFMEmbeddings",
        kind="embeddings",
        mode=mode,
        op="embed",
        ours_s=timing.median("ours"),
        floor_s=timing.median("floor"),
        ratio=timing.ratio("ours", "floor"),
        chunks=0,
    )


def describe(row: Row) -> str:
    """One line for the console."""
    line = (
        f"{row.name:15} {row.mode:5} {row.op:6} ours {row.ours_s * 1e3:7.3f} ms  "
        f"floor {row.floor_s * 1e3:7.3f} ms  ratio {row.ratio:5.2f} (<= {row.target})"
    )
    if row.per_chunk_us is not None:
        line += f"  {row.per_chunk_us:5.1f} us/chunk above"
    if row.buffered_ratio is not None:
        line += f"  (vs buffered floor {row.buffered_ratio:4.2f})"
    if row.vs_openai is not None and row.openai_ratio is not None:
        line += (
            f"  ChatOpenAI {row.openai_ratio:4.2f}x floor, ours/ChatOpenAI {row.vs_openai:4.2f}"
            f" (<= {OPENAI_RATIO_TARGET})"
        )
    return line + ("" if row.met else "  MISSED")


if __name__ == "__main__":
    import sys

    run(tuple(sys.argv[1:]) or None, progress=lambda row: print(describe(row), flush=True))

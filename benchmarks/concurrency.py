"""500 concurrent ``astream`` calls on one instance: errors, wall time, peak RSS growth.

Each contender (ChatFriendli, and ChatOpenAI on the same OpenAI-compatible
emulator route) runs in a fresh Python process, so peak memory is its own: the
process imports, builds one instance, warms up with one call, then starts all
streams at once with ``asyncio.gather``. RSS is sampled every 5 ms by a thread
(``/proc/self/statm``; ``ru_maxrss`` as a fallback); growth is the peak during
the run minus the RSS just before it. Every stream must deliver all its chunks.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from benchmarks._server import API_KEY, emulator_process

CONCURRENCY = 500
WORDS = 189  # the default reply is then 200 tokens (see benchmarks.latency)


@dataclass
class ConcurrencyResult:
    """One contender's run."""

    name: str
    calls: int
    errors: int
    incomplete: int
    wall_s: float
    rss_growth_mb: float
    first_error: str | None = None


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def _consume(model: Any, prompt: str) -> int:
    chunks = 0
    async for chunk in model.astream(prompt):
        if chunk.content:
            chunks += 1
    return chunks


async def _worker(name: str, url: str, calls: int) -> dict[str, Any]:
    base = f"{url}/friendli/serverless/v1"
    model: Any
    if name == "ChatOpenAI":
        from langchain_openai import ChatOpenAI

        model = ChatOpenAI(
            model="meta-llama-3.1-8b-instruct",
            base_url=base,
            api_key=API_KEY,  # type: ignore[arg-type]
            stream_usage=True,
        )
    else:
        from langchain_ffm_friendli import ChatFriendli

        model = ChatFriendli(model="meta-llama-3.1-8b-instruct", base_url=base, api_key=API_KEY)
    prompt = " ".join(["x"] * WORDS)
    expected = await _consume(model, prompt)  # warm up: client, pool, lazy imports
    start_rss = _rss_bytes()
    peak = start_rss
    running = True

    def sample() -> None:
        nonlocal peak
        while running:
            peak = max(peak, _rss_bytes())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    results = await asyncio.gather(
        *(_consume(model, prompt) for _ in range(calls)), return_exceptions=True
    )
    wall = time.perf_counter() - start
    running = False
    sampler.join()
    peak = max(peak, _rss_bytes())
    errors = [r for r in results if isinstance(r, BaseException)]
    return {
        "name": name,
        "calls": calls,
        "errors": len(errors),
        "incomplete": sum(1 for r in results if isinstance(r, int) and r != expected),
        "wall_s": wall,
        "rss_growth_mb": (peak - start_rss) / 2**20,
        "first_error": repr(errors[0])[:300] if errors else None,
    }


def _run_one(name: str, url: str, calls: int) -> ConcurrencyResult:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.concurrency", "worker", name, url, str(calls)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return ConcurrencyResult(**json.loads(out.stdout.strip().splitlines()[-1]))


def run(calls: int = CONCURRENCY) -> list[ConcurrencyResult]:
    """Run ChatFriendli, then ChatOpenAI, each in its own process, on one emulator."""
    with emulator_process() as url:
        return [_run_one(name, url, calls) for name in ("ChatFriendli", "ChatOpenAI")]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        result = asyncio.run(_worker(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        print(json.dumps(result))
    else:
        for r in run():
            print(r)

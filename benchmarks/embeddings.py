"""aembed_documents with bounded concurrency vs sequential, against the emulator.

The emulator is given a simulated service time per request (a real embedding
server takes tens of milliseconds); both runs embed the same texts in the same
number of token-budgeted requests, in the same process, so the ratio is what
concurrency buys. Machines here are shared and noisy: read the ratio, not the
seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from langchain_ffm_friendli import FFMEmbeddings
from langchain_ffm_friendli.testing import Emulator


@dataclass
class EmbeddingsResult:
    """Timings of one comparison."""

    texts: int
    requests: int
    sequential_s: float
    """One request at a time."""
    concurrent_s: float
    """``concurrency`` requests at a time."""
    concurrency: int

    @property
    def speedup(self) -> float:
        """How many times faster the concurrent run was."""
        return self.sequential_s / self.concurrent_s


async def _timed(embedder: FFMEmbeddings, texts: list[str]) -> float:
    start = time.perf_counter()
    await embedder.aembed_documents(texts)
    return time.perf_counter() - start


def run(texts: int = 2000, latency: float = 0.02, concurrency: int = 8) -> EmbeddingsResult:
    """Embed ``texts`` short texts sequentially and with ``concurrency`` requests in flight."""
    corpus = [f"benchmark text {i} 第{i}號文件" for i in range(texts)]
    with Emulator(latency=latency) as emu:

        def make(n: int) -> FFMEmbeddings:
            return FFMEmbeddings(
                model="ffm-embedding",
                base_url=emu.ffm_base_url,
                api_key=emu.api_key,
                max_tokens_per_request=512,
                max_concurrency=n,
            )

        asyncio.run(_timed(make(concurrency), corpus[:50]))  # warm up
        emu.reset()
        sequential = asyncio.run(_timed(make(1), corpus))
        requests = len(emu.requests)
        concurrent = asyncio.run(_timed(make(concurrency), corpus))
    return EmbeddingsResult(texts, requests, sequential, concurrent, concurrency)


if __name__ == "__main__":
    result = run()
    print(
        f"aembed_documents: {result.texts} texts in {result.requests} requests; "
        f"sequential {result.sequential_s:.2f}s, concurrency {result.concurrency} "
        f"{result.concurrent_s:.2f}s: {result.speedup:.1f}x faster"
    )

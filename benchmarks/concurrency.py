"""Many concurrent ``astream`` calls on one instance: errors, exact texts, scaling, TTFT, RSS.

ChatFriendli runs bursts of 500, 1,000 and 2,000 concurrent 200-chunk streams;
ChatOpenAI (langchain-openai, ``stream_usage=True``) runs the 2,000 burst on the
same OpenAI-compatible emulator route, side by side.

Method: each (client, size) runs in a fresh Python process, so peak memory is its
own: the process imports, builds one instance, warms up with one call (client,
pool, lazy imports), then starts all streams at once with ``asyncio.gather``.
RSS is sampled every 5 ms by a thread (``/proc/self/statm``; ``ru_maxrss`` as a
fallback); growth is the peak during the burst minus the RSS just before it.

- Every stream's joined text must equal the expected reply (the emulator's
  default answer to the prompt, checked against the warm-up call's text), not
  just have the right number of chunks.
- Time to first token: per stream, from the start of the burst to its first
  content chunk; p50 and p99 over the streams.
- Per-call time is wall time / calls; linear scaling means it stays flat as the
  burst grows (see :data:`LINEAR_LIMIT`). A shared machine's load drifts by more
  than that over a few minutes, so ours runs every size :data:`ROUNDS` times in
  mirrored order (500, 1,000, 2,000, 2,000, 1,000, 500, ...): each size sees early
  and late slots alike, and each size's median run is the one reported.
- The emulator's own CPU time during the run is read from ``/proc``: a server
  busy for the whole wall time would be the bottleneck and hide the client's
  scaling.
- A worker that does not finish within :data:`TIMEOUT_S` is reported as timed
  out (a result, not a crash).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks._server import API_KEY, emulator_process

SIZES = (500, 1000, 2000)
OPENAI_SIZES = (2000,)
# Runs of each of our sizes (ChatOpenAI, at minutes per run, runs once).
ROUNDS = 3
WORDS = 189  # the default reply is then 200 tokens (see benchmarks.latency)
# Per-call time at the largest burst over the smallest: at most this to count as linear.
LINEAR_LIMIT = 1.25
# Per worker process; ChatOpenAI took 39-48 s for 500 streams here.
TIMEOUT_S = 900.0
MODEL = "meta-llama-3.1-8b-instruct"


@dataclass
class ConcurrencyResult:
    """One (client, burst size) run.

    ``incomplete`` counts streams that ended without error but whose joined text
    is not exactly the expected reply. Times are None when nothing finished.
    """

    name: str
    calls: int
    errors: int
    incomplete: int
    wall_s: float
    """The whole burst, first request to last chunk."""
    rss_growth_mb: float
    """Peak resident memory above the client process's before the burst."""
    ttft_p50_ms: float | None = None
    ttft_p99_ms: float | None = None
    timed_out: bool = False
    first_error: str | None = None
    server_cpu_s: float | None = None

    @property
    def per_call_ms(self) -> float:
        """Wall time per call."""
        return self.wall_s / self.calls * 1e3 if self.calls else 0.0

    @property
    def ok(self) -> bool:
        """Finished, with no error and every text exact."""
        return not self.timed_out and self.errors == 0 and self.incomplete == 0

    @property
    def server_busy(self) -> float | None:
        """The emulator's CPU time over the wall time (1.0: one core saturated)."""
        if self.server_cpu_s is None or self.wall_s <= 0:
            return None
        return self.server_cpu_s / self.wall_s


def representative(results: Sequence[ConcurrencyResult]) -> list[ConcurrencyResult]:
    """Per (client, size), the run with the median per-call time (timed-out runs count as slowest).

    Ordered by client as first seen, then by size.
    """
    groups: dict[tuple[str, int], list[ConcurrencyResult]] = {}
    for r in results:
        groups.setdefault((r.name, r.calls), []).append(r)
    names = list(dict.fromkeys(r.name for r in results))
    out = []
    for _, runs in sorted(groups.items(), key=lambda kv: (names.index(kv[0][0]), kv[0][1])):
        ranked = sorted(runs, key=lambda r: (r.timed_out, r.per_call_ms))
        out.append(ranked[(len(ranked) - 1) // 2])
    return out


def linearity(results: Sequence[ConcurrencyResult], name: str) -> float | None:
    """Per-call time at the largest size over the smallest (median runs), for one client."""
    mine = sorted(
        (r for r in representative(results) if r.name == name and not r.timed_out),
        key=lambda r: r.calls,
    )
    if len(mine) < 2 or mine[0].per_call_ms <= 0:
        return None
    return mine[-1].per_call_ms / mine[0].per_call_ms


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _raise_fd_limit(calls: int) -> None:
    """One socket per stream, plus headroom: lift the soft fd limit (1024 on many hosts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = calls * 2 + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def _consume(model: Any, prompt: str, start: float) -> tuple[str, float | None]:
    """The joined text of one stream and its time to first content chunk."""
    parts: list[str] = []
    first: float | None = None
    async for chunk in model.astream(prompt):
        if chunk.content:
            if first is None:
                first = time.perf_counter() - start
            parts.append(chunk.content)
    return "".join(parts), first


def _model(name: str, base: str) -> Any:
    if name == "ChatOpenAI":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=MODEL,
            base_url=base,
            api_key=API_KEY,  # type: ignore[arg-type]
            stream_usage=True,
        )
    from langchain_ffm_friendli import ChatFriendli

    return ChatFriendli(model=MODEL, base_url=base, api_key=API_KEY)


def _quantile(values: list[float], q: int) -> float | None:
    """The q-th percentile (1..99) in ms, or None without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0] * 1e3
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1e3


async def _worker(name: str, url: str, calls: int) -> dict[str, Any]:
    _raise_fd_limit(calls)
    model = _model(name, f"{url}/friendli/serverless/v1")
    prompt = " ".join(["x"] * WORDS)
    expected, _ = await _consume(model, prompt, time.perf_counter())  # warm up
    if not (expected.startswith("Hello! This is the ") and expected.endswith(prompt)):
        raise RuntimeError(f"unexpected reply from the emulator: {expected[:80]!r}")
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
        *(_consume(model, prompt, start) for _ in range(calls)), return_exceptions=True
    )
    wall = time.perf_counter() - start
    running = False
    sampler.join()
    peak = max(peak, _rss_bytes())
    errors = [r for r in results if isinstance(r, BaseException)]
    done = [r for r in results if not isinstance(r, BaseException)]
    ttfts = [first for _, first in done if first is not None]
    return {
        "name": name,
        "calls": calls,
        "errors": len(errors),
        "incomplete": sum(1 for text, _ in done if text != expected),
        "wall_s": wall,
        "rss_growth_mb": (peak - start_rss) / 2**20,
        "ttft_p50_ms": _quantile(ttfts, 50),
        "ttft_p99_ms": _quantile(ttfts, 99),
        "first_error": repr(errors[0])[:300] if errors else None,
    }


def _children_cpu_s() -> float | None:
    """CPU seconds (user + system) of this process's emulator child, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    me = str(os.getpid())
    try:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                stat = (proc / "stat").read_text()
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[1] == me and b"benchmarks._server" in cmdline:
                return (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        pass
    return None


def _run_one(name: str, url: str, calls: int, timeout: float) -> ConcurrencyResult:
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.concurrency", "worker", name, url, str(calls)],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return ConcurrencyResult(
            name, calls, 0, 0, time.perf_counter() - start, 0.0, timed_out=True
        )
    cpu_after = _children_cpu_s()
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        reason = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return ConcurrencyResult(
            name, calls, calls, 0, time.perf_counter() - start, 0.0, first_error=reason[:300]
        )
    result = ConcurrencyResult(**json.loads(lines[-1]))
    if cpu_before is not None and cpu_after is not None:
        result.server_cpu_s = cpu_after - cpu_before
    return result


def plan(
    sizes: tuple[int, ...] = SIZES,
    openai_sizes: tuple[int, ...] = OPENAI_SIZES,
    rounds: int = ROUNDS,
) -> Iterator[tuple[str, int]]:
    """The (client, size) runs: ours ``rounds`` times in mirrored order, then ChatOpenAI once."""
    for r in range(rounds):
        for size in sizes if r % 2 == 0 else reversed(sizes):
            yield "ChatFriendli", size
    for size in openai_sizes:
        yield "ChatOpenAI", size


def run(
    sizes: tuple[int, ...] = SIZES,
    openai_sizes: tuple[int, ...] = OPENAI_SIZES,
    timeout: float = TIMEOUT_S,
    progress: Any = None,
    rounds: int = ROUNDS,
) -> list[ConcurrencyResult]:
    """Every run of :func:`plan` in its own process, one after another, on one emulator."""
    results = []
    # The emulator (a child, inheriting the limit) holds a socket per client connection.
    _raise_fd_limit(max((*sizes, *openai_sizes), default=0))
    with emulator_process() as url:
        for name, size in plan(sizes, openai_sizes, rounds):
            result = _run_one(name, url, size, timeout)
            if progress is not None:
                progress(result)
            results.append(result)
    return results


def describe(r: ConcurrencyResult) -> str:
    """One line for the console."""
    if r.timed_out:
        return f"{r.name:13} {r.calls:5} TIMED OUT after {r.wall_s:.0f} s"
    ttft = (
        f"TTFT p50 {r.ttft_p50_ms:.0f} ms p99 {r.ttft_p99_ms:.0f} ms"
        if r.ttft_p50_ms is not None and r.ttft_p99_ms is not None
        else "TTFT -"
    )
    busy = f" emulator CPU {r.server_busy:.0%}" if r.server_busy is not None else ""
    error = f" first error: {r.first_error}" if r.first_error else ""
    return (
        f"{r.name:13} {r.calls:5} errors {r.errors} wrong texts {r.incomplete} "
        f"wall {r.wall_s:.2f}s ({r.per_call_ms:.2f} ms/call) "
        f"peak RSS growth {r.rss_growth_mb:.1f} MB {ttft}{busy}{error}"
    )


def _sizes(arg: str) -> tuple[int, ...]:
    return tuple(int(s) for s in arg.split(",") if s)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        result = asyncio.run(_worker(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        print(json.dumps(result))
    else:
        # python -m benchmarks.concurrency [ours sizes] [ChatOpenAI sizes], e.g. "500,1000" ""
        ours = _sizes(sys.argv[1]) if len(sys.argv) > 1 else SIZES
        openai = _sizes(sys.argv[2]) if len(sys.argv) > 2 else OPENAI_SIZES
        done = run(ours, openai, progress=lambda r: print(describe(r), flush=True))
        for name in ("ChatFriendli", "ChatOpenAI"):
            ratio = linearity(done, name)
            if ratio is not None:
                print(f"{name}: per-call time largest/smallest burst {ratio:.2f}x")
        print(json.dumps([asdict(r) for r in done]))

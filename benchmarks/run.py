"""``make bench``: run every benchmark, print a summary, write docs/benchmarks.md and .png."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks import concurrency, embeddings, importtime, latency, report, scale

NOTES = Path(__file__).resolve().parent / "profiling_notes.md"


def main() -> None:
    """Run the benchmarks in turn and write the report."""
    start = time.perf_counter()
    print("== per-call cost vs the floor (and ChatOpenAI on the Friendli route)", flush=True)
    rows = latency.run(progress=lambda row: print(latency.describe(row), flush=True))

    sizes = ", ".join(f"{n:,}" for n in concurrency.SIZES)
    print(
        f"== {sizes} concurrent astream calls (ChatOpenAI at {concurrency.OPENAI_SIZES})",
        flush=True,
    )
    conc = concurrency.run(progress=lambda c: print(concurrency.describe(c), flush=True))
    scaling = concurrency.linearity(conc, "ChatFriendli")
    if scaling is not None:
        print(f"ChatFriendli per-call time, largest / smallest burst: {scaling:.2f}x", flush=True)

    print("== import", flush=True)
    imports = importtime.run()
    print("\n".join(importtime.describe(imports)), flush=True)

    print("== embeddings", flush=True)
    emb = embeddings.run()
    print(
        f"FFMEmbeddings.aembed_documents, {emb.texts} texts / {emb.requests} requests: "
        f"concurrency {emb.concurrency} is {emb.speedup:.1f}x faster than sequential "
        f"({emb.concurrent_s:.2f}s vs {emb.sequential_s:.2f}s)",
        flush=True,
    )

    print("== cost at size: one long SSE line, many events (ChatOpenAI beside)", flush=True)
    scaling = scale.run(progress=lambda case: print(scale.describe(case), flush=True))

    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    path = report.write(rows, conc, imports, emb, scaling, notes, time.perf_counter() - start)
    missed = [r for r in rows if not r.met]
    print(f"== wrote {path} and {path.with_suffix('.png')}")
    print(
        f"{len(rows) - len(missed)}/{len(rows)} latency rows meet every target; "
        f"import {'met' if imports.met else 'MISSED'}; "
        f"concurrency errors: {sum(c.errors for c in conc)}, wrong texts: "
        f"{sum(c.incomplete for c in conc)}, timed out: {sum(c.timed_out for c in conc)}"
    )


if __name__ == "__main__":
    main()

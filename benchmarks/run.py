"""``make bench``: run every benchmark and print the ratios."""

from __future__ import annotations

from benchmarks import embeddings


def main() -> None:
    """Run the benchmarks in turn."""
    result = embeddings.run()
    print(
        f"FFMEmbeddings.aembed_documents, {result.texts} texts / {result.requests} requests: "
        f"concurrency {result.concurrency} is {result.speedup:.1f}x faster than sequential "
        f"({result.concurrent_s:.2f}s vs {result.sequential_s:.2f}s)"
    )


if __name__ == "__main__":
    main()

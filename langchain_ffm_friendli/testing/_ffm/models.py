"""FFM's models: the documented ids, their context windows and limits, the embeddings."""

from __future__ import annotations

import hashlib
import math
import random

__all__ = ["EMBEDDING_LIMITS", "MODELS", "PROVIDER", "context_size", "embedding"]

#: The provider's name in the default model's greeting.
PROVIDER = "FFM"

#: The model strings FFM documents or its clients use (protocols/ffm.md §6.2, §4).
MODELS = frozenset(
    {
        "llama3.3-ffm-70b-32k-chat",
        "llama3.3-ffm-70b-16k-chat",
        "llama3.1-ffm-70b-32k-chat",
        "llama3.1-ffm-8b-32k-chat",
        "llama3-ffm-70b-chat",
        "llama3-ffm-8b-chat",
        "ffm-llama3-70b-chat",
        "ffm-mixtral-8x7b-32k-instruct",
        "ffm-mistral-7b-32k-instruct",
        "taide-lx-7b-chat",
        "ffm-llama2-70b-chat",
        "ffm-llama2-7b-chat-exp",
        "meta-llama2-70b-chat",
        "meta-codellama-34b-instruct",
        "codellama-7b-instruct",
        "codellama-34b-instruct",
        "meta-llama3-70b",
        "ffm-bloomz-7b",
        "ffm-bloomz-176b-chat",
        "ffm-bloom-7b-chat",
        "ffm-embedding",
        "ffm-embedding-v2",
        "ffm-embedding-v2.1",
    }
)

#: Documented limits (tokens per text, tokens per request) of the embedding models.
EMBEDDING_LIMITS = {
    "ffm-embedding": (2048, 2048),
    "ffm-embedding-v2": (131072, 131072),
    "ffm-embedding-v2.1": (131072, 131072),
}

_EMBEDDING_DIM = 256


def context_size(model: str) -> int:
    """The context window FFM documents for a model family.

    Args:
        model: The model id.

    Returns:
        The window in tokens.
    """
    name = model.lower()
    if "-32k" in name or "-16k" in name:
        return 32768 if "-32k" in name else 16384
    if "llama2" in name or "taide" in name:
        return 4096
    if "llama3" in name or "codellama" in name:
        return 8192
    return 32768


def embedding(text: str) -> list[float]:
    """A deterministic unit vector for a text (same text, same vector).

    Args:
        text: The input text.

    Returns:
        A normalised vector of dimension 256.
    """
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)  # noqa: S311 - deterministic fake vectors, not crypto
    vector = [rng.gauss(0.0, 1.0) for _ in range(_EMBEDDING_DIM)]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / norm, 6) for v in vector]

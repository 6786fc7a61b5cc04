"""FFMEmbeddings: LangChain embeddings for FFM's Embeddings API."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.load.serializable import Serializable
from pydantic import Field

from langchain_ffm_friendli._transport import HTTPRequest
from langchain_ffm_friendli.errors import ContextLengthExceededError, InvalidParameterError
from langchain_ffm_friendli.ffm import _protocol as proto
from langchain_ffm_friendli.ffm._settings import FFMClientSettings

__all__ = ["FFMEmbeddings"]


class FFMEmbeddings(FFMClientSettings, Serializable, Embeddings):
    """FFM embeddings (``POST {base_url}/models/embeddings``).

    FFM limits each request by tokens, not by number of texts (``ffm-embedding``:
    2,048 tokens per text and per request; ``ffm-embedding-v2`` and ``v2.1``:
    131,072). Texts are packed, in order, into requests by an estimated token
    count; if the server still reports an overflow, that request is split in two
    and retried. Vectors always come back in input order.

    Setup:
        Install the package (``pip install .`` from a checkout; ``pip install
        langchain-ffm-friendli`` once released) and ``export FFM_API_KEY=...``.

    Key init args:
        model: ``ffm-embedding``, ``ffm-embedding-v2`` or ``ffm-embedding-v2.1``.
        max_tokens_per_request / max_tokens_per_text: override the model's limits.
        truncate: cut over-long texts to the per-text limit instead of failing.
        max_concurrency: requests in flight at once in the async methods (8).
        api_key, base_url, api_host, timeout, max_retries.

    Unknown parameters:
        ``FFMEmbeddings`` refuses unknown init names (``InvalidParameterError``, nearest
        name suggested); ``extra_body={...}`` is merged into every request.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import FFMEmbeddings

            embeddings = FFMEmbeddings(model="ffm-embedding-v2.1")

    Embed:
        .. code-block:: python

            vector = embeddings.embed_query("台灣最高的山")
            vectors = embeddings.embed_documents(["玉山", "雪山"])
            vectors = await embeddings.aembed_documents(many_texts)  # concurrent batches
    """

    max_tokens_per_request: int | None = Field(default=None, gt=0)
    """Token budget of one request (default: the model's documented limit)."""
    max_tokens_per_text: int | None = Field(default=None, gt=0)
    """Token limit of one text (default: the model's documented limit)."""
    truncate: bool = False
    """Cut texts over the per-text limit instead of raising."""
    max_concurrency: int = Field(default=8, ge=1)
    """How many requests the async methods keep in flight at once."""

    def _limits(self) -> tuple[int, int]:
        per_text, per_request = proto.embedding_limits(self.model)
        return (
            self.max_tokens_per_text or per_text,
            self.max_tokens_per_request or per_request,
        )

    def _prepare(self, texts: Sequence[str]) -> tuple[list[str], list[range]]:
        """Check or truncate every text, then plan the requests; no I/O."""
        per_text, per_request = self._limits()
        prepared: list[str] = []
        counts: list[int] = []
        for index, original in enumerate(texts):
            text, count = original, proto.estimate_tokens(original)
            if count > per_text:
                if not self.truncate:
                    raise InvalidParameterError(
                        f"texts[{index}]",
                        f"about {count} tokens, over the {per_text}-token limit of "
                        f"{self.model}; shorten it or set truncate=True",
                        provider=proto.PROVIDER,
                    )
                text = proto.truncate_to_tokens(original, per_text)
                count = proto.estimate_tokens(text)
            prepared.append(text)
            counts.append(count)
        return prepared, proto.plan_batches(counts, per_request)

    def _batch_request(self, batch: Sequence[str]) -> HTTPRequest:
        body = {**proto.embeddings_payload(self.model, batch), **self.verbatim_fields({})}
        return self._request("models/embeddings", body)

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        try:
            vectors = self._post(self._batch_request(batch), self._parser(len(batch)))
        except ContextLengthExceededError:
            if len(batch) == 1:
                raise
            half = len(batch) // 2
            return self._embed_batch(batch[:half]) + self._embed_batch(batch[half:])
        return vectors

    async def _aembed_batch(self, batch: list[str]) -> list[list[float]]:
        try:
            vectors = await self._apost(self._batch_request(batch), self._parser(len(batch)))
        except ContextLengthExceededError:
            if len(batch) == 1:
                raise
            half = len(batch) // 2
            return await self._aembed_batch(batch[:half]) + await self._aembed_batch(batch[half:])
        return vectors

    @staticmethod
    def _parser(count: int) -> Callable[[dict[str, Any]], list[list[float]]]:
        return functools.partial(proto.parse_embeddings, expected=count)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts in token-budgeted requests; vectors in input order."""
        if not texts:
            return []
        prepared, batches = self._prepare(texts)
        vectors: list[list[float]] = []
        for batch in batches:
            vectors.extend(self._embed_batch([prepared[i] for i in batch]))
        return vectors

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Like :meth:`embed_documents`, with up to ``max_concurrency`` requests at once."""
        if not texts:
            return []
        prepared, batches = self._prepare(texts)
        gate = asyncio.Semaphore(self.max_concurrency)

        async def run(batch: range) -> list[list[float]]:
            async with gate:
                return await self._aembed_batch([prepared[i] for i in batch])

        results = await asyncio.gather(*(run(b) for b in batches))
        return [vector for batch_vectors in results for vector in batch_vectors]

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text])[0]

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one text (async)."""
        return (await self.aembed_documents([text]))[0]

"""FFMEmbeddings: standard suites, token-budget batching, order, concurrency, errors."""

import asyncio
import math

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from langchain_ffm_friendli import FFMEmbeddings
from langchain_ffm_friendli.errors import APIError, InvalidParameterError
from langchain_ffm_friendli.ffm import _protocol as proto
from langchain_ffm_friendli.testing import Emulator, Fault
from tests.integration_tests._shared import shared_emulator


class TestFFMEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[FFMEmbeddings]:
        return FFMEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        emu = shared_emulator()
        return {"model": "ffm-embedding", "base_url": emu.ffm_base_url, "api_key": emu.api_key}


def make(emu: Emulator, **kw: object) -> FFMEmbeddings:
    return FFMEmbeddings(
        base_url=emu.ffm_base_url, api_key=emu.api_key, **{"model": "ffm-embedding", **kw}
    )  # type: ignore[arg-type]


def test_request_shape_and_vectors_in_input_order(emu: Emulator) -> None:
    texts = [f"文件 {i}" for i in range(7)]
    vectors = make(emu).embed_documents(texts)
    request = emu.requests[-1]
    assert request.path == "/ffm/api/models/embeddings"
    assert request.json == {"model": "ffm-embedding", "inputs": texts}
    assert [r["index"] for r in request_data(emu, texts)] != list(range(7))  # server shuffles ...
    for text, vector in zip(texts, vectors, strict=True):  # ... and we still line up
        assert vector == make(emu).embed_query(text)


def request_data(emu: Emulator, texts: list[str]) -> list[dict]:
    import httpx

    response = httpx.post(
        f"{emu.ffm_base_url}/models/embeddings",
        json={"model": "ffm-embedding", "inputs": texts},
        headers={"X-API-KEY": emu.api_key},
    )
    return response.json()["data"]


def expected_requests(texts: list[str], budget: int) -> int:
    """The batching rule, restated: greedy in order, never over the budget."""
    requests, used = 0, budget + 1
    for text in texts:
        tokens = proto.estimate_tokens(text)
        if used + tokens > budget:
            requests, used = requests + 1, 0
        used += tokens
    return requests


def test_ten_thousand_texts_batch_by_tokens_and_keep_order(emu: Emulator) -> None:
    texts = [f"short text number {i} 第{i}號" for i in range(10_000)]
    vectors = make(emu).embed_documents(texts)
    assert len(emu.requests) == expected_requests(texts, 2048)
    assert 20 < len(emu.requests) < 10_000 / 10  # by tokens, not one text per request
    sent = [t for r in emu.requests for t in r.json["inputs"]]
    assert sent == texts  # every text once, in order
    for i in (0, 1234, 9999):
        assert vectors[i] == make(emu).embed_query(texts[i])


def test_v2_models_have_the_large_budget(emu: Emulator) -> None:
    texts = [f"text {i}" for i in range(3000)]
    make(emu, model="ffm-embedding-v2.1").embed_documents(texts)
    assert len(emu.requests) == expected_requests(texts, 131072) == 1


def test_budget_override(emu: Emulator) -> None:
    texts = [f"text {i}" for i in range(100)]
    make(emu, max_tokens_per_request=50).embed_documents(texts)
    assert len(emu.requests) == expected_requests(texts, 50)


def test_over_long_text_is_named_by_index_unless_truncation_is_asked(emu: Emulator) -> None:
    long = "字" * 3000
    with pytest.raises(InvalidParameterError, match=r"texts\[1\]"):
        make(emu).embed_documents(["ok", long])
    assert emu.requests == []
    vectors = make(emu, truncate=True).embed_documents(["ok", long])
    assert len(vectors) == 2
    sent = [t for r in emu.requests for t in r.json["inputs"]]
    assert sent[0] == "ok"
    assert long.startswith(sent[1])
    assert 0 < len(sent[1]) < len(long)
    assert proto.estimate_tokens(sent[1]) <= 2048


def test_server_overflow_splits_the_batch(emu: Emulator) -> None:
    # the client thinks the budget is huge; the server enforces 2048 and says so
    texts = [f"word {i} " * 20 for i in range(200)]
    vectors = make(emu, max_tokens_per_request=1_000_000).embed_documents(texts)
    assert len(vectors) == 200
    assert len(emu.requests) > 2
    assert emu.requests[0].json["inputs"] == texts


def test_empty_list_makes_no_request(emu: Emulator) -> None:
    assert make(emu).embed_documents([]) == []
    assert asyncio.run(make(emu).aembed_documents([])) == []
    assert emu.requests == []


async def test_async_is_concurrent_and_bounded() -> None:
    with Emulator(latency=0.05) as emu:
        texts = [f"text number {i}" for i in range(400)]
        embedder = make(emu, max_tokens_per_request=100, max_concurrency=4)
        vectors = await embedder.aembed_documents(texts)
        assert len(vectors) == 400
        assert vectors[17] == await embedder.aembed_query(texts[17])
        assert len(emu.requests) > 4


def test_retries_and_typed_errors(emu: Emulator) -> None:
    emu.queue(Fault.status(503), route="ffm.embeddings")
    embedder = make(emu)
    embedder.transport.sleep = lambda _s: None
    assert len(embedder.embed_documents(["a"])) == 1
    emu.queue(
        *(Fault.status(500, body={"detail": "down"}) for _ in range(3)), route="ffm.embeddings"
    )
    with pytest.raises(APIError, match="down"):
        embedder.embed_documents(["a"])


def test_vectors_are_unit_length_floats(emu: Emulator) -> None:
    vector = make(emu).embed_query("玉山")
    assert all(isinstance(v, float) for v in vector)
    assert math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-3)

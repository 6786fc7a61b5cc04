"""What real servers and middle boxes send: compressed bodies, HTML pages, cut bodies.

Every body is either decoded exactly or raised as one of our typed errors (each a
``langchain_core.exceptions`` subclass), on every route and both stream framings.
Also: URL passwords stay out of errors and logs, and retries are logged at INFO.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from typing import Any

import pytest
from langchain_core.exceptions import ModelError

from langchain_ffm_friendli import errors
from langchain_ffm_friendli.testing import Emulator, Fault

from ._hostile import Gateway, RawServer, advertised_encodings, http_response
from ._reliability import BY_NAME, TARGETS, Target, call, make

ENCODINGS = advertised_encodings()


def _base_path(target: Target, emu: Emulator) -> str:
    return target.base_url(emu).removeprefix(emu.url)


OPS = [
    pytest.param(t, op, id=f"{t.name}-{op}")
    for t in TARGETS
    for op in (
        ("embed_documents", "aembed_documents")
        if t.kind == "embeddings"
        else ("invoke", "stream", "astream")
    )
]


def test_httpx_offers_at_least_gzip_and_deflate() -> None:
    assert {"gzip", "deflate"} <= set(ENCODINGS)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("target", "op"), OPS)
async def test_every_advertised_content_encoding_is_decoded_on_every_route(
    module_emu: Emulator, target: Target, op: str, encoding: str
) -> None:
    direct, _ = make(target, module_emu)
    expected = await call(direct, op)
    with Gateway(module_emu.url, encoding) as proxy:
        obj, _ = make(target, module_emu, base_url=proxy.url + _base_path(target, module_emu))
        assert await call(obj, op) == expected
        assert proxy.encoded >= 1


# --------------------------------------------------------------------------- hostile bodies

HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
HOSTILE = {
    "html-200": http_response(HTML, content_type="text/html"),
    "empty-200": http_response(b""),
    "cut-short": http_response(b'{"generated_text": "hel', content_length=400),
    "bad-gzip": http_response(b"\x1f\x8b\x08garbage", headers={"Content-Encoding": "gzip"}),
    "json-array": http_response(b"[1, 2, 3]"),
}


@pytest.mark.parametrize("body", list(HOSTILE), ids=list(HOSTILE))
@pytest.mark.parametrize(("target", "op"), OPS)
async def test_a_hostile_body_is_a_typed_error(target: Target, op: str, body: str) -> None:
    with RawServer(HOSTILE[body]) as server:
        obj, _ = make(target, None, api_key="sk-hostile-test-key", base_url=server.url + "/api")
        with pytest.raises(errors.ProviderError) as info:
            await call(obj, op)
    assert isinstance(info.value, ModelError)
    assert "sk-hostile-test-key" not in str(info.value)


def _embeddings_body(data: list[dict[str, Any]]) -> bytes:
    return http_response(json.dumps({"data": data, "model": "ffm-embedding"}).encode())


VECTOR = [0.5, 0.25]
BAD_EMBEDDINGS = {
    "one-based": [{"index": 1, "embedding": VECTOR}, {"index": 2, "embedding": VECTOR}],
    "duplicated": [{"index": 0, "embedding": VECTOR}, {"index": 0, "embedding": VECTOR}],
    "out-of-range": [{"index": 0, "embedding": VECTOR}, {"index": 7, "embedding": VECTOR}],
    "negative": [{"index": -1, "embedding": VECTOR}, {"index": 0, "embedding": VECTOR}],
    "short": [{"index": 0, "embedding": VECTOR}],
    "not-numbers": [{"index": 0, "embedding": VECTOR}, {"index": 1, "embedding": ["x"]}],
    "string-index": [{"index": "0", "embedding": VECTOR}, {"index": 1, "embedding": VECTOR}],
}


@pytest.mark.parametrize("case", list(BAD_EMBEDDINGS), ids=list(BAD_EMBEDDINGS))
def test_embeddings_that_would_misalign_are_a_typed_error(case: str) -> None:
    with RawServer(_embeddings_body(BAD_EMBEDDINGS[case])) as server:
        embedder, _ = make(BY_NAME["FFMEmbeddings"], None, api_key="k" * 12, base_url=server.url)
        with pytest.raises(errors.StreamError, match="ffm embeddings response"):
            embedder.embed_documents(["first", "second"])


def test_embeddings_in_any_order_come_back_in_input_order() -> None:
    data = [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}]
    with RawServer(_embeddings_body(data)) as server:
        embedder, _ = make(BY_NAME["FFMEmbeddings"], None, api_key="k" * 12, base_url=server.url)
        assert embedder.embed_documents(["a", "b"]) == [[1.0], [2.0]]


def test_a_gzip_body_of_an_error_status_is_read() -> None:
    body = gzip.compress(b'{"detail": "model not found"}')
    response = http_response(body, status="404 Not Found", headers={"Content-Encoding": "gzip"})
    with RawServer(response) as server:
        llm, _ = make(BY_NAME["ChatFFM"], None, api_key="k" * 12, base_url=server.url)
        with pytest.raises(errors.NotFoundError, match="model not found"):
            llm.invoke("hi")


# --------------------------------------------------------------------------- URL passwords

PASSWORD = "Gateway-Pa55word"


@pytest.mark.parametrize("op", ["invoke", "astream"])
async def test_a_url_password_is_redacted_when_the_host_refuses(op: str) -> None:
    with RawServer(b"") as server:
        port = server.url.rsplit(":", 1)[1]
    obj, _ = make(
        BY_NAME["ChatFFM"],
        None,
        api_key="k" * 12,
        base_url=f"http://gw:{PASSWORD}@127.0.0.1:{port}/api",
    )
    with pytest.raises(errors.APIConnectionError) as info:
        await call(obj, op)
    assert PASSWORD not in str(info.value)
    assert "gw:***@127.0.0.1" in str(info.value)


async def test_a_url_password_is_redacted_on_timeout() -> None:
    with RawServer(None) as server:
        url = server.url.replace("http://", f"http://gw:{PASSWORD}@") + "/api"
        obj, _ = make(BY_NAME["ChatFFM"], None, api_key="k" * 12, base_url=url, timeout=0.3)
        with pytest.raises(errors.APITimeoutError) as info:
            await call(obj, "invoke")
    assert PASSWORD not in str(info.value)


def test_url_credentials_are_sent_as_basic_auth_and_logged_nowhere(
    module_emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = module_emu.ffm_base_url.replace("http://", f"http://gw:{PASSWORD}@")
    module_emu.reset()
    module_emu.queue(Fault.status(503))
    obj, _ = make(BY_NAME["ChatFFM"], module_emu, base_url=url)
    assert "say hi" in str(obj.invoke("say hi").content)
    sent = module_emu.requests[-1].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(f"gw:{PASSWORD}".encode()).decode()
    assert caplog.records, "expected httpx and retry log lines"
    assert [r.getMessage() for r in caplog.records if PASSWORD in r.getMessage()] == []
    assert PASSWORD not in repr(obj)


def test_url_credentials_never_replace_a_provider_token(module_emu: Emulator) -> None:
    module_emu.reset()
    url = module_emu.friendli_base_url.replace("http://", f"http://gw:{PASSWORD}@")
    obj, _ = make(BY_NAME["ChatFriendli"], module_emu, base_url=url)
    with pytest.raises(errors.InvalidParameterError, match="base_url") as info:
        obj.invoke("hi")
    assert PASSWORD not in str(info.value)
    assert module_emu.requests == []


# --------------------------------------------------------------------------- retry log


def test_each_retry_is_one_info_line_worded_like_the_openai_sdk(
    module_emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="langchain_ffm_friendli")
    module_emu.reset()
    module_emu.queue(Fault.status(503), Fault.status(429))
    llm, _ = make(BY_NAME["ChatFFM"], module_emu)
    llm.invoke("hi")
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "langchain_ffm_friendli" and r.levelno == logging.INFO
    ]
    assert len(lines) == 2
    assert (
        "retrying request to "
        + module_emu.ffm_base_url
        + "/models/conversation in 0.50 s (retry 1 of 2)"
        in lines[0]
    )
    assert "in 1.00 s (retry 2 of 2)" in lines[1]
    assert "503" in lines[0]
    assert all(module_emu.api_key not in line for line in lines)

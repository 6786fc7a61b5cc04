"""Secrets: key cleaning, URL redaction, and scrubbing of what the server sends."""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from langchain_core.load import dumps
from pydantic import SecretStr, ValidationError

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FFMEmbeddings,
    FriendliLLM,
    MonsterAPILLM,
)
from langchain_ffm_friendli._secrets import (
    Scrubber,
    api_key_problem,
    clean_api_key,
    redact_url,
    split_userinfo,
)
from langchain_ffm_friendli._transport import HTTPRequest, Transport
from langchain_ffm_friendli.errors import InvalidParameterError

KEY = "sk-Unit-Test-Key-0123456789abcdef"
CLASSES = [
    (ChatFFM, "FFM_API_KEY"),
    (FFMLLM, "FFM_API_KEY"),
    (FFMEmbeddings, "FFM_API_KEY"),
    (ChatFriendli, "FRIENDLI_TOKEN"),
    (FriendliLLM, "FRIENDLI_TOKEN"),
    (ChatMonsterAPI, "MONSTER_API_KEY"),
    (MonsterAPILLM, "MONSTER_API_KEY"),
]
CLASS_PARAMS = [pytest.param(c, env, id=c.__name__) for c, env in CLASSES]


@pytest.mark.parametrize("raw", [f"{KEY}\n", f"{KEY}\r\n", f"  {KEY}\t", f"\n{KEY}"])
@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_surrounding_whitespace_is_stripped_from_passed_and_env_keys(
    cls: type, env: str, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cls(model="m", api_key=raw).api_key.get_secret_value() == KEY
    assert cls(model="m", api_key=SecretStr(raw)).api_key.get_secret_value() == KEY
    monkeypatch.setenv(env, raw)
    assert cls(model="m").api_key.get_secret_value() == KEY


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (f"{KEY[:6]}\x07{KEY[6:]}", "control character at position 6"),
        (f"{KEY[:5]}\n{KEY[5:]}", "control character at position 5"),
        (f"{KEY}é", f"non-ASCII character at position {len(KEY)}"),
        (f"{KEY[:3]}\u200b{KEY[3:]}", "non-ASCII character at position 3"),
    ],
)
@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_a_key_that_cannot_be_a_header_fails_at_init_naming_the_field_not_the_key(
    cls: type, env: str, bad: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError) as passed:
        cls(model="m", api_key=bad)
    text = str(passed.value)
    assert "api_key" in text
    assert env in text
    assert problem in text
    assert KEY[:12] not in text
    assert KEY[-12:] not in text

    monkeypatch.setenv(env, bad)
    with pytest.raises(ValidationError) as from_env:
        cls(model="m")
    assert f"the {env} environment variable" in str(from_env.value)
    assert KEY[-12:] not in str(from_env.value)


@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_validation_errors_never_quote_the_init_arguments(cls: type, env: str) -> None:
    with pytest.raises(ValidationError) as info:
        cls(api_key=KEY)  # model missing: pydantic would echo the whole input
    assert "model" in str(info.value)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


def test_a_key_assigned_after_init_is_checked_before_sending() -> None:
    llm = ChatFFM(model="m", api_key=KEY)
    llm.api_key = SecretStr(f"{KEY}\n")
    assert llm._secret() == KEY
    llm.api_key = SecretStr(f"{KEY}\x00")
    with pytest.raises(InvalidParameterError, match="api_key") as info:
        llm._secret()
    assert KEY not in str(info.value)


def test_a_blank_key_counts_as_missing() -> None:
    assert ChatFFM(model="m", api_key=" \n").api_key is None


def test_key_helpers() -> None:
    assert clean_api_key(f" {KEY}\r\n") == KEY
    assert api_key_problem(KEY) is None
    assert api_key_problem("ab\x7fc") == "has a control character at position 2"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pa55@host:8080/api", "http://user:***@host:8080/api"),
        ("https://user:p%40ss@gw.example/v1?x=1", "https://user:***@gw.example/v1?x=1"),
        ("http://user@host/api", "http://user@host/api"),
        ("http://host/api", "http://host/api"),
        ("http://u:pw@[::1]:9/api", "http://u:***@[::1]:9/api"),
    ],
)
def test_redact_url_masks_only_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_split_userinfo_gives_the_url_without_credentials() -> None:
    assert split_userinfo("http://us%40r:p%3Aw@h:1/a?b=c") == ("http://h:1/a?b=c", ("us@r", "p:w"))
    assert split_userinfo("http://h/a") == ("http://h/a", None)


@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_repr_masks_a_base_url_password(cls: type, env: str) -> None:
    obj = cls(model="m", api_key=KEY, base_url="http://user:hunter2pw@gw.local/api")
    assert "hunter2pw" not in repr(obj)
    assert "user:***@gw.local" in repr(obj)
    assert "hunter2pw" in obj.transport.secrets  # and scrubbed from server text


# --------------------------------------------------------------------------- scrubbing


def test_scrubber_masks_verbatim_and_json_escaped_secrets() -> None:
    key = 'sk-"quoted"\\key-123'
    scrub = Scrubber([key])
    assert scrub.text(f"echo {key}") == "echo ***"
    escaped = json.dumps({"error": f"bad key {key}"})
    assert key not in json.loads(scrub.text(escaped))["error"]
    assert scrub.data(escaped.encode()) == scrub.text(escaped).encode()


def test_an_empty_scrubber_is_false_and_leaves_text_alone() -> None:
    assert not Scrubber(["", ""])
    assert Scrubber([]).text("anything") == "anything"


@given(st.text(alphabet="ab\x00sk-", max_size=40), st.integers(0, 80), st.integers(0, 80))
def test_a_byte_stream_never_releases_a_secret_whatever_the_split(
    filler: str, cut1: int, cut2: int
) -> None:
    key = "sk-abcd-1234"
    body = f"{filler}{key}{filler}\x00{key}".encode()
    cuts = sorted({min(cut1, len(body)), min(cut2, len(body))})
    pieces = [body[: cuts[0]], body[cuts[0] : cuts[-1]], body[cuts[-1] :]]
    scrub = Scrubber([key]).fresh()
    out = b"".join(scrub.feed(p) for p in pieces) + scrub.flush()
    assert out == body.replace(key.encode(), b"***")


def test_a_chunk_ending_a_record_is_never_held_back() -> None:
    scrub = Scrubber(["sk-abcdef"]).fresh()
    record = b'{"text": ["hello sk"]}\x00'
    assert scrub.feed(record) == record
    assert scrub.feed(b'{"text": ["s') == b'{"text": ["'  # "s" may start the key
    assert scrub.flush() == b"s"


_STREAM_KEY = 'sk-"q"\\-42'  # JSON-escapes differently from its verbatim form
_STREAM_BYTES = st.binary(max_size=12) | st.sampled_from(
    [_STREAM_KEY.encode(), json.dumps(_STREAM_KEY)[1:-1].encode(), b"\0", b"\n", b"sk-", b'"'],
)


def _pieces(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts})
    return [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True) if a < b]


def _streaming_transport(pieces: list[bytes]) -> Transport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter(pieces))

    async def ahandler(request: httpx.Request) -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece

        return httpx.Response(200, content=body())

    return Transport(
        provider="p",
        timeout=httpx.Timeout(5.0),
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        http_async_client=httpx.AsyncClient(transport=httpx.MockTransport(ahandler)),
        secrets=(_STREAM_KEY,),
    )


@given(st.lists(_STREAM_BYTES, max_size=12), st.lists(st.integers(0, 200), max_size=8))
def test_a_streamed_body_is_masked_and_each_record_released_whatever_the_reads(
    parts: list[bytes], cuts: list[int]
) -> None:
    """The transport's stream, sync and async: no secret ever leaves it, nothing else is
    lost, and all bytes up to a record's end (NUL, newline) are out once it is read."""
    body = b"".join(parts)
    pieces = _pieces(body, cuts)
    transport = _streaming_transport(pieces)
    request = HTTPRequest(url="http://h/x", headers={}, body={"stream": True})
    masked = Scrubber([_STREAM_KEY]).data(body)

    async def collect() -> list[bytes]:
        return [chunk async for chunk in transport.astream_bytes(request)]

    for out in (list(transport.stream_bytes(request)), asyncio.run(collect())):
        assert b"".join(out) == masked
        released, read = b"", b""
        for piece, chunk in zip(pieces, out, strict=False):
            read, released = read + piece, released + chunk
            if read.endswith((b"\0", b"\n")):
                assert released == Scrubber([_STREAM_KEY]).data(read)


def test_errors_from_one_model_are_scrubbed_of_its_key_only_and_no_key_outlives_its_model() -> None:
    first = ChatFFM(model="m", api_key="sk-first-tenant-key-000")
    second = ChatFFM(model="m", api_key="sk-second-tenant-key-111")
    text = "echo sk-first-tenant-key-000 and sk-second-tenant-key-111"
    # No process-wide registry: each transport masks its own configuration's key.
    assert first.transport._scrub(text) == "echo *** and sk-second-tenant-key-111"
    transport = weakref.ref(first.transport)
    del first
    gc.collect()
    assert transport() is None
    assert second.transport._scrub(text) == "echo sk-first-tenant-key-000 and ***"


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli, ChatMonsterAPI])
def test_serialized_model_holds_no_key_and_no_url_password(cls: type) -> None:
    model = cls(model="m", api_key="sk-serialize-me", base_url="http://gw:pw-serialize@h/v1")
    text = dumps(model)
    assert "sk-serialize-me" not in text
    assert "pw-serialize" not in text
    assert cls.api_key_env in text  # a reference the loader resolves from the environment

"""ChatFFM under failure, over real sockets against the emulator's fault injection."""

import logging
import os
import socket
from unittest import mock

import httpx
import pytest
from langchain_core.load import dumpd

from langchain_ffm_friendli import ChatFFM
from langchain_ffm_friendli.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    IncompleteStreamError,
    InvalidParameterError,
    InvalidRequestError,
    MalformedRecordError,
    RateLimitError,
)
from langchain_ffm_friendli.testing import Emulator, Fault, Reply

MODEL = "llama3.3-ffm-70b-32k-chat"
ANSWER = "印度的主要宗教是印度教。 It is the largest religion there."


def make(emu: Emulator, **kw: object) -> tuple[ChatFFM, list[float]]:
    """A ChatFFM pointed at the emulator, with its retry sleeps recorded instead of slept."""
    params: dict[str, object] = {
        "model": MODEL,
        "base_url": emu.ffm_base_url,
        "api_key": emu.api_key,
    }
    params.update(kw)
    llm = ChatFFM(**params)  # type: ignore[arg-type]
    sleeps: list[float] = []
    llm.transport.sleep = sleeps.append

    async def asleep(seconds: float) -> None:
        sleeps.append(seconds)

    llm.transport.asleep = asleep
    return llm, sleeps


# ----------------------------------------------------------------------------- retries


def test_429_with_retry_after_then_success(emu: Emulator) -> None:
    emu.queue(Fault.status(429, retry_after="2"), Reply(text="ok"))
    llm, sleeps = make(emu)
    assert llm.invoke("hi").content == "ok"
    assert sleeps == [2.0]
    assert len(emu.requests) == 2


def test_retry_after_ms_is_honoured(emu: Emulator) -> None:
    emu.queue(Fault.status(429, retry_after_ms=1500), Reply(text="ok"))
    llm, sleeps = make(emu)
    assert llm.invoke("hi").content == "ok"
    assert sleeps == [1.5]


def test_503_twice_then_success_with_growing_backoff(emu: Emulator) -> None:
    emu.queue(Fault.status(503), Fault.status(503), Reply(text="ok"))
    llm, sleeps = make(emu)
    assert llm.invoke("hi").content == "ok"
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0
    assert len(emu.requests) == 3


def test_retries_exhausted_surface_the_typed_error(emu: Emulator) -> None:
    emu.queue(*(Fault.status(503, body={"detail": "busy"}) for _ in range(3)))
    llm, sleeps = make(emu, max_retries=2)
    with pytest.raises(APIError, match="busy") as info:
        llm.invoke("hi")
    assert info.value.status_code == 503
    assert len(sleeps) == 2
    assert len(emu.requests) == 3


def test_400_is_not_retried(emu: Emulator) -> None:
    emu.queue(Fault.status(400, body={"detail": "bad request body"}))
    llm, sleeps = make(emu)
    with pytest.raises(InvalidRequestError, match="bad request body"):
        llm.invoke("hi")
    assert sleeps == []
    assert len(emu.requests) == 1


def test_401_names_the_server_text_and_never_the_key(emu: Emulator) -> None:
    llm, sleeps = make(emu, api_key="sk-wrong-secret-123")
    with pytest.raises(AuthenticationError) as info:
        llm.invoke("hi")
    assert info.value.status_code == 401
    assert "Invalid API key" in str(info.value)
    assert "sk-wrong-secret-123" not in str(info.value)
    assert "sk-wrong-secret-123" not in repr(info.value)
    assert sleeps == []


def test_stream_is_retried_before_its_first_byte(emu: Emulator) -> None:
    emu.queue(Fault.status(502, body="<html>Bad Gateway</html>"), Reply(text="ok then"))
    llm, sleeps = make(emu)
    assert "".join(str(c.content) for c in llm.stream("hi")) == "ok then"
    assert len(sleeps) == 1


def test_connect_error_is_retried_then_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = ChatFFM(model=MODEL, base_url=f"http://127.0.0.1:{port}/api", api_key="k")
    sleeps: list[float] = []
    llm.transport.sleep = sleeps.append
    with pytest.raises(APIConnectionError, match="cannot reach"):
        llm.invoke("hi")
    assert len(sleeps) == 2


# ----------------------------------------------------------------------------- streams


def test_disconnect_mid_stream_raises_with_the_partial_text(emu: Emulator) -> None:
    emu.queue(Fault.disconnect(after=6), route="ffm.conversation")
    llm, _ = make(emu)
    received: list[str] = []
    with pytest.raises(IncompleteStreamError) as info:
        for chunk in llm.stream("hi"):
            received.append(str(chunk.content))
    assert received  # the user saw some text ...
    assert info.value.partial_text == "".join(received)  # ... and the error carries exactly it


def test_stream_that_ends_without_its_final_record_is_an_error(emu: Emulator) -> None:
    emu.queue(Fault.truncated(after=5))
    llm, _ = make(emu)
    with pytest.raises(IncompleteStreamError, match="final record") as info:
        list(llm.stream("hi"))
    assert info.value.partial_text


def test_malformed_record_raises_with_the_raw_record(emu: Emulator) -> None:
    emu.queue(Fault.malformed(after=4))
    llm, _ = make(emu)
    with pytest.raises(MalformedRecordError) as info:
        list(llm.stream("hi"))
    assert info.value.raw_record == "{not json"
    assert info.value.partial_text


def test_error_record_inside_a_200_stream(emu: Emulator) -> None:
    emu.queue(Fault.error_record(after=3, message="GPU fell over", status_code=500))
    llm, _ = make(emu)
    with pytest.raises(APIError, match="GPU fell over") as info:
        list(llm.stream("hi"))
    assert info.value.status_code == 500


def test_error_event_inside_a_200_stream(emu: Emulator) -> None:
    emu.queue(Fault.error_record(after=2, message="too many", status_code=429, as_event=True))
    llm, _ = make(emu)
    with pytest.raises(RateLimitError, match="too many"):
        list(llm.stream("hi"))


def test_ping_storm_changes_nothing(emu: Emulator) -> None:
    emu.queue(Fault.ping_storm(5, reply=Reply(text=ANSWER)))
    llm, _ = make(emu)
    assert "".join(str(c.content) for c in llm.stream("hi")) == ANSWER


def test_streaming_flag_makes_invoke_stream(emu: Emulator) -> None:
    emu.queue(Reply(text=ANSWER))
    llm, _ = make(emu, streaming=True)
    message = llm.invoke("hi")
    assert message.content == ANSWER
    assert emu.requests[-1].json["stream"] is True
    usage = message.usage_metadata  # the streamed final record's counts reach the message
    assert usage is not None
    assert usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_slow_first_byte_raises_the_timeout_type(emu: Emulator) -> None:
    emu.queue(Fault.slow_first_byte(1.0))
    llm, sleeps = make(emu, timeout=0.2)
    with pytest.raises(APITimeoutError):
        llm.invoke("hi")
    assert sleeps == []  # a generation may be running: never retried blindly


def test_stall_mid_stream_raises_the_timeout_type_with_partial_text(emu: Emulator) -> None:
    emu.queue(Fault.stall(after=4, seconds=1.0))
    llm, _ = make(emu, timeout=0.2)
    with pytest.raises(APITimeoutError) as info:
        list(llm.stream("hi"))
    assert info.value.partial_text


# ----------------------------------------------------------------------------- resources


def _checked_out(client: httpx.Client | httpx.AsyncClient) -> int:
    pool = client._transport._pool  # type: ignore[union-attr]
    return sum(1 for c in pool.connections if not c.is_idle() and not c.is_closed())


def test_breaking_out_of_a_stream_leaves_no_connection_checked_out(emu: Emulator) -> None:
    client = httpx.Client()
    llm, _ = make(emu, http_client=client)
    for _ in range(20):
        for chunk in llm.stream("人口最多的國家是?"):
            assert chunk.content or chunk.content == ""
            break
        assert _checked_out(client) == 0
    assert emu.wait_for_connections(0)
    client.close()


async def test_async_break_leaves_no_connection_checked_out(emu: Emulator) -> None:
    client = httpx.AsyncClient()
    llm, _ = make(emu, http_async_client=client)
    for _ in range(20):
        stream = llm.astream("人口最多的國家是?")
        async for _chunk in stream:
            break
        await stream.aclose()
        assert _checked_out(client) == 0
    await client.aclose()


def test_connections_are_reused_across_calls_and_instances(emu: Emulator) -> None:
    a, _ = make(emu)
    b, _ = make(emu)
    for llm in (a, b, a, b):
        llm.invoke("hi")
        list(llm.stream("hi"))
    # one pooled client serves both instances: 8 calls reuse one keep-alive socket
    assert a.transport.http_client is None
    assert emu.active_connections == 1


# ----------------------------------------------------------------------------- async faults


async def test_async_retry_and_stream_disconnect(emu: Emulator) -> None:
    emu.queue(Fault.status(429, retry_after="1"), Reply(text="ok"))
    llm, sleeps = make(emu)
    assert (await llm.ainvoke("hi")).content == "ok"
    assert sleeps == [1.0]
    emu.queue(Fault.disconnect(after=5))
    received: list[str] = []
    with pytest.raises(IncompleteStreamError) as info:
        async for chunk in llm.astream("hi"):
            received.append(str(chunk.content))
    assert info.value.partial_text == "".join(received)


async def test_async_401(emu: Emulator) -> None:
    llm, _ = make(emu, api_key="nope")
    with pytest.raises(AuthenticationError, match="Invalid API key"):
        await llm.ainvoke("hi")


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"temperature": -1}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"top_k": 101}, "top_k"),
        ({"frequence_penalty": 0}, "frequence_penalty"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"seed": -3}, "seed"),
    ],
)
def test_bad_values_fail_before_any_request(emu: Emulator, kwargs: dict, field: str) -> None:
    llm, _ = make(emu)
    with pytest.raises(InvalidParameterError) as info:
        llm.invoke("hi", **kwargs)
    assert info.value.field == field
    with pytest.raises(ValueError, match=field):
        make(emu, **kwargs)
    assert emu.requests == []


def test_empty_message_list_fails_before_any_request(emu: Emulator) -> None:
    llm, _ = make(emu)
    with pytest.raises(InvalidParameterError, match="messages"):
        llm.invoke([])
    assert emu.requests == []


def test_missing_model_and_missing_key_are_named() -> None:
    with pytest.raises(ValueError, match="model: required"):
        ChatFFM()  # type: ignore[call-arg]
    with mock.patch.dict(os.environ, {}, clear=True):
        llm = ChatFFM(model=MODEL)
    with pytest.raises(AuthenticationError, match="api_key: missing"):
        llm.invoke("hi")


# ----------------------------------------------------------------------------- secrets


def test_key_never_appears_in_repr_dump_errors_or_debug_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "sk-live-very-secret-key"
    caplog.set_level(logging.DEBUG)
    with Emulator(api_key=secret) as emu:
        emu.queue(Fault.status(503), Fault.status(500, body={"detail": f"echo {secret}"}))
        llm, _ = make(emu, max_retries=1)
        with pytest.raises(APIError) as info:
            llm.invoke("hi")
        sent = emu.requests[0].headers["x-api-key"]
    texts = [
        repr(llm),
        str(llm),
        str(llm.model_dump()),
        str(dumpd(llm)),
        str(info.value),
        repr(info.value),
        info.value.detail or "",
        caplog.text,
    ]
    for text in texts:
        assert secret not in text
    assert sent == secret  # it was sent, just never shown

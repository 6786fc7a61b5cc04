"""Reliability (issue 7), part 1 and 2: the retry matrix and timeouts, for every class.

Every public class and entry point, over real sockets against the emulator:
connect errors and 408/409/429/5xx are retried up to ``max_retries`` and then
surface as the right typed error (which is also LangChain's provider-neutral type);
400/401/403/404/422 are never retried; the waits honour ``Retry-After`` (seconds or
an HTTP date) and ``retry-after-ms``, asserted through the injected sleep recorders;
a stream is retried only before its first byte; timeouts raise APITimeoutError.
"""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Callable

import pytest
from langchain_core import exceptions as lc

from langchain_ffm_friendli import errors
from langchain_ffm_friendli.testing import Emulator, Fault

from ._reliability import BY_NAME, CASES, STREAM_CASES, Target, call, make

MAX_RETRIES = 2
BACKOFF = [0.5, 1.0]  # initial 0.5 s, doubled; jitter pinned to 0


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


def _exact(expected: list[float]) -> Callable[[list[float]], bool]:
    return lambda waits: waits == expected


RETRYABLE = [
    pytest.param(
        lambda: Fault.status(408),
        errors.APITimeoutError,
        lc.ModelTimeoutError,
        _exact(BACKOFF),
        id="408",
    ),
    pytest.param(
        lambda: Fault.status(409),
        errors.InvalidRequestError,
        lc.ModelInvalidRequestError,
        _exact(BACKOFF),
        id="409",
    ),
    pytest.param(
        lambda: Fault.status(429, retry_after="3"),
        errors.RateLimitError,
        lc.ModelRateLimitError,
        _exact([3.0, 3.0]),
        id="429-retry-after-seconds",
    ),
    pytest.param(
        lambda: Fault.status(429, retry_after=_http_date(30)),
        errors.RateLimitError,
        lc.ModelRateLimitError,
        lambda waits: len(waits) == 2 and all(27.0 <= w <= 30.0 for w in waits),
        id="429-retry-after-http-date",
    ),
    pytest.param(
        lambda: Fault.status(429, retry_after_ms=1500),
        errors.RateLimitError,
        lc.ModelRateLimitError,
        _exact([1.5, 1.5]),
        id="429-retry-after-ms",
    ),
    pytest.param(
        lambda: Fault.status(429),
        errors.RateLimitError,
        lc.ModelRateLimitError,
        _exact(BACKOFF),
        id="429-no-header",
    ),
    *(
        pytest.param(
            lambda code=code: Fault.status(code),
            errors.APIError,
            lc.ModelAPIError,
            _exact(BACKOFF),
            id=str(code),
        )
        for code in (500, 502, 503, 504)
    ),
]

NOT_RETRIED = [
    pytest.param(400, errors.InvalidRequestError, lc.ModelInvalidRequestError, id="400"),
    pytest.param(401, errors.AuthenticationError, lc.ModelAuthenticationError, id="401"),
    pytest.param(403, errors.PermissionDeniedError, lc.ModelPermissionDeniedError, id="403"),
    pytest.param(404, errors.NotFoundError, lc.ModelNotFoundError, id="404"),
    pytest.param(422, errors.InvalidRequestError, lc.ModelInvalidRequestError, id="422"),
]


# --------------------------------------------------------------------------- retried, then surfaced


@pytest.mark.parametrize(("fault", "typed", "base", "waits_ok"), RETRYABLE)
@pytest.mark.parametrize(("target", "op"), CASES)
async def test_retryable_status_is_retried_up_to_max_then_typed(
    emu: Emulator,
    target: Target,
    op: str,
    fault: Callable[[], Fault],
    typed: type[errors.ProviderError],
    base: type[lc.ModelError],
    waits_ok: Callable[[list[float]], bool],
) -> None:
    emu.queue(*(fault() for _ in range(MAX_RETRIES + 1)))
    obj, waits = make(target, emu, max_retries=MAX_RETRIES)
    with pytest.raises(typed) as info:
        await call(obj, op)
    assert isinstance(info.value, base)
    assert isinstance(info.value, errors.ProviderError)
    assert info.value.status_code == fault().status_code
    assert len(emu.requests) == MAX_RETRIES + 1
    assert waits_ok(waits.for_op(op)), waits
    assert emu.pending == 0


@pytest.mark.parametrize("code", [429, 503])
@pytest.mark.parametrize(("target", "op"), CASES)
async def test_one_failure_then_success_gives_the_answer_exactly_once(
    emu: Emulator, target: Target, op: str, code: int
) -> None:
    """A 503 (or 429) then success: the stream is retried before its first byte, once."""
    obj, waits = make(target, emu)
    clean = await call(obj, op)
    emu.reset()
    emu.queue(Fault.status(code, retry_after="2" if code == 429 else None))
    received: list[str] = []
    assert await call(obj, op, received) == clean
    if op in ("stream", "astream"):
        assert "".join(received) == clean  # streamed once, nothing duplicated
    assert len(emu.requests) == 2
    assert waits.for_op(op) == ([2.0] if code == 429 else [0.5])


@pytest.mark.parametrize(("target", "op"), CASES)
async def test_connect_error_is_retried_then_raised(emu: Emulator, target: Target, op: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = target.base_url(emu).replace(emu.url, f"http://127.0.0.1:{port}")
    obj, waits = make(target, base_url=closed, api_key="k", max_retries=MAX_RETRIES)
    with pytest.raises(errors.APIConnectionError) as info:
        await call(obj, op)
    assert isinstance(info.value, lc.ModelConnectionError)
    assert info.value.status_code is None
    assert waits.for_op(op) == BACKOFF
    assert emu.requests == []


@pytest.mark.parametrize("max_retries", [0, 1, 4])
async def test_the_retry_budget_is_max_retries(emu: Emulator, max_retries: int) -> None:
    for name, op in (
        ("ChatFFM", "astream"),
        ("MonsterAPILLM", "stream"),
        ("FriendliLLM", "invoke"),
    ):
        emu.reset()
        emu.queue(*(Fault.status(503) for _ in range(6)))
        obj, waits = make(BY_NAME[name], emu, max_retries=max_retries)
        with pytest.raises(errors.APIError):
            await call(obj, op)
        assert len(emu.requests) == max_retries + 1
        assert waits.for_op(op) == [min(0.5 * 2**i, 8.0) for i in range(max_retries)]


# --------------------------------------------------------------------------- never retried


@pytest.mark.parametrize(("code", "typed", "base"), NOT_RETRIED)
@pytest.mark.parametrize(("target", "op"), CASES)
async def test_client_errors_are_never_retried(
    emu: Emulator,
    target: Target,
    op: str,
    code: int,
    typed: type[errors.ProviderError],
    base: type[lc.ModelError],
) -> None:
    emu.queue(Fault.status(code, body={"detail": f"refused with {code}"}), Fault.status(503))
    obj, waits = make(target, emu)
    with pytest.raises(typed) as info:
        await call(obj, op)
    assert isinstance(info.value, base)
    assert info.value.status_code == code
    assert f"refused with {code}" in str(info.value)
    assert len(emu.requests) == 1
    assert waits.sync == waits.async_ == []


# --------------------------------------------------------------------------- streams: 1st byte only


@pytest.mark.parametrize(("target", "op"), STREAM_CASES)
async def test_disconnect_mid_stream_is_not_retried(emu: Emulator, target: Target, op: str) -> None:
    emu.queue(Fault.disconnect(after=4))
    obj, waits = make(target, emu)
    received: list[str] = []
    with pytest.raises(errors.IncompleteStreamError) as info:
        await call(obj, op, received)
    assert received
    assert info.value.partial_text == "".join(received)
    assert len(emu.requests) == 1
    assert waits.sync == waits.async_ == []


# --------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize(("target", "op"), CASES)
async def test_slow_first_byte_raises_api_timeout_error(
    emu: Emulator, target: Target, op: str
) -> None:
    emu.queue(Fault.slow_first_byte(1.0))
    obj, waits = make(target, emu, timeout=0.15)
    started = time.monotonic()
    with pytest.raises(errors.APITimeoutError) as info:
        await call(obj, op)
    assert isinstance(info.value, lc.ModelTimeoutError)
    assert time.monotonic() - started < 0.9  # the client gave up; it did not wait it out
    # a read timeout is not retried: a generation may already be running
    assert len(emu.requests) == 1
    assert waits.sync == waits.async_ == []


@pytest.mark.parametrize(("target", "op"), STREAM_CASES)
async def test_stall_mid_stream_raises_api_timeout_error_with_partial_text(
    emu: Emulator, target: Target, op: str
) -> None:
    emu.queue(Fault.stall(after=4, seconds=1.0))
    obj, waits = make(target, emu, timeout=0.15)
    received: list[str] = []
    with pytest.raises(errors.APITimeoutError) as info:
        await call(obj, op, received)
    assert isinstance(info.value, lc.ModelTimeoutError)
    assert received
    assert info.value.partial_text == "".join(received)
    assert len(emu.requests) == 1
    assert waits.sync == waits.async_ == []

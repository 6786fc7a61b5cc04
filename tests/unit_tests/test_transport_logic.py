"""Retry decisions and Retry-After parsing, without any network."""

import email.utils

import httpx
import pytest

from langchain_ffm_friendli._transport import (
    HTTPRequest,
    RetryPolicy,
    Transport,
    retry_after_seconds,
)
from langchain_ffm_friendli.errors import APIConnectionError, error_for_status


def transport(max_retries: int = 2) -> Transport:
    return Transport(
        provider="ffm",
        timeout=httpx.Timeout(1.0),
        retry=RetryPolicy(max_retries=max_retries),
        jitter=lambda: 0.0,
    )


def test_retry_after_in_seconds_ms_and_http_date() -> None:
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 7, usegmt=True)
    assert retry_after_seconds({"Retry-After": date}, now=now) == pytest.approx(7.0)
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_back_off_exponentially(status: int) -> None:
    t = transport()
    error = error_for_status(provider="ffm", status_code=status, detail="x")
    assert t._retry_delay(0, error, {}) == 0.5
    assert t._retry_delay(1, error, {}) == 1.0
    assert t._retry_delay(2, error, {}) is None  # budget spent


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    error = error_for_status(provider="ffm", status_code=status, detail="x")
    assert transport()._retry_delay(0, error, {}) is None


def test_server_requested_wait_wins_until_the_cap() -> None:
    t = transport()
    error = error_for_status(provider="ffm", status_code=429, detail="x")
    assert t._retry_delay(0, error, {"retry-after": "4"}) == 4.0
    assert t._retry_delay(0, error, {"retry-after": "3600"}) is None


def test_connection_errors_are_retried_and_jitter_shortens_the_wait() -> None:
    t = Transport(provider="ffm", timeout=httpx.Timeout(1.0), jitter=lambda: 1.0)
    error = APIConnectionError("down", provider="ffm")
    assert t._retry_delay(0, error, None) == pytest.approx(0.375)


def test_secrets_are_masked_in_a_status_error() -> None:
    t = Transport(provider="ffm", timeout=httpx.Timeout(1.0), secrets=("sk-secret",))
    response = httpx.Response(401, json={"detail": "bad key sk-secret"})
    request = HTTPRequest(url="http://h/x", headers={}, body={})
    error = t._status_error(response, response.read(), request)
    assert "sk-secret" not in str(error)
    assert "***" in str(error)

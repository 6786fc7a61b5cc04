"""The package's only I/O: pooled httpx clients, retries, timeouts, error mapping.

The transport knows nothing about any provider. A provider module hands it a URL,
headers and a JSON body and gets back a JSON object, a stream of Server-Sent
Events, or a stream of raw bytes. Everything that can go wrong on the way comes
back as one of the typed errors in :mod:`langchain_ffm_friendli.errors`.

Retries follow the Stainless SDKs (openai, anthropic): connect errors and 408,
409, 429, 500, 502, 503, 504 are retried with exponential backoff and jitter,
``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date) are honoured up to
a cap, and other 4xx are never retried. A stream is retried only until its
response headers arrive; after that nothing is retried, so no output is ever
duplicated.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from httpx_sse import EventSource, ServerSentEvent

from langchain_ffm_friendli.errors import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    MalformedRecordError,
    ProviderError,
    error_for_status,
    provider_message,
)

__all__ = [
    "RETRYABLE_STATUSES",
    "HTTPRequest",
    "RetryPolicy",
    "Transport",
    "retry_after_seconds",
    "shared_async_client",
    "shared_client",
    "to_timeout",
]

logger = logging.getLogger("langchain_ffm_friendli")

RETRYABLE_STATUSES: Final = frozenset({408, 409, 429, 500, 502, 503, 504})
_REQUEST_ID_HEADERS: Final = ("x-request-id", "request-id", "x-friendli-request-id")
_LIMITS: Final = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
_DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0)


# --------------------------------------------------------------------------- clients

_lock = threading.Lock()
_sync_client: httpx.Client | None = None
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
_async_clients = weakref.WeakKeyDictionary()


def shared_client() -> httpx.Client:
    """The process-wide pooled sync client (timeouts are set per request)."""
    global _sync_client  # noqa: PLW0603
    with _lock:
        if _sync_client is None or _sync_client.is_closed:
            _sync_client = httpx.Client(limits=_LIMITS, timeout=_DEFAULT_TIMEOUT)
        return _sync_client


def shared_async_client() -> httpx.AsyncClient:
    """The pooled async client of the running event loop.

    An ``httpx.AsyncClient`` keeps connections bound to the loop that opened
    them, so each loop gets its own client; it is dropped with its loop.
    """
    loop = asyncio.get_running_loop()
    with _lock:
        client = _async_clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(limits=_LIMITS, timeout=_DEFAULT_TIMEOUT)
            _async_clients[loop] = client
        return client


def to_timeout(value: float | httpx.Timeout | None, default: httpx.Timeout) -> httpx.Timeout:
    """Normalise the ``timeout`` init argument (None means the provider default)."""
    if value is None:
        return default
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(float(value))


# --------------------------------------------------------------------------- retries


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait between attempts.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        initial_delay: the first backoff, doubled on every later attempt.
        max_delay: the longest backoff.
        max_retry_after: the longest server-requested wait we honour; a server
            asking for more gets its error surfaced instead of a long sleep.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, attempt: int, jitter: float) -> float:
        """Exponential backoff for ``attempt`` (0-based) with up to 25% jitter."""
        delay = min(self.initial_delay * float(2**attempt), self.max_delay)
        return delay * (1.0 - 0.25 * jitter)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait a response asks for, from ``retry-after-ms`` or ``Retry-After``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class HTTPRequest:
    """What a provider asks the transport to send."""

    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]


@dataclass(slots=True)
class Transport:
    """Send requests for one provider configuration, with retries and typed errors.

    Attributes:
        provider: the provider name used in error messages.
        timeout: per-request timeouts.
        retry: the retry policy.
        http_client / http_async_client: user-injected clients; when None the
            shared pooled clients are used.
        secrets: strings (API keys) scrubbed from every error text.
        sleep / asleep / jitter: injectable for tests, so waits can be asserted
            without wall-clock time.
    """

    provider: str
    timeout: httpx.Timeout
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    http_client: httpx.Client | None = None
    http_async_client: httpx.AsyncClient | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    sleep: Callable[[float], None] = time.sleep
    asleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = random.random

    # ------------------------------------------------------------------ sync

    def post(self, request: HTTPRequest) -> dict[str, Any]:
        """POST a JSON body and return the decoded JSON object."""
        return self._decode_json(self._send(request, stream=False))

    def stream_events(self, request: HTTPRequest) -> Iterator[ServerSentEvent]:
        """POST and yield Server-Sent Events; leaving early closes the connection."""
        response = self._send(request, stream=True)
        try:
            if not _is_event_stream(response):
                response.read()
                yield self._non_stream_body_as_event(response)
                return
            try:
                yield from EventSource(response).iter_sse()
            except httpx.TransportError as exc:
                raise self._mid_stream_error(exc) from exc
        finally:
            response.close()

    def stream_bytes(self, request: HTTPRequest) -> Iterator[bytes]:
        """POST and yield the raw body bytes as they arrive."""
        response = self._send(request, stream=True)
        try:
            try:
                yield from response.iter_raw()
            except httpx.TransportError as exc:
                raise self._mid_stream_error(exc) from exc
        finally:
            response.close()

    def _send(self, request: HTTPRequest, *, stream: bool) -> httpx.Response:
        """Send with retries until a 2xx response (headers only when streaming)."""
        client = self.http_client or shared_client()
        for attempt in range(self.retry.max_retries + 1):
            try:
                response = client.send(self._build(client, request), stream=stream)
                if not response.is_success:
                    try:
                        response.read()
                    finally:
                        response.close()
            except httpx.TransportError as exc:
                error = self._transport_error(exc, request)
                headers = None
            else:
                if response.is_success:
                    return response
                error, headers = self._status_error(response), response.headers
            delay = self._retry_delay(attempt, error, headers)
            if delay is None:
                raise error
            self._log_retry(attempt, delay, error)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ async

    async def apost(self, request: HTTPRequest) -> dict[str, Any]:
        """Async :meth:`post`."""
        return self._decode_json(await self._asend(request, stream=False))

    async def astream_events(self, request: HTTPRequest) -> AsyncGenerator[ServerSentEvent, None]:
        """Async :meth:`stream_events`."""
        response = await self._asend(request, stream=True)
        try:
            if not _is_event_stream(response):
                await response.aread()
                yield self._non_stream_body_as_event(response)
                return
            events = EventSource(response).aiter_sse()
            try:
                async for event in events:
                    yield event
            except httpx.TransportError as exc:
                raise self._mid_stream_error(exc) from exc
            finally:
                await events.aclose()
        finally:
            await response.aclose()

    async def astream_bytes(self, request: HTTPRequest) -> AsyncIterator[bytes]:
        """Async :meth:`stream_bytes`."""
        response = await self._asend(request, stream=True)
        try:
            try:
                async for chunk in response.aiter_raw():
                    yield chunk
            except httpx.TransportError as exc:
                raise self._mid_stream_error(exc) from exc
        finally:
            await response.aclose()

    async def _asend(self, request: HTTPRequest, *, stream: bool) -> httpx.Response:
        """Async :meth:`_send`."""
        client = self.http_async_client or shared_async_client()
        for attempt in range(self.retry.max_retries + 1):
            try:
                response = await client.send(self._build(client, request), stream=stream)
                if not response.is_success:
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
            except httpx.TransportError as exc:
                error = self._transport_error(exc, request)
                headers = None
            else:
                if response.is_success:
                    return response
                error, headers = self._status_error(response), response.headers
            delay = self._retry_delay(attempt, error, headers)
            if delay is None:
                raise error
            self._log_retry(attempt, delay, error)
            await self.asleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ shared logic

    def _build(
        self, client: httpx.Client | httpx.AsyncClient, request: HTTPRequest
    ) -> httpx.Request:
        body = json.dumps(request.body, ensure_ascii=False, separators=(",", ":"))
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers.update(request.headers)
        if request.body.get("stream"):
            headers["Accept"] = "text/event-stream"
        return client.build_request(
            "POST",
            request.url,
            content=body.encode("utf-8"),
            headers=headers,
            timeout=self.timeout,
        )

    def _retry_delay(
        self, attempt: int, error: ProviderError, headers: Mapping[str, str] | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= self.retry.max_retries:
            return None
        retryable = isinstance(error, APIConnectionError) or (
            error.status_code in RETRYABLE_STATUSES
        )
        if not retryable:
            return None
        asked = retry_after_seconds(headers) if headers is not None else None
        if asked is not None:
            if asked > self.retry.max_retry_after:
                return None
            return asked
        return self.retry.backoff(attempt, self.jitter())

    def _log_retry(self, attempt: int, delay: float, error: ProviderError) -> None:
        logger.debug(
            "%s: retrying in %.2fs (attempt %d of %d) after: %s",
            self.provider,
            delay,
            attempt + 1,
            self.retry.max_retries,
            error.message,
        )

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _status_error(self, response: httpx.Response) -> ProviderError:
        raw = response.content.decode("utf-8", errors="replace")
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = None
        detail = self._scrub(provider_message(payload, raw))
        request_id = next(
            (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers),
            None,
        )
        return error_for_status(
            provider=self.provider,
            status_code=response.status_code,
            detail=detail,
            request_id=request_id,
        )

    def _decode_json(self, response: httpx.Response) -> dict[str, Any]:
        raw = response.content
        try:
            payload = json.loads(raw)
        except ValueError:
            text = self._scrub(raw.decode("utf-8", errors="replace"))
            raise MalformedRecordError(
                f"{self.provider} returned a non-JSON body with status "
                f"{response.status_code}: {text[:200]!r}",
                provider=self.provider,
                status_code=response.status_code,
                raw_record=text,
            ) from None
        if not isinstance(payload, dict):
            raise MalformedRecordError(
                f"{self.provider} returned JSON that is not an object",
                provider=self.provider,
                status_code=response.status_code,
                raw_record=self._scrub(raw.decode("utf-8", errors="replace")),
            )
        return payload

    def _non_stream_body_as_event(self, response: httpx.Response) -> ServerSentEvent:
        """A 200 answer to a stream request that is not SSE becomes one data event."""
        return ServerSentEvent(data=response.content.decode("utf-8", errors="replace"))

    def _transport_error(self, exc: httpx.TransportError, request: HTTPRequest) -> ProviderError:
        where = httpx.URL(request.url).copy_with(query=None)
        if isinstance(exc, httpx.TimeoutException) and not isinstance(
            exc, httpx.ConnectTimeout | httpx.PoolTimeout
        ):
            return APITimeoutError(
                f"{self.provider}: no response from {where} within the timeout "
                f"({type(exc).__name__})",
                provider=self.provider,
            )
        reason = self._scrub(str(exc)) or type(exc).__name__
        return APIConnectionError(
            f"{self.provider}: cannot reach {where}: {reason}",
            provider=self.provider,
        )

    def _mid_stream_error(self, exc: httpx.TransportError) -> ProviderError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{self.provider}: the stream stalled longer than the read timeout",
                provider=self.provider,
            )
        reason = self._scrub(str(exc)) or type(exc).__name__
        return IncompleteStreamError(
            f"{self.provider}: the connection broke mid-stream: {reason}",
            provider=self.provider,
        )


def _is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")

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
import contextlib
import email.utils
import json
import logging
import os
import random
import ssl
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from langchain_ffm_friendli._secrets import Scrubber, redact_url, split_userinfo
from langchain_ffm_friendli.errors import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    InvalidParameterError,
    InvalidRequestError,
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
#
# Pooled clients are process state: one sync client per process and one async
# client per event loop. Two deployment patterns shape this. A forked worker
# (gunicorn --preload, Celery prefork) must never touch the sockets it inherited,
# so the child forgets them (without closing: closing could end the parent's TLS
# sessions). An app that runs ``asyncio.run`` per call (Celery tasks, Lambda
# handlers, sync views) creates a loop per call, so each loop's client is closed
# when that loop shuts down, instead of living on with its socket.

_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None
_sync_client: httpx.Client | None = None


@dataclass(slots=True)
class _LoopClient:
    client: httpx.AsyncClient
    closer: AsyncGenerator[None, None]


_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient]
_async_clients = weakref.WeakKeyDictionary()
# What a forked child inherited: kept referenced, never used, never closed.
_inherited: list[object] = []


def _forget_inherited_clients() -> None:
    """In a forked child: start with no pooled client (the parent's stay the parent's)."""
    global _lock, _sync_client, _async_clients  # noqa: PLW0603
    _inherited.append((_sync_client, list(_async_clients.values())))
    _lock = threading.Lock()  # another thread may have held it at the fork
    _sync_client = None
    _async_clients = weakref.WeakKeyDictionary()


os.register_at_fork(after_in_child=_forget_inherited_clients)


def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every pooled client (building one costs ~20 ms)."""
    global _ssl_context  # noqa: PLW0603
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def shared_client() -> httpx.Client:
    """The process-wide pooled sync client (timeouts are set per request)."""
    global _sync_client  # noqa: PLW0603
    client = _sync_client
    if client is not None and not client.is_closed:
        return client
    with _lock:
        if _sync_client is None or _sync_client.is_closed:
            _sync_client = httpx.Client(
                limits=_LIMITS, timeout=_DEFAULT_TIMEOUT, verify=_shared_ssl_context()
            )
        return _sync_client


async def shared_async_client() -> httpx.AsyncClient:
    """The pooled async client of the running event loop.

    An ``httpx.AsyncClient`` keeps connections bound to the loop that opened
    them, so each loop gets its own client, closed when the loop shuts down
    (``asyncio.run`` and ``asyncio.Runner`` finalize async generators then).
    """
    loop = asyncio.get_running_loop()
    entry = _async_clients.get(loop)
    if entry is not None and not entry.client.is_closed:
        return entry.client
    client = httpx.AsyncClient(
        limits=_LIMITS, timeout=_DEFAULT_TIMEOUT, verify=_shared_ssl_context()
    )
    closer = _close_with_loop(client, weakref.ref(loop))
    with _lock:
        _drop_closed_loops()
        _async_clients[loop] = _LoopClient(client, closer)
    await closer.asend(None)  # registers it with the loop's shutdown
    return client


async def _close_with_loop(
    client: httpx.AsyncClient, loop: weakref.ref[asyncio.AbstractEventLoop]
) -> AsyncGenerator[None, None]:
    """Parked for the loop's lifetime; closes ``client`` when the loop shuts down."""
    try:
        yield
    finally:
        running = loop()
        if running is not None and not running.is_closed():
            await client.aclose()


def _drop_closed_loops() -> None:
    """Forget clients of loops closed without shutting down their async generators.

    Their sockets cannot be closed through a closed loop; they are released
    when collected. Loops ended by ``asyncio.run`` never get here.
    """
    for loop in [loop for loop in _async_clients if loop.is_closed()]:
        entry = _async_clients.pop(loop)
        closing = entry.closer.aclose()
        with contextlib.suppress(StopIteration, RuntimeError):
            closing.send(None)
        closing.close()


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


@dataclass(slots=True, weakref_slot=True)
class Transport:
    """Send requests for one provider configuration, with retries and typed errors.

    Attributes:
        provider: the provider name used in error messages.
        timeout: per-request timeouts.
        retry: the retry policy.
        http_client / http_async_client: user-injected clients; when None the
            shared pooled clients are used.
        secrets: this configuration's secrets (API key, URL password): masked
            in everything the server sends before anything downstream reads it,
            so no error can quote them, and in every error text built here.
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
    _scrubber: Scrubber = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._scrubber = Scrubber(self.secrets)

    # ------------------------------------------------------------------ sync

    def post(self, request: HTTPRequest) -> dict[str, Any]:
        """POST a JSON body and return the decoded JSON object."""
        return self._decode_json(self._send(request, stream=False))

    def stream_bytes(self, request: HTTPRequest, *, event_stream: bool = False) -> Iterator[bytes]:
        """POST and yield the body's bytes as they arrive, decoded and masked of secrets.

        ``event_stream``: the route answers with Server-Sent Events; a 200 answer
        of another type (a JSON error, or a whole answer) is handed on as one
        SSE data event, so the framing reports it like any other record.
        Leaving early closes the connection.
        """
        response = self._send(request, stream=True)
        try:
            with self._reading():
                if event_stream and not _is_event_stream(response):
                    yield _as_one_event(self._scrubber.data(_read(response)))
                    return
                chunks = response.iter_raw() if _identity(response) else response.iter_bytes()
                if not self._scrubber:
                    yield from chunks
                    return
                scrubber = self._scrubber.fresh()
                for chunk in chunks:
                    yield scrubber.feed(chunk)
                yield scrubber.flush()
        finally:
            response.close()

    def _send(self, request: HTTPRequest, *, stream: bool) -> httpx.Response:
        """Send with retries until a 2xx response (headers only when streaming)."""
        client = self.http_client or shared_client()
        built, auth = self._build(client, request)
        for attempt in range(self.retry.max_retries + 1):
            try:
                response = client.send(built, stream=stream, auth=auth)
                if not response.is_success:
                    _read(response)
            except _READ_ERRORS as exc:
                error, headers = self._transport_error(exc, request), None
            else:
                if response.is_success:
                    return response
                error, headers = self._status_error(response), response.headers
            delay = self._retry_delay(attempt, error, headers)
            if delay is None:
                raise error
            self._log_retry(attempt, delay, error, built)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ async

    async def apost(self, request: HTTPRequest) -> dict[str, Any]:
        """Async :meth:`post`."""
        return self._decode_json(await self._asend(request, stream=False))

    async def astream_bytes(
        self, request: HTTPRequest, *, event_stream: bool = False
    ) -> AsyncIterator[bytes]:
        """Async :meth:`stream_bytes`."""
        response = await self._asend(request, stream=True)
        try:
            with self._reading():
                if event_stream and not _is_event_stream(response):
                    yield _as_one_event(self._scrubber.data(await _aread(response)))
                    return
                chunks = response.aiter_raw() if _identity(response) else response.aiter_bytes()
                if not self._scrubber:
                    async for chunk in chunks:
                        yield chunk
                    return
                scrubber = self._scrubber.fresh()
                async for chunk in chunks:
                    yield scrubber.feed(chunk)
                yield scrubber.flush()
        finally:
            await response.aclose()

    async def _asend(self, request: HTTPRequest, *, stream: bool) -> httpx.Response:
        """Async :meth:`_send`."""
        client = self.http_async_client or await shared_async_client()
        built, auth = self._build(client, request)
        for attempt in range(self.retry.max_retries + 1):
            try:
                response = await client.send(built, stream=stream, auth=auth)
                if not response.is_success:
                    await _aread(response)
            except _READ_ERRORS as exc:
                error, headers = self._transport_error(exc, request), None
            else:
                if response.is_success:
                    return response
                error, headers = self._status_error(response), response.headers
            delay = self._retry_delay(attempt, error, headers)
            if delay is None:
                raise error
            self._log_retry(attempt, delay, error, built)
            await self.asleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ shared logic

    def _build(
        self, client: httpx.Client | httpx.AsyncClient, request: HTTPRequest
    ) -> tuple[httpx.Request, Any]:
        """The request to send and its auth; URL userinfo travels as Basic auth."""
        body = _encode(request.body)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        headers.update(request.headers)
        if request.body.get("stream"):
            headers["Accept"] = "text/event-stream"
        url, userinfo = split_userinfo(request.url)
        if userinfo and any(name.lower() == "authorization" for name in headers):
            # Basic auth from the URL would replace the provider's own token.
            raise InvalidParameterError(
                "base_url",
                f"{redact_url(request.url)} carries user:password, which would be sent as "
                f"the Authorization header that {self.provider} needs for its key; give "
                "gateway credentials through a proxy or http_client instead",
                provider=self.provider,
            )
        try:
            built = client.build_request(
                "POST",
                url,
                content=body.encode("utf-8"),
                headers=headers,
                timeout=self.timeout,
            )
        except (UnicodeEncodeError, httpx.InvalidURL) as exc:
            # The values are not quoted: a header value may be a credential.
            what = "a header value is not ASCII" if isinstance(exc, UnicodeError) else "bad URL"
            raise InvalidRequestError(
                f"{self.provider}: the request to {redact_url(url)} cannot be sent: {what}",
                provider=self.provider,
            ) from None
        return built, httpx.BasicAuth(*userinfo) if userinfo else httpx.USE_CLIENT_DEFAULT

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

    def _log_retry(
        self, attempt: int, delay: float, error: ProviderError, request: httpx.Request
    ) -> None:
        """One INFO line per retry, worded as the openai SDK words it."""
        logger.info(
            "%s: retrying request to %s in %.2f s (retry %d of %d) after: %s",
            self.provider,
            request.url.copy_with(query=None),
            delay,
            attempt + 1,
            self.retry.max_retries,
            error.message,
        )

    def _scrub(self, text: str) -> str:
        return self._scrubber.text(text)

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
        raw = self._scrubber.data(response.content)
        try:
            payload = json.loads(raw)
        except ValueError:
            text = raw.decode("utf-8", errors="replace")
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
                raw_record=raw.decode("utf-8", errors="replace"),
            )
        return payload

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn a failure while reading a started stream into our typed error."""
        try:
            yield
        except _READ_ERRORS as exc:
            raise self._mid_stream_error(exc) from exc

    def _transport_error(
        self, exc: httpx.TransportError | httpx.DecodingError, request: HTTPRequest
    ) -> ProviderError:
        if isinstance(exc, httpx.DecodingError):
            return _undecodable(self.provider, exc)
        where = redact_url(str(httpx.URL(request.url).copy_with(query=None)))
        if isinstance(exc, httpx.LocalProtocolError):
            # We could not even write the request (e.g. an illegal header value
            # in default_headers): sending it again cannot help.
            return InvalidRequestError(
                f"{self.provider}: the request to {where} could not be sent: "
                f"{self._scrub(str(exc)) or type(exc).__name__}",
                provider=self.provider,
            )
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

    def _mid_stream_error(self, exc: httpx.TransportError | httpx.DecodingError) -> ProviderError:
        if isinstance(exc, httpx.DecodingError):
            return _undecodable(self.provider, exc)
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


def _as_one_event(body: bytes) -> bytes:
    """``body`` as the data of one Server-Sent Event (each line a ``data`` line)."""
    return b"".join(b"data: " + line + b"\n" for line in body.splitlines() or [b""]) + b"\n"


def _identity(response: httpx.Response) -> bool:
    """The body is not content-encoded: its raw bytes are the body (no decoder pass)."""
    return response.headers.get("content-encoding", "identity").strip().lower() in ("", "identity")


def _is_event_stream(response: httpx.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


# One encoder for every request body (json.dumps builds a new one per call for these options).
_encode: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

# Failures while reading a body: the connection (TransportError) or its
# Content-Encoding (DecodingError, which httpx does not count as transport).
_READ_ERRORS: Final = (httpx.TransportError, httpx.DecodingError)


def _read(response: httpx.Response) -> bytes:
    """The whole body, and the connection released whatever happens."""
    try:
        return response.read()
    finally:
        response.close()


async def _aread(response: httpx.Response) -> bytes:
    """Async :func:`_read`."""
    try:
        return await response.aread()
    finally:
        await response.aclose()


def _undecodable(provider: str, exc: httpx.DecodingError) -> ProviderError:
    """A body whose Content-Encoding does not decode (a broken proxy, a cut stream)."""
    return MalformedRecordError(
        f"{provider}: the response body could not be decoded: {exc}",
        provider=provider,
    )

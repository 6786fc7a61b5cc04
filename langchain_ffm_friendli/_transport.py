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
import functools
import ipaddress
import json
import logging
import os
import random
import re
import ssl
import threading
import time
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import httpx

from langchain_ffm_friendli._deadlines import (
    CHUNK,
    TOTAL,
    Alarm,
    Deadline,
    socket_interrupt,
    watchdog,
)
from langchain_ffm_friendli._lazy import package_version
from langchain_ffm_friendli._secrets import Redactor, redact_url, split_userinfo
from langchain_ffm_friendli.errors import (
    RAW_RECORD_LIMIT,
    REQUEST_ID_LIMIT,
    APIConnectionError,
    APITimeoutError,
    DeadlineExceededError,
    IncompleteStreamError,
    InvalidParameterError,
    InvalidRequestError,
    MalformedRecordError,
    ProviderError,
    error_for_status,
    excerpt,
    provider_message,
)

__all__ = [
    "REQUEST_ID_HEADERS",
    "RETRYABLE_STATUSES",
    "Exchange",
    "HTTPRequest",
    "RetryPolicy",
    "Transport",
    "request_id_of",
    "retry_after_seconds",
    "shared_async_client",
    "shared_client",
    "to_timeout",
    "url_problem",
    "user_agent",
]

logger = logging.getLogger("langchain_ffm_friendli")

RETRYABLE_STATUSES: Final = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Where servers and gateways commonly send a request id (a provider may name its own).
REQUEST_ID_HEADERS: Final = ("x-request-id", "request-id")
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


if hasattr(os, "register_at_fork"):  # POSIX; elsewhere nothing forks a worker
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


_HOST_LABEL: Final = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?")


def url_problem(url: str) -> str | None:
    """Why requests cannot be sent to ``url`` (None if they can), without quoting it.

    Checked as the HTTP stack checks it when sending: the URL parses, its
    scheme is http or https, it has a host whose labels are 1 to 63 characters
    once IDNA-encoded (253 in all), and its port is in range.
    """
    try:
        parsed = httpx.URL(split_userinfo(url)[0])
        port = parsed.port
    except (httpx.InvalidURL, ValueError):  # idna.IDNAError and UnicodeError are ValueErrors
        return "is not a URL that can be sent to (it does not parse, or its host is not valid IDNA)"
    if parsed.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    host = parsed.raw_host.decode("ascii", errors="replace")
    if not host:
        return "has no host"
    if port is not None and not 0 < port < 65536:
        return "has a port outside 1-65535"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(len(label) <= 63 for label in labels):
        return "has a host name longer than 253 characters or a label longer than 63"
    if not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return "has a host name with an empty label or a character a host name cannot have"
    return None


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


_clock: Final = time.monotonic


class Progress(Protocol):
    """What a stream has delivered so far (errors carry it)."""

    @property
    def text(self) -> str:
        """The text delivered."""
        ...

    @property
    def chunks(self) -> int:
        """The chunks delivered."""
        ...


@dataclass(frozen=True, slots=True)
class HTTPRequest:
    """What a provider asks the transport to send.

    Attributes:
        url: where to POST.
        headers: every header of the call (credentials, the user's own).
        body: the JSON body.
        private: lower-case names of the headers whose values are credentials
            (the provider's key header, the user's ``default_headers`` and
            per-call ``extra_headers``): masked in every error and log line,
            and never sent to another origin after a redirect.
        request_id_headers: the response headers that may carry the server's
            request id, in order of preference.
    """

    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]
    private: frozenset[str] = frozenset()
    request_id_headers: tuple[str, ...] = REQUEST_ID_HEADERS

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values of the private headers."""
        return tuple(v for k, v in self.headers.items() if k.lower() in self.private)


@dataclass(slots=True)
class Exchange:
    """One call, as the transport and the stream driver share it.

    Attributes:
        chunk_timeout / total_timeout: the call's bounds in seconds (None or 0: unbounded).
        request_id: the server's request id header, once the response headers
            arrived (put on the answer's metadata and on every error).
        content_type: the answer's ``Content-Type`` (a framing may read a body
            of another type than its route's as one record).
        deadline: the running bounds (set when the call starts; None if unbounded).
        complete: the stream reached its protocol's terminal record, so what
            follows in the body is read only briefly (to reuse the connection).
    """

    chunk_timeout: float | None = None
    total_timeout: float | None = None
    request_id: str | None = None
    content_type: str = ""
    deadline: Deadline | None = None
    complete: bool = False

    def start(self) -> Deadline | None:
        """Start the clock of the call's bounds."""
        self.deadline = Deadline.of(self.chunk_timeout, self.total_timeout)
        return self.deadline

    def start_reading(self, headers: Mapping[str, str], request: HTTPRequest) -> None:
        """A 2xx answer's headers arrived: what they tell about the body to come."""
        self.request_id = request_id_of(headers, request.request_id_headers)
        self.content_type = headers.get("content-type", "")


def request_id_of(
    headers: Mapping[str, str], names: Sequence[str] = REQUEST_ID_HEADERS
) -> str | None:
    """The server's request id, from the first of ``names`` that it sent."""
    for name in names:
        value = headers.get(name)
        if value:
            return value
    return None


@functools.cache
def user_agent() -> str:
    """``langchain-ffm-friendli/<version> python-httpx/<version>``, which providers log."""
    return f"langchain-ffm-friendli/{package_version()} python-httpx/{httpx.__version__}"


@dataclass(slots=True, weakref_slot=True)
class Transport:
    """Send requests for one provider configuration, with retries and typed errors.

    Attributes:
        provider: the provider name used in error messages.
        timeout: per-request timeouts.
        retry: the retry policy.
        http_client / http_async_client: user-injected clients; when None the
            shared pooled clients are used.
        secrets: this configuration's secrets (API key, URL password and its
            Basic-auth token): masked, with each call's private header values,
            in every error and log line (:meth:`guard`). Answers are never
            touched.
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
    _redactor: Redactor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._redactor = Redactor(self.secrets)

    def redactor(self, request: HTTPRequest) -> Redactor:
        """What masks one call's errors: this configuration's secrets and the call's."""
        return self._redactor.with_secrets(request.secrets)

    @contextlib.contextmanager
    def guard(
        self, request: HTTPRequest, exchange: Exchange, progress: Progress | None = None
    ) -> Iterator[None]:
        """Finish any of our errors leaving a call: request id, progress, secrets masked.

        Every call (non-stream, stream and its decoding) runs inside one, so no
        error can leave the package with a secret, whoever raised it. Once a
        bound of the call has passed, whatever broke because of it (a read
        interrupted by the watchdog, a stream cut short) is reported as the
        :class:`DeadlineExceededError` it is.
        """
        try:
            yield
        except ProviderError as caught:
            error = caught
            deadline = exchange.deadline
            if (
                deadline is not None
                and deadline.expired
                and not isinstance(error, DeadlineExceededError)
            ):
                error = self._deadline_error(exchange, deadline.expired)
            if error.request_id is None and exchange.request_id is not None:
                error.request_id = excerpt(exchange.request_id, REQUEST_ID_LIMIT)
            if progress is not None:
                if not error.partial_text:
                    error.partial_text = progress.text
                if isinstance(error, DeadlineExceededError):
                    error.chunks = progress.chunks
            self.redactor(request).exception(error)
            if error is caught:
                raise
        else:
            return
        raise error

    def _deadline_error(
        self, exchange: Exchange, bound: str, *, after: ProviderError | None = None
    ) -> DeadlineExceededError:
        seconds = (exchange.chunk_timeout if bound == CHUNK else exchange.total_timeout) or 0.0
        what = (
            f"no content arrived for {seconds:g} s"
            if bound == CHUNK
            else f"the call did not finish within {seconds:g} s"
        )
        last = f"; the last attempt failed with: {after.message}" if after is not None else ""
        return DeadlineExceededError(
            f"{self.provider}: {what} ({bound}={seconds:g}); the connection was closed{last}",
            provider=self.provider,
            bound=bound,
            seconds=seconds,
        )

    # ------------------------------------------------------------------ sync

    def post(self, request: HTTPRequest, exchange: Exchange | None = None) -> dict[str, Any]:
        """POST a JSON body and return the decoded JSON object, exactly as sent."""
        exchange = exchange or Exchange()
        with self.guard(request, exchange):
            exchange.start()
            response, body = self._send(request, exchange, stream=False)
            return self._decode_json(response, body)

    def stream_bytes(
        self, request: HTTPRequest, exchange: Exchange | None = None
    ) -> Iterator[bytes]:
        """POST and yield the body's bytes as they arrive (content-decoded, never rewritten).

        Leaving early closes the connection; leaving at the protocol's terminal
        record (``exchange.complete``) first reads what is already there of the
        rest, so the connection can be reused.
        """
        exchange = exchange or Exchange()
        with self.guard(request, exchange):
            deadline = exchange.start()
            response, _ = self._send(request, exchange, stream=True)
            reads = _reads(response)
            watch = self._watch(deadline, response)
            try:
                with self._reading():
                    yield from self._timed(reads, exchange)
            finally:
                if watch is not None:
                    watch.cancel()
                if exchange.complete:
                    _drain(reads, response)
                response.close()

    def _timed(self, reads: Iterator[bytes], exchange: Exchange) -> Iterator[bytes]:
        """The body's reads, each checked against the call's bounds."""
        deadline = exchange.deadline
        if deadline is None:
            yield from reads
            return
        while (bound := deadline.resume(_clock())) is None:
            try:
                chunk = next(reads)
            except StopIteration:
                return
            if (bound := deadline.pause(_clock())) is not None:
                break
            yield chunk
        raise self._deadline_error(exchange, bound)

    @staticmethod
    def _watch(deadline: Deadline | None, response: httpx.Response) -> Any:
        """The watchdog's watch over this response's reads (None if nothing to watch)."""
        if deadline is None:
            return None
        interrupt = socket_interrupt(response)
        return watchdog().watch(deadline, interrupt) if interrupt is not None else None

    def _send(
        self, request: HTTPRequest, exchange: Exchange, *, stream: bool
    ) -> tuple[httpx.Response, bytes]:
        """Send with retries until a 2xx response (and its body unless streaming)."""
        client = self.http_client or shared_client()
        built, auth = self._build(client, request)
        deadline = exchange.deadline
        attempt = redirects = 0
        while True:
            self._clamp(built, exchange)
            try:
                response = client.send(built, stream=True, auth=auth, follow_redirects=False)
                if response.is_success:
                    exchange.start_reading(response.headers, request)
                    if stream:
                        _started(deadline)
                        return response, b""
                    watch = self._watch(deadline, response)
                    try:
                        return response, b"".join(self._timed(_reads(response), exchange))
                    finally:
                        response.close()
                        if watch is not None:
                            watch.cancel()
                if response.is_redirect and _follows(client, redirects):
                    response.close()
                    built, auth = _redirected(built, auth, response, request)
                    redirects += 1
                    continue
                error = self._status_error(response, _read_excerpt(response), request)
                headers: Mapping[str, str] | None = response.headers
            except _READ_ERRORS as exc:
                error, headers = self._transport_error(exc, request), None
            delay = self._next_wait(attempt, error, headers, exchange)
            self._log_retry(attempt, delay, error, built, request)
            self.sleep(delay)
            attempt += 1

    # ------------------------------------------------------------------ async

    async def apost(self, request: HTTPRequest, exchange: Exchange | None = None) -> dict[str, Any]:
        """Async :meth:`post`."""
        exchange = exchange or Exchange()
        with self.guard(request, exchange):
            with self._alarm(exchange):
                response, body = await self._asend(request, exchange, stream=False)
            return self._decode_json(response, body)

    async def astream_bytes(
        self, request: HTTPRequest, exchange: Exchange | None = None
    ) -> AsyncIterator[bytes]:
        """Async :meth:`stream_bytes`."""
        exchange = exchange or Exchange()
        with self.guard(request, exchange), self._alarm(exchange) as alarm:
            response, _ = await self._asend(request, exchange, stream=True)
            reads = _areads(response)
            try:
                with self._reading():
                    if alarm is None:
                        async for chunk in reads:
                            yield chunk
                        return
                    deadline = alarm.deadline
                    # Each read timed and watched; inline, as this runs for every read.
                    while (bound := deadline.resume(_clock())) is None:
                        alarm.arm()
                        try:
                            chunk = await anext(reads)
                        except StopAsyncIteration:
                            return
                        if (bound := deadline.pause(_clock())) is not None:
                            break
                        yield chunk
                    raise self._deadline_error(exchange, bound)
            finally:
                if exchange.complete:
                    await _adrain(reads)
                await _aclose(response)

    @contextlib.contextmanager
    def _alarm(self, exchange: Exchange) -> Iterator[Alarm | None]:
        """Start the call's bounds and watch its waits; its own cancellation becomes the error."""
        deadline = exchange.start()
        alarm = Alarm(deadline) if deadline is not None else None
        try:
            if alarm is not None:
                alarm.arm()
            yield alarm
        except asyncio.CancelledError:
            if alarm is None or not alarm.expired():
                raise
            raise self._deadline_error(exchange, alarm.deadline.expired or TOTAL) from None
        finally:
            if alarm is not None:
                alarm.disarm()

    async def _asend(
        self, request: HTTPRequest, exchange: Exchange, *, stream: bool
    ) -> tuple[httpx.Response, bytes]:
        """Async :meth:`_send` (the call's alarm, armed by the caller, bounds it all)."""
        client = self.http_async_client or await shared_async_client()
        built, auth = self._build(client, request)
        attempt = redirects = 0
        while True:
            try:
                response = await client.send(built, stream=True, auth=auth, follow_redirects=False)
                if response.is_success:
                    exchange.start_reading(response.headers, request)
                    if stream:
                        _started(exchange.deadline)
                        return response, b""
                    return response, await _aread(response)
                if response.is_redirect and _follows(client, redirects):
                    await _aclose(response)
                    built, auth = _redirected(built, auth, response, request)
                    redirects += 1
                    continue
                error = self._status_error(response, await _aread_excerpt(response), request)
                headers: Mapping[str, str] | None = response.headers
            except _READ_ERRORS as exc:
                error, headers = self._transport_error(exc, request), None
            delay = self._next_wait(attempt, error, headers, exchange)
            self._log_retry(attempt, delay, error, built, request)
            await self.asleep(delay)
            attempt += 1

    # ------------------------------------------------------------------ shared logic

    def _build(
        self, client: httpx.Client | httpx.AsyncClient, request: HTTPRequest
    ) -> tuple[httpx.Request, Any]:
        """The request to send and its auth; URL userinfo travels as Basic auth."""
        body = _encode(request.body)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if client.headers.get("user-agent", "").startswith("python-httpx/"):
            headers["User-Agent"] = user_agent()  # a client's own User-Agent is kept
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

    def _clamp(self, built: httpx.Request, exchange: Exchange) -> None:
        """Bound each phase of the next attempt (connect, write, first byte) by ``total_timeout``.

        Before the response headers there is no socket to interrupt in a sync
        call, so the HTTP stack's own timeouts carry the bound.
        """
        deadline = exchange.deadline
        if deadline is None or deadline.total_at is None:
            return
        left = deadline.remaining(_clock()) or 0.0
        if left <= 0.0:
            deadline.expired = deadline.expired or TOTAL
            raise self._deadline_error(exchange, TOTAL)
        limits = self.timeout.as_dict()
        built.extensions["timeout"] = {
            phase: left if limit is None else min(limit, left) for phase, limit in limits.items()
        }
        deadline.clamped = any(limit is None or limit > left for limit in limits.values())

    def _next_wait(
        self,
        attempt: int,
        error: ProviderError,
        headers: Mapping[str, str] | None,
        exchange: Exchange,
    ) -> float:
        """Seconds to wait before retrying, or the error to raise instead.

        A call whose ``total_timeout`` passed, or would pass during the wait,
        ends now with the timeout error, naming the last failure.
        """
        delay = self._retry_delay(attempt, error, headers)
        deadline = exchange.deadline
        if deadline is not None and deadline.total_at is not None:
            left = deadline.remaining(_clock()) or 0.0
            timed_out = deadline.clamped and isinstance(error, APITimeoutError)
            if deadline.expired or timed_out or (delay is not None and delay >= left):
                deadline.expired = deadline.expired or TOTAL
                raise self._deadline_error(exchange, deadline.expired, after=error)
        if delay is None:
            raise error
        return delay

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
        self,
        attempt: int,
        delay: float,
        error: ProviderError,
        sent: httpx.Request,
        request: HTTPRequest,
    ) -> None:
        """One INFO line per retry, worded as the openai SDK words it, secrets masked."""
        if not logger.isEnabledFor(logging.INFO):
            return
        redactor = self.redactor(request)
        logger.info(
            "%s: retrying request to %s in %.2f s (retry %d of %d) after: %s",
            self.provider,
            redactor.text(redact_url(str(sent.url.copy_with(query=None)))),
            delay,
            attempt + 1,
            self.retry.max_retries,
            redactor.text(error.message),
        )

    def _status_error(
        self, response: httpx.Response, body: bytes, request: HTTPRequest
    ) -> ProviderError:
        """The typed error of a non-2xx answer (a redirect names where it points)."""
        raw = body.decode("utf-8", errors="replace")
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = None
        detail = provider_message(payload, raw)
        if response.is_redirect:
            detail = (
                f"redirected to {redact_url(response.headers['location'])}; redirects are "
                "not followed (credentials would go along): use the new address as base_url"
            )
        return self._redacted(
            error_for_status(
                provider=self.provider,
                status_code=response.status_code,
                detail=detail,
                request_id=request_id_of(response.headers, request.request_id_headers),
            ),
            request,
        )

    def _redacted(self, error: ProviderError, request: HTTPRequest) -> ProviderError:
        """``error`` masked now: it may be logged by a retry before any guard sees it."""
        self.redactor(request).exception(error)
        return error

    def _decode_json(self, response: httpx.Response, body: bytes) -> dict[str, Any]:
        try:
            payload = _json(body)
        except ValueError:
            payload = _NOT_JSON
        if isinstance(payload, dict):
            return payload
        text = body[: 2 * RAW_RECORD_LIMIT].decode("utf-8", errors="replace")
        what = "a non-JSON body" if payload is _NOT_JSON else "JSON that is not an object"
        raise MalformedRecordError(
            f"{self.provider} returned {what} with status {response.status_code}: {text[:200]!r}",
            provider=self.provider,
            status_code=response.status_code,
            raw_record=text,
        )

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn a failure while reading a started stream into our typed error."""
        try:
            yield
        except _READ_ERRORS as exc:
            raise self._mid_stream_error(exc) from None

    def _transport_error(
        self, exc: httpx.TransportError | httpx.DecodingError, request: HTTPRequest
    ) -> ProviderError:
        if isinstance(exc, httpx.DecodingError):
            return _undecodable(self.provider, exc)
        where = redact_url(str(httpx.URL(request.url).copy_with(query=None)))
        if isinstance(exc, httpx.LocalProtocolError):
            # We could not even write the request: sending it again cannot help. Its
            # text quotes the offending header value, which may be a credential.
            return InvalidRequestError(
                f"{self.provider}: the request to {where} could not be written "
                f"({type(exc).__name__}): check the header names and values of "
                "default_headers, extra_headers and the http_client",
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
        reason = str(exc) or type(exc).__name__
        return self._redacted(
            APIConnectionError(
                f"{self.provider}: cannot reach {where}: {reason}", provider=self.provider
            ),
            request,
        )

    def _mid_stream_error(self, exc: httpx.TransportError | httpx.DecodingError) -> ProviderError:
        if isinstance(exc, httpx.DecodingError):
            return _undecodable(self.provider, exc)
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(
                f"{self.provider}: the stream stalled longer than the read timeout",
                provider=self.provider,
            )
        reason = str(exc) or type(exc).__name__
        return IncompleteStreamError(
            f"{self.provider}: the connection broke mid-stream: {reason}",
            provider=self.provider,
        )


def _started(deadline: Deadline | None) -> None:
    if deadline is not None:
        deadline.start_stream(_clock())


# After a stream's terminal record, what is already there of the rest of the body
# is read (up to a few reads, for a moment) so the connection goes back to the pool,
# as the OpenAI SDK does; a server that holds the body open or keeps pinging costs
# that moment only, then the connection is closed.
_TAIL_GRACE: Final = 0.05
_TAIL_READS: Final = 16


def _drain(reads: Iterator[bytes], response: httpx.Response) -> None:
    interrupt = socket_interrupt(response)
    if interrupt is None:
        return
    watch = watchdog().watch(Deadline(None, _TAIL_GRACE), interrupt)
    try:
        for _ in zip(range(_TAIL_READS), reads, strict=False):
            pass
    except _READ_ERRORS:
        pass
    finally:
        watch.cancel()


async def _adrain(reads: AsyncIterator[bytes]) -> None:
    with contextlib.suppress(*_READ_ERRORS, TimeoutError):
        async with asyncio.timeout(_TAIL_GRACE):
            count = 0
            async for _ in reads:
                count += 1
                if count >= _TAIL_READS:
                    return


def _follows(client: httpx.Client | httpx.AsyncClient, redirects: int) -> bool:
    """Whether a redirect is followed: only with a client that follows them, up to its limit."""
    return client.follow_redirects and redirects < client.max_redirects


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


def _redirected(
    sent: httpx.Request, auth: Any, response: httpx.Response, request: HTTPRequest
) -> tuple[httpx.Request, Any]:
    """The request a redirect asks for, as httpx would build it, minus the credentials.

    Going to another origin (scheme, host, port), every private header (the
    provider's key header, the user's headers) and the URL's Basic auth are
    dropped: httpx itself strips only ``Authorization``, and FFM's key travels
    in ``X-API-KEY``.
    """
    url = sent.url.join(response.headers["location"])
    method, content = sent.method, sent.content
    headers = httpx.Headers(sent.headers)
    headers.pop("host", None)
    if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
        method, content = "GET", b""  # what browsers and httpx do
        for name in ("content-length", "content-type", "transfer-encoding"):
            headers.pop(name, None)
    if _origin(url) != _origin(sent.url):
        for name in (*request.private, "authorization", "x-api-key", "cookie"):
            headers.pop(name, None)
        auth = None
    rebuilt = httpx.Request(method, url, headers=headers, content=content)
    rebuilt.extensions = dict(sent.extensions)
    return rebuilt, auth


def _identity(response: httpx.Response) -> bool:
    """The body is not content-encoded: its raw bytes are the body (no decoder pass)."""
    return response.headers.get("content-encoding", "identity").strip().lower() in ("", "identity")


# One encoder for every request body (json.dumps builds a new one per call for these options).
_encode: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_NOT_JSON: Final = object()


def _json(body: bytes) -> Any:
    """``json.loads`` of a body, its decode error dropped (it would hold the whole text)."""
    try:
        return json.loads(body)
    except ValueError:
        pass
    raise ValueError("not JSON")


# Failures while reading a body: the connection (TransportError) or its
# Content-Encoding (DecodingError, which httpx does not count as transport).
_READ_ERRORS: Final = (httpx.TransportError, httpx.DecodingError)

# How much of an error answer is read: enough for any provider's message, and an
# error never holds (or waits for) a huge body.
_ERROR_BODY_LIMIT: Final = 64 * 1024


def _read(response: httpx.Response) -> bytes:
    """The whole body, and the connection released whatever happens."""
    try:
        return response.read()
    finally:
        response.close()


async def _aread(response: httpx.Response) -> bytes:
    """Async :func:`_read`."""
    try:
        return b"".join([chunk async for chunk in _areads(response)])
    finally:
        await _aclose(response)


def _reads(response: httpx.Response) -> Iterator[bytes]:
    """The body's reads: the raw stream when not content-encoded (no decoder pass)."""
    stream = response.stream
    if _identity(response) and isinstance(stream, httpx.SyncByteStream):
        return iter(stream)
    return response.iter_bytes()


def _areads(response: httpx.Response) -> AsyncIterator[bytes]:
    """Async :func:`_reads`.

    The raw stream is read directly rather than through ``aiter_raw``, which
    closes the response itself at the end of the body: a cancellation (a
    deadline, the caller's own) landing in that close would leave the pooled
    connection marked in use forever. Here the close is :func:`_aclose`'s.
    """
    stream = response.stream
    if _identity(response) and isinstance(stream, httpx.AsyncByteStream):
        return aiter(stream)
    return response.aiter_bytes()


async def _aclose(response: httpx.Response) -> None:
    """Close ``response`` (outside any of our deadlines' cancellations, see :func:`_areads`)."""
    await response.aclose()


def _read_excerpt(response: httpx.Response) -> bytes:
    """At most :data:`_ERROR_BODY_LIMIT` bytes of an error answer; the rest is not read."""
    pieces: list[bytes] = []
    size = 0
    try:
        for piece in response.iter_bytes():
            pieces.append(piece)
            size += len(piece)
            if size >= _ERROR_BODY_LIMIT:
                break
    finally:
        response.close()
    return b"".join(pieces)[:_ERROR_BODY_LIMIT]


async def _aread_excerpt(response: httpx.Response) -> bytes:
    """Async :func:`_read_excerpt`."""
    pieces: list[bytes] = []
    size = 0
    try:
        async for piece in response.aiter_bytes():
            pieces.append(piece)
            size += len(piece)
            if size >= _ERROR_BODY_LIMIT:
                break
    finally:
        await _aclose(response)
    return b"".join(pieces)[:_ERROR_BODY_LIMIT]


def _undecodable(provider: str, exc: httpx.DecodingError) -> ProviderError:
    """A body whose Content-Encoding does not decode (a broken proxy, a cut stream)."""
    return MalformedRecordError(
        f"{provider}: the response body could not be decoded: {exc}",
        provider=provider,
    )

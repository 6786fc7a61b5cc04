"""The seam between the HTTP server, the emulator state and the provider modules.

Provider modules (``_ffm.py`` today; Friendli and MonsterAPI later) declare their
:class:`Route` objects and implement :class:`Provider`; each request reaches a route handler
as an :class:`Exchange`, which gives it the request, the scripted queue and helpers that
apply the provider-neutral faults. Keeping this contract small is what lets a new provider
be added as one module.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ._faults import Fault
from ._fields import RequestError
from ._model import Reply

if TYPE_CHECKING:
    from ._server import HttpRequest, ResponseWriter

__all__ = ["DetailErrorBody", "Exchange", "Provider", "RecordedRequest", "Route", "Take"]


class Take(Protocol):
    """Dequeues the next scripted item for a route and request kind."""

    def __call__(self, route: str, *, stream: bool, replies: bool) -> Reply | Fault | None:
        """The first queued item for ``route`` that this request can use, or None."""
        ...


_DEFAULT_MESSAGES = {
    400: "Bad Request",
    401: "Invalid API key",
    403: "Forbidden: this API key is not entitled to the requested model",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
    429: "Rate limit exceeded: too many requests, please retry later",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable: the model is overloaded, please retry later",
    504: "Gateway Timeout",
}


def default_error_message(status: int) -> str:
    """A meaningful default error text for a status code.

    Args:
        status: The HTTP status code.

    Returns:
        A short human-readable message.
    """
    from ._server import reason_phrase

    return _DEFAULT_MESSAGES.get(status, reason_phrase(status))


def json_bytes(value: Any, *, compact: bool = False) -> bytes:
    """Serialise JSON the way Python servers do: UTF-8, non-ASCII kept.

    Args:
        value: A JSON-compatible value.
        compact: ``(",", ":")`` separators (FastAPI's ``JSONResponse``) instead of
            ``json.dumps``' default ``", "`` style.

    Returns:
        The encoded body.
    """
    separators = (",", ":") if compact else None
    return json.dumps(value, ensure_ascii=False, separators=separators).encode("utf-8")


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the emulator received it, for assertions in tests.

    Attributes:
        method: Upper-case HTTP method.
        path: The request path (no query string).
        route: The route name (e.g. ``"ffm.conversation"``); None for unknown paths.
        headers: Header names lower-cased.
        json: The parsed JSON body, or None when absent or not JSON.
        body: The raw body bytes.
        query: The raw query string.
    """

    method: str
    path: str
    route: str | None
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    body: bytes = b""
    query: str = ""


class Exchange:
    """One request being answered by a route handler.

    Attributes:
        request: The parsed HTTP request.
        recorded: Its entry in the request log.
        route: The route name.
        writer: Where the response goes.
        provider: The provider that owns the route.
    """

    def __init__(
        self,
        *,
        request: HttpRequest,
        recorded: RecordedRequest,
        route: str,
        writer: ResponseWriter,
        provider: Provider,
        take: Take,
        model_known: Callable[[Provider, str], bool] | None = None,
    ) -> None:
        """Bundle the request with the emulator hooks.

        Args:
            request: The parsed HTTP request.
            recorded: The request log entry.
            route: The route name.
            writer: The response writer.
            provider: The provider that owns the route.
            take: Dequeues the next scripted item for this route.
            model_known: Whether a provider serves a model id (None: every id).
        """
        self.request = request
        self.recorded = recorded
        self.route = route
        self.writer = writer
        self.provider = provider
        self._take = take
        self._model_known = model_known

    @property
    def json(self) -> Any:
        """The parsed JSON body (None when absent or invalid)."""
        return self.recorded.json

    def take(self, *, stream: bool, replies: bool = True) -> Reply | Fault | None:
        """Dequeue the next scripted item that applies to this request.

        Args:
            stream: Whether the request streams (stream-only faults are skipped if not).
            replies: Whether this route can use a :class:`Reply` (embeddings cannot).

        Returns:
            The item, or None when nothing applicable is queued.
        """
        return self._take(self.route, stream=stream, replies=replies)

    async def send_json(
        self, status: int, value: Any, headers: dict[str, str] | None = None
    ) -> None:
        """Send a JSON response (``application/json`` without charset, UTF-8 body).

        Args:
            status: HTTP status.
            value: The JSON value.
            headers: Extra headers.
        """
        body = json_bytes(value, compact=self.provider.compact_json)
        await self.writer.send(status, body, "application/json", headers)

    async def send_error(
        self, status: int, message: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Send an error in the provider's own error format.

        Args:
            status: HTTP status.
            message: The error text; a meaningful default for the status when None.
            headers: Extra headers.
        """
        body = self.provider.error_body(status, message or default_error_message(status))
        await self.send_json(status, body, headers)

    async def reject_unknown_model(self, model: str | None) -> bool:
        """Answer an unknown model id as the provider does.

        Args:
            model: The requested model (None when the route allows omitting it).

        Returns:
            True when the request has been answered with the provider's error.
        """
        if model is None or self._model_known is None or self._model_known(self.provider, model):
            return False
        status, body = self.provider.unknown_model(self.route, model)
        await self.send_json(status, body)
        return True

    async def send_request_error(self, error: RequestError) -> None:
        """The one error writer for invalid requests, shared by every route.

        Pydantic entries are sent as FastAPI does (``{"detail": [...]}``); a message goes
        into the provider's own error body.

        Args:
            error: The validation failure a field reader raised.
        """
        if isinstance(error.detail, list):
            await self.send_json(error.status, {"detail": error.detail})
            return
        await self.send_error(error.status, error.detail)

    async def apply_http_fault(self, item: Reply | Fault | None, *, stream: bool) -> bool:
        """Apply the HTTP-level part of a queued fault.

        ``status`` answers with the error, ``disconnect`` on a non-streaming request
        closes the connection, ``slow_first_byte`` waits (and the caller answers).

        Args:
            item: The dequeued item.
            stream: Whether the request streams.

        Returns:
            True when the request has been fully handled and the caller must stop.
        """
        if not isinstance(item, Fault):
            return False
        if item.kind == "status":
            if isinstance(item.body, str):
                await self.writer.send(
                    item.status_code,
                    item.body.encode("utf-8"),
                    "text/plain; charset=utf-8",
                    item.headers,
                )
            elif isinstance(item.body, dict):
                await self.send_json(item.status_code, item.body, item.headers)
            else:
                await self.send_error(item.status_code, None, item.headers)
            return True
        if item.kind == "slow_first_byte":
            await self.writer.pause(item.seconds)
            return False
        if item.kind == "disconnect" and not stream:
            await self.writer.drop()
            return True
        return False


Handler = Callable[[Exchange], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """An endpoint of an emulated provider.

    Attributes:
        method: HTTP method.
        path: Full path including the provider prefix.
        name: Route name used in the request log and in ``queue(route=...)``.
        handler: Answers the request.
    """

    method: str
    path: str
    name: str
    handler: Handler


class DetailErrorBody:
    """``Provider.error_body`` for FastAPI-style services: the text under ``detail``."""

    def error_body(self, status: int, message: str) -> Any:
        """FastAPI's error body: ``{"detail": message}`` (the status is not in the body).

        Args:
            status: The HTTP status (unused).
            message: The error text.

        Returns:
            ``{"detail": message}``.
        """
        del status
        return {"detail": message}


class Provider(Protocol):
    """What a provider module supplies to the emulator."""

    prefix: str
    #: The provider's name in :attr:`Emulator.known_models` (``"ffm"``...).
    name: str
    #: The documented model ids the provider serves.
    models: frozenset[str]
    #: Whether JSON bodies use compact separators (FastAPI's ``JSONResponse``).
    compact_json: bool

    def routes(self) -> list[Route]:
        """The provider's endpoints."""
        ...

    def error_body(self, status: int, message: str) -> Any:
        """The provider's JSON error body for a status and message."""
        ...

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """Whether the request headers carry the accepted API key."""
        ...

    def unknown_model(self, route: str, model: str) -> tuple[int, Any]:
        """The status and body the provider answers for a model id it does not serve."""
        ...

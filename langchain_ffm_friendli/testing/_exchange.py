"""The seam between the HTTP server, the emulator state and the provider packages.

Each provider is a package laid out as moto lays out a service, the same module for the
same role in every one (``_ffm``, ``_friendli``, ``_monsterapi``, and ``_openai_compatible``
for the chat API two of them share):

* ``routes``: the :class:`Provider` subclass (prefix, model ids, auth, error format), its
  URL -> handler table and the handlers, which glue the other three together;
* ``requests``: the request bodies, validated with the shared field readers and error
  writers of :mod:`._fields`;
* ``models``: the provider's model ids and model behaviour, on the shared scripted model
  of :mod:`._model`;
* ``responses``: JSON bodies and stream framing (:class:`~._faults.StreamScript`).

A handler meets each request as an :class:`Exchange`, which reads and refuses the body,
dequeues the scripted item, applies the provider-neutral faults and sends the answer.
Keeping this contract small is what lets a new provider be added as one package.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from ._faults import Fault, StreamScript, play_stream
from ._fields import BodyReader, RequestError
from ._model import Reply
from ._server import HttpRequest, ResponseWriter, reason_phrase

__all__ = [
    "Exchange",
    "Handler",
    "ParsedRequest",
    "Provider",
    "RecordedRequest",
    "Route",
    "ScriptedAnswer",
    "StreamableRequest",
    "Take",
    "json_bytes",
]


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


class ParsedRequest(Protocol):
    """A request a route has parsed: it names the model it asks for."""

    @property
    def model(self) -> str | None:
        """The requested model id; None when the route allows omitting it."""
        ...


class StreamableRequest(ParsedRequest, Protocol):
    """A parsed request of a generating route: it names its model and may stream."""

    @property
    def stream(self) -> bool:
        """Whether the answer streams."""
        ...


R = TypeVar("R", bound=ParsedRequest)
G = TypeVar("G", bound=StreamableRequest)


@dataclass(frozen=True)
class ScriptedAnswer:
    """What the queue scripted for one answer.

    Attributes:
        reply: The reply to give instead of the default model's (a fault's own
            ``reply`` included); None for the default model.
        fault: The stream fault to apply while streaming, None for none.
    """

    reply: Reply | None
    fault: Fault | None


@dataclass(frozen=True)
class Exchange:
    """One request being answered by a route handler.

    A handler reads the request with :meth:`accept`, takes its scripted part with
    :meth:`dequeue` (both at once: :meth:`admit`) and answers with :meth:`send_json` or
    :meth:`send_stream`; each of these answers the request itself when it cannot go on
    (an invalid body, an unknown model, an HTTP-level fault).

    Attributes:
        request: The parsed HTTP request.
        recorded: Its entry in the request log.
        route: The route name.
        writer: Where the response goes.
        provider: The provider that owns the route.
        take: Dequeues the next scripted item for a route.
        model_known: Whether a provider serves a model id (None: every id).
    """

    request: HttpRequest
    recorded: RecordedRequest
    route: str
    writer: ResponseWriter
    provider: Provider
    take: Take
    model_known: Callable[[Provider, str], bool] | None = None

    @property
    def json(self) -> Any:
        """The parsed JSON body (None when absent or invalid)."""
        return self.recorded.json

    async def accept(
        self,
        read_body: BodyReader,
        parse: Callable[[Mapping[str, Any]], R],
        *,
        check_model: bool = True,
    ) -> R | None:
        """The request as ``parse`` reads its body, or None once it has been refused.

        The checks run in the servers' order: a body that is not a JSON object, then
        the fields (``parse`` raises :class:`RequestError`), then an unknown model id.

        Args:
            read_body: Reads the JSON object body in the route's error style.
            parse: Validates the fields into the route's request.
            check_model: Whether an unknown model id gets the provider's error (False
                where ``model`` names a user's own endpoint or adapter).

        Returns:
            The parsed request, or None when an error response has been sent.
        """
        try:
            request = parse(read_body(self.json, self.request.body))
        except RequestError as exc:
            await self.send_request_error(exc)
            return None
        if check_model and await self._reject_unknown_model(request.model):
            return None
        return request

    async def admit(
        self,
        read_body: BodyReader,
        parse: Callable[[Mapping[str, Any]], G],
        *,
        check_model: bool = True,
    ) -> tuple[G, ScriptedAnswer] | None:
        """A generating request and its scripted answer, or None once it has been answered.

        :meth:`accept`, then :meth:`dequeue` for the request's kind (streaming or not).

        Args:
            read_body: Reads the JSON object body in the route's error style.
            parse: Validates the fields into the route's request.
            check_model: Whether an unknown model id gets the provider's error.

        Returns:
            The request and what the queue scripted for it, or None when an error or
            an HTTP-level fault has answered.
        """
        request = await self.accept(read_body, parse, check_model=check_model)
        if request is None:
            return None
        scripted = await self.dequeue(stream=request.stream)
        return None if scripted is None else (request, scripted)

    async def dequeue(self, *, stream: bool, replies: bool = True) -> ScriptedAnswer | None:
        """Take the next scripted item that applies to this request, and its HTTP part.

        Args:
            stream: Whether the request streams (stream-only faults are skipped if not).
            replies: Whether this route can use a :class:`Reply` (embeddings cannot).

        Returns:
            The reply and stream fault to answer with, or None when an HTTP-level
            fault has answered the request.
        """
        item = self.take(self.route, stream=stream, replies=replies)
        if await self._apply_http_fault(item, stream=stream):
            return None
        if isinstance(item, Fault):
            return ScriptedAnswer(reply=item.reply, fault=item)
        return ScriptedAnswer(reply=item, fault=None)

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

    async def send_stream(self, script: StreamScript, fault: Fault | None) -> None:
        """Send a 200 chunked stream, applying a stream fault if there is one.

        Args:
            script: The framed stream, with its content type and headers.
            fault: The fault to apply, or None.
        """
        await self.writer.start_stream(200, script.content_type, script.headers)
        await play_stream(script, self.writer, fault)

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

    async def _reject_unknown_model(self, model: str | None) -> bool:
        """Answer an unknown model id as the provider does; True when answered."""
        if model is None or self.model_known is None or self.model_known(self.provider, model):
            return False
        status, body = self.provider.unknown_model(self.route, model)
        await self.send_json(status, body)
        return True

    async def _apply_http_fault(self, item: Reply | Fault | None, *, stream: bool) -> bool:
        """Apply the HTTP-level part of a queued fault; True when the request is answered.

        ``status`` answers with the error, ``disconnect`` on a non-streaming request
        closes the connection, ``slow_first_byte`` waits (and the caller answers).
        """
        if not isinstance(item, Fault):
            return False
        if item.kind == "status":
            await self._send_status_fault(item)
            return True
        if item.kind == "slow_first_byte":
            await self.writer.pause(item.seconds)
            return False
        if item.kind == "disconnect" and not stream:
            await self.writer.drop()
            return True
        return False

    async def _send_status_fault(self, fault: Fault) -> None:
        """The error response of a ``status`` fault: its text, its JSON or the default."""
        if isinstance(fault.body, str):
            body = fault.body.encode("utf-8")
            await self.writer.send(
                fault.status_code, body, "text/plain; charset=utf-8", fault.headers
            )
        elif isinstance(fault.body, dict):
            await self.send_json(fault.status_code, fault.body, fault.headers)
        else:
            await self.send_error(fault.status_code, None, fault.headers)


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


class Provider(abc.ABC):
    """An emulated provider: its prefix, model ids, routes, auth and error format.

    Each provider package subclasses it in its ``routes`` module, declaring what it
    is in the class statement, e.g. ``class FFMProvider(Provider, name="ffm",
    prefix="/ffm/api", models=MODELS, key_header="x-api-key")``. The defaults are a
    FastAPI service's: ``{"detail": message}`` errors, JSON with ``json.dumps``' spacing,
    and the key as ``Authorization: Bearer <key>``.

    Attributes:
        name: The provider's name in :attr:`Emulator.known_models` (``"ffm"``...).
        prefix: The path every route of the provider starts with.
        models: The documented model ids the provider serves.
        compact_json: Whether JSON bodies use compact separators (FastAPI's
            ``JSONResponse`` as MonsterAPI sends it).
        key_header: The request header that carries the API key.
        key_format: Its value, with ``{key}`` for the key.
    """

    name: ClassVar[str]
    prefix: ClassVar[str]
    models: ClassVar[frozenset[str]]
    compact_json: ClassVar[bool]
    key_header: ClassVar[str]
    key_format: ClassVar[str]

    def __init_subclass__(
        cls,
        *,
        name: str,
        prefix: str,
        models: frozenset[str],
        compact_json: bool = False,
        key_header: str = "authorization",
        key_format: str = "Bearer {key}",
    ) -> None:
        """Declare what a provider is (see the class attributes)."""
        super().__init_subclass__()
        cls.name, cls.prefix, cls.models = name, prefix, models
        cls.compact_json = compact_json
        cls.key_header, cls.key_format = key_header, key_format

    @abc.abstractmethod
    def routes(self) -> list[Route]:
        """The provider's endpoints.

        Returns:
            The routes, each path under :attr:`prefix`.
        """

    def error_body(self, status: int, message: str) -> Any:
        """The provider's JSON error body: FastAPI's ``{"detail": message}``.

        Args:
            status: The HTTP status (not in FastAPI's body).
            message: The error text.

        Returns:
            The body.
        """
        del status
        return {"detail": message}

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """Whether the request carries the accepted key in :attr:`key_header`.

        Args:
            headers: Request headers (lower-case names).
            api_key: The key the emulator accepts.

        Returns:
            Whether the header's value is :attr:`key_format` with the key.
        """
        return headers.get(self.key_header) == self.key_format.format(key=api_key)

    @abc.abstractmethod
    def unknown_model(self, route: str, model: str) -> tuple[int, Any]:
        """The status and body the provider answers for a model id it does not serve.

        Args:
            route: The route name.
            model: The unknown model id.

        Returns:
            The status and the JSON body.
        """

"""The :class:`Emulator`: server lifecycle, scripted queue, request log and routing.

It ties the HTTP machinery (``_server``) to the provider packages (``_ffm``...) and owns
the state tests interact with. All state is guarded by one lock because tests touch it
from their own thread (or event loop) while the server thread answers requests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from ._control import CONTROL_PREFIX, ControlAPI
from ._exchange import Exchange, Provider, RecordedRequest, Route, json_bytes
from ._face import EmulatorFace, Scripted, check_items
from ._faults import Fault
from ._ffm import FFMProvider
from ._friendli import FriendliProvider
from ._model import Reply
from ._monsterapi import MonsterAPIProvider
from ._server import HttpRequest, HttpServer, ResponseWriter

__all__ = ["Emulator"]


@dataclass(frozen=True)
class _Queued:
    """A scripted item and the route it is reserved for (None: any route)."""

    item: Reply | Fault
    route: str | None


class Emulator(EmulatorFace):
    """A local server speaking the providers' native wire protocols, for tests.

    Use it as a context manager (sync or async) or with :meth:`start` / :meth:`stop`.
    The server runs in a daemon thread with its own event loop, so it serves sync
    clients and async clients (on any loop) alike.

    The same port serves the control API under ``/_emulator/`` (queue, requests,
    reset, pending: see :class:`EmulatorClient`), so an app under test in another
    process or language can be scripted exactly like this object. It needs no key:
    the emulator is a test tool and binds loopback unless told otherwise.

    Example:
        .. code-block:: python

            with Emulator() as emu:
                emu.queue(Fault.status(429, retry_after="1"), Reply(text="ok"))
                # point a client at emu.ffm_base_url with api key emu.api_key
    """

    def __init__(
        self,
        api_key: str = "emulator-key",
        latency: float = 0.0,
        *,
        models: Iterable[str] = (),
        accept_unknown_models: bool = False,
        strict: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Create a stopped emulator.

        Args:
            api_key: The API key the emulator accepts.
            latency: Simulated service time, in seconds, before every answer
                (a real model takes time; benchmarks of concurrency need it).
            models: Model ids to accept on every provider besides the documented ones
                (:attr:`known_models`); e.g. a fine-tune or a model released later.
            accept_unknown_models: Accept any model id instead of answering an unknown
                one as the provider does (FFM 404 ``{"detail": "Not Found"}``, Friendli
                404 ``Model '<id>' not found.``, MonsterAPI 422 / vLLM's 404).
            strict: Fail the test when queued replies or faults were never used: leaving
                the ``with`` block (without an exception) calls
                :meth:`assert_all_consumed`.
            host: Interface to bind (loopback by default).
            port: Port to bind; 0 picks a free one.
        """
        self.api_key = api_key
        self.latency = latency
        self.strict = strict
        self.accept_unknown_models = accept_unknown_models
        self._extra_models = frozenset(models)
        self._providers: list[Provider] = [FFMProvider(), FriendliProvider(), MonsterAPIProvider()]
        self._routes: dict[str, dict[str, tuple[Route, Provider]]] = {}
        for provider in self._providers:
            for route in provider.routes():
                self._routes.setdefault(route.path, {})[route.method] = (route, provider)
        self._lock = threading.Lock()
        self._queue: list[_Queued] = []
        self._requests: list[RecordedRequest] = []
        self._host = host
        self._control = ControlAPI(self)
        self._server = HttpServer(self._handle, host=host, port=port)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Start serving (idempotent); returns once the port is bound.

        Returns:
            The emulator itself.
        """
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (idempotent)."""
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if self.strict and exc_type is None:
            self.assert_all_consumed()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server.running

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:PORT``.

        Raises:
            RuntimeError: If the emulator is not started.
        """
        if not self._server.running:
            raise RuntimeError("the emulator is not started; use start() or `with`")
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host  # noqa: S104
        return f"http://{host}:{self._server.port}"

    # ----------------------------------------------------------- scripting & log

    def queue(self, *items: Reply | Fault, route: str | None = None) -> None:
        """Script the next answers; items are consumed first in, first out.

        Args:
            *items: Replies and faults, in the order requests should get them.
            route: Reserve them for one route (e.g. ``"ffm.conversation"``; see
                :attr:`route_names`); None lets any route take them.

        Raises:
            TypeError: If an item is neither a Reply nor a Fault.
            ValueError: If ``route`` is not a route this emulator serves (items
                reserved for it would never be used).
        """
        check_items(items)
        if route is not None and route not in self.route_names:
            known = ", ".join(sorted(self.route_names))
            raise ValueError(f"route: unknown route {route!r}; known: {known}")
        with self._lock:
            self._queue.extend(_Queued(item, route) for item in items)

    @property
    def route_names(self) -> frozenset[str]:
        """The names ``queue(route=...)`` takes, e.g. ``"ffm.conversation"``."""
        return frozenset(
            route.name for methods in self._routes.values() for route, _ in methods.values()
        )

    @property
    def pending(self) -> int:
        """How many queued items have not been consumed yet."""
        with self._lock:
            return len(self._queue)

    @property
    def queued(self) -> list[Scripted]:
        """The items not consumed yet, each with the route it is reserved for."""
        with self._lock:
            return [(q.item, q.route) for q in self._queue]

    @property
    def known_models(self) -> dict[str, list[str]]:
        """The model ids each provider accepts: its documented ids plus ``models=``.

        Friendli's dedicated and container routes take any endpoint id or adapter
        route, as the real products do.
        """
        return {
            provider.name: sorted(provider.models | self._extra_models)
            for provider in self._providers
        }

    def _model_known(self, provider: Provider, model: str) -> bool:
        """Whether a provider answers for this model id."""
        return self.accept_unknown_models or model in provider.models or model in self._extra_models

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received since the last :meth:`reset`."""
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Clear the queue and the request log."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    @property
    def active_connections(self) -> int:
        """The number of client TCP connections currently open (for leak tests)."""
        return self._server.active_connections

    def wait_for_connections(self, count: int = 0, timeout: float = 5.0) -> bool:
        """Wait until exactly ``count`` connections are open.

        Closing a client is asynchronous from the server's point of view, so leak
        tests should wait rather than read :attr:`active_connections` once.

        Args:
            count: The expected number of open connections.
            timeout: Maximum seconds to wait.

        Returns:
            Whether the count was reached in time.
        """
        deadline = time.monotonic() + timeout
        while self._server.active_connections != count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def _take(self, route: str, *, stream: bool, replies: bool) -> Reply | Fault | None:
        """Dequeue the first item that applies to this route and request kind."""
        with self._lock:
            for index, queued in enumerate(self._queue):
                if queued.route is not None and queued.route != route:
                    continue
                item = queued.item
                if isinstance(item, Fault) and item.stream_only and not stream:
                    continue
                if isinstance(item, Reply) and not replies:
                    continue
                del self._queue[index]
                return item
        return None

    # ------------------------------------------------------------------ routing

    def _record(self, request: HttpRequest, route: str | None) -> RecordedRequest:
        """Log a request and return its record."""
        parsed: Any = None
        if request.body:
            try:
                parsed = json.loads(request.body)
            except ValueError:
                parsed = None
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            route=route,
            headers=dict(request.headers),
            json=parsed,
            body=request.body,
            query=request.query,
        )
        with self._lock:
            self._requests.append(recorded)
        return recorded

    def _provider_for(self, path: str) -> Provider | None:
        """The provider whose prefix owns a path."""
        for provider in self._providers:
            if path == provider.prefix or path.startswith(provider.prefix + "/"):
                return provider
        return None

    async def _handle(self, request: HttpRequest, writer: ResponseWriter) -> None:
        """Route a request: control API, 404/405, auth (401), then the route handler."""
        if request.path.startswith(CONTROL_PREFIX + "/"):
            await self._control.handle(request, writer)
            return
        methods = self._routes.get(request.path)
        entry = methods.get(request.method) if methods else None
        recorded = self._record(request, entry[0].name if entry else None)
        if entry is None:
            provider = self._provider_for(request.path)
            status = 405 if methods else 404
            message = "Method Not Allowed" if methods else "Not Found"
            body = provider.error_body(status, message) if provider else {"detail": message}
            headers = {"allow": ", ".join(sorted(methods))} if methods else None
            await writer.send(status, json_bytes(body), "application/json", headers)
            return
        route, provider = entry
        exchange = Exchange(
            request=request,
            recorded=recorded,
            route=route.name,
            writer=writer,
            provider=provider,
            take=self._take,
            model_known=self._model_known,
        )
        if not provider.authenticate(request.headers, self.api_key):
            await exchange.send_error(401, "Invalid API key")
            return
        if self.latency > 0:
            await writer.pause(self.latency)
        await route.handler(exchange)

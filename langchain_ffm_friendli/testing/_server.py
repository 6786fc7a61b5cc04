"""A small HTTP/1.1 server on asyncio, run in a daemon thread.

The emulator needs real sockets (so clients exercise their whole stack) but no
dependencies, precise control over every byte and every write (to split records across
network chunks, stall, or drop a connection mid-stream), and hundreds of concurrent
connections. A minimal parser on ``asyncio.start_server`` gives all of that: request line,
headers, a ``Content-Length`` or chunked body, keep-alive; responses with
``Content-Length`` or ``Transfer-Encoding: chunked``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

__all__ = ["HttpRequest", "HttpServer", "ResponseWriter", "reason_phrase"]

logger = logging.getLogger(__name__)

Handler = Callable[["HttpRequest", "ResponseWriter"], Awaitable[None]]

_MAX_HEADER_BYTES = 1 << 20
# How often a pause looks whether the client has gone (seconds).
_PEER_CHECK = 0.05


def reason_phrase(status: int) -> str:
    """The standard reason phrase of an HTTP status code.

    Args:
        status: The status code.

    Returns:
        E.g. ``"Too Many Requests"``; ``"Unknown"`` for unregistered codes.
    """
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass(frozen=True)
class HttpRequest:
    """A parsed HTTP request.

    Attributes:
        method: Upper-case method.
        target: The raw request target (path and query).
        path: The decoded path, without the query.
        query: The raw query string (without ``?``).
        headers: Header names lower-cased; repeated headers joined with ``", "``.
        body: The request body.
        http_version: ``"HTTP/1.1"`` or ``"HTTP/1.0"``.
    """

    method: str
    target: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    http_version: str = "HTTP/1.1"

    @property
    def keep_alive(self) -> bool:
        """Whether the client allows the connection to be reused after this request."""
        connection = self.headers.get("connection", "").lower()
        if self.http_version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class _BadRequestError(Exception):
    """The bytes on the connection are not a valid HTTP/1.x request."""


class ResponseWriter:
    """Writes one response on a connection: whole, chunked, or not at all.

    Handlers call exactly one of :meth:`send` or :meth:`start_stream` (followed by
    :meth:`write` calls and :meth:`finish` or :meth:`abort`), or :meth:`drop` to close
    the connection without answering.
    """

    def __init__(
        self,
        writer: asyncio.StreamWriter,
        *,
        keep_alive: bool,
        reader: asyncio.StreamReader | None = None,
    ) -> None:
        """Wrap the connection's stream writer.

        Args:
            writer: The connection.
            keep_alive: Whether the connection may be reused after this response.
            reader: The connection's reader, which sees the client's close while
                the server waits (see :meth:`pause`).
        """
        self._writer = writer
        self._reader = reader
        self.keep_alive = keep_alive
        self.started = False
        self.finished = False
        self.closed = False

    def _head(
        self, status: int, headers: list[tuple[str, str]], extra: dict[str, str] | None
    ) -> bytes:
        """Serialise the status line and headers."""
        names = {name.lower() for name, _ in headers}
        lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
        base = [("date", formatdate(usegmt=True)), ("server", "uvicorn")]
        for name, value in base + headers:
            if extra and name.lower() in {k.lower() for k in extra}:
                continue
            lines.append(f"{name}: {value}")
        for name, value in (extra or {}).items():
            lines.append(f"{name}: {value}")
            names.add(name.lower())
        if not self.keep_alive and "connection" not in names:
            lines.append("connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Send a complete response with ``Content-Length``.

        Args:
            status: HTTP status code.
            body: The body bytes.
            content_type: The ``content-type`` header value.
            headers: Extra headers (they override defaults of the same name).
        """
        self.started = True
        head = self._head(
            status,
            [("content-length", str(len(body))), ("content-type", content_type)],
            headers,
        )
        self._writer.write(head + body)
        await self._writer.drain()
        self.finished = True

    async def start_stream(
        self, status: int, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        """Send the head of a ``Transfer-Encoding: chunked`` response.

        Args:
            status: HTTP status code.
            content_type: The ``content-type`` header value.
            headers: Extra headers.
        """
        self.started = True
        head = self._head(
            status,
            [("content-type", content_type), ("transfer-encoding", "chunked")],
            headers,
        )
        self._writer.write(head)
        await self._writer.drain()

    async def write(self, data: bytes) -> None:
        """Send one chunk of a chunked response (one socket write).

        Args:
            data: The chunk payload; empty data is skipped (it would end the body).
        """
        if not data:
            return
        self._writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        await self._writer.drain()

    async def finish(self) -> None:
        """End a chunked response cleanly (zero-length terminator chunk)."""
        self._writer.write(b"0\r\n\r\n")
        await self._writer.drain()
        self.finished = True

    async def abort(self) -> None:
        """Close the connection mid-response: no terminator, no further bytes."""
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()
        self._writer.close()
        self.closed = True

    @property
    def client_gone(self) -> bool:
        """Whether the client has closed (or reset) the connection."""
        if self._writer.is_closing():
            return True
        return self._reader is not None and self._reader.at_eof()

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` before the next write, unless the client leaves first.

        A server that only notices a closed connection at its next write would keep
        it (and the connection count) alive through a whole stall; a real server
        sees the close at once, and so do tests of clients that cancel.

        Args:
            seconds: How long to wait.

        Raises:
            ConnectionResetError: When the client closes the connection meanwhile.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if self.client_gone:
                raise ConnectionResetError("the client closed the connection")
            left = deadline - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, _PEER_CHECK))

    async def drop(self) -> None:
        """Close the connection without sending any response."""
        self._writer.close()
        self.closed = True


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """Read one request from the connection; None on a clean EOF between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise _BadRequestError("incomplete request head") from exc
    except asyncio.LimitOverrunError as exc:
        raise _BadRequestError("request head too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    while lines and not lines[0]:
        lines.pop(0)  # tolerate stray CRLF between requests
    if not lines:
        return None
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequestError("bad request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _BadRequestError("bad header line")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise _BadRequestError("bad content-length") from exc
        if length < 0:
            raise _BadRequestError("bad content-length")
        body = await reader.readexactly(length) if length else b""
    path, _, query = target.partition("?")
    return HttpRequest(
        method=method.upper(),
        target=target,
        path=unquote(path),
        query=query,
        headers=headers,
        body=body,
        http_version=version,
    )


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """Read a chunked request body (trailers are discarded)."""
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError as exc:
            raise _BadRequestError("bad chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


class HttpServer:
    """An HTTP/1.1 server on 127.0.0.1 with its own event loop in a daemon thread.

    The loop lives in a background thread so the server works the same under sync
    tests and under async tests that run their own event loop.
    """

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Configure the server; nothing is bound until :meth:`start`.

        Args:
            handler: Called for every request with the request and a response writer.
            host: Interface to bind.
            port: Port to bind; 0 picks a free one.
        """
        self._handler = handler
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._active = 0
        self._counter_lock = threading.Lock()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The bound port (0 before :meth:`start`)."""
        return self._port

    @property
    def active_connections(self) -> int:
        """The number of client connections currently open."""
        return self._active

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The server's event loop (only while running)."""
        if self._loop is None:
            raise RuntimeError("the server is not running")
        return self._loop

    def start(self, timeout: float = 10.0) -> None:
        """Bind the socket and start serving in a daemon thread; returns when ready.

        Args:
            timeout: How long to wait for the thread to report readiness.

        Raises:
            RuntimeError: If the server did not come up.
        """
        if self.running:
            return
        ready = threading.Event()
        self._error = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="langchain-emulator", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout) or self._error is not None:
            raise RuntimeError(f"emulator failed to start: {self._error!r}")

    def _run(self, ready: threading.Event) -> None:
        """Thread body: bind, signal readiness, serve until stopped."""
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(
                    self._on_connection,
                    self._host,
                    self._port,
                    backlog=4096,
                    limit=_MAX_HEADER_BYTES,
                    reuse_address=True,
                )
            )
            self._port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # reported to start()
            self._error = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _shutdown(self) -> None:
        """Stop accepting, cancel every connection task and wait for them."""
        if self._server is not None:
            self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, close every connection and join the thread.

        Args:
            timeout: How long to wait for the thread.
        """
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        self._thread = None
        self._loop = None
        self._server = None

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Serve requests on one connection until it closes (keep-alive loop)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        with self._counter_lock:
            self._active += 1
        try:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            # Cancellation only comes from shutdown; ending the task normally keeps
            # asyncio's stream callback from logging the cancelled task as an error.
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            with self._counter_lock:
                self._active -= 1
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The keep-alive loop: read a request, let the handler answer, repeat."""
        while True:
            try:
                request = await _read_request(reader)
            except _BadRequestError as exc:
                response = ResponseWriter(writer, keep_alive=False)
                body = f"Bad Request: {exc}".encode()
                await response.send(400, body, "text/plain; charset=utf-8")
                return
            if request is None:
                return
            response = ResponseWriter(writer, keep_alive=request.keep_alive, reader=reader)
            try:
                await self._handler(request, response)
            except (ConnectionError, asyncio.CancelledError):
                raise
            except Exception:
                logger.exception("emulator handler failed")
                if not response.started:
                    response.keep_alive = False
                    await response.send(
                        500, b'{"detail":"Internal Server Error"}', "application/json"
                    )
                return
            if response.closed or not response.finished or not response.keep_alive:
                return

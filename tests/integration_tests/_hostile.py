"""Servers that misbehave the way real middle boxes do, for transport tests.

``RawServer`` answers each connection with canned bytes (an HTML error page with
status 200, an empty body, a body cut short, a corrupt gzip stream, a server
that never answers). ``ScriptServer`` plays a script per connection (a chunked
stream written step by step, then held open, pinged or reset). ``Gateway`` sits
in front of the emulator as a reverse proxy does: it may re-encode every
response with a Content-Encoding (flushing per chunk so that streams stay
streams), add response headers (a request id), or answer with a redirect.
"""

from __future__ import annotations

import abc
import contextlib
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import httpx


def _read_request(conn: socket.socket) -> bytes:
    """The head of the request on ``conn`` (its body is read and dropped)."""
    return _read_whole_request(conn)[0]


def _read_whole_request(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return data, b""
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        piece = conn.recv(65536)
        if not piece:
            break
        body += piece
    return head, body


class _LoopbackServer(abc.ABC):
    """A server thread on a loopback port, started and stopped by ``with``."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _connections(self, timeout: float) -> Iterator[socket.socket]:
        """Each accepted connection (with ``timeout`` set) until the server stops."""
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(timeout)
            yield conn

    @abc.abstractmethod
    def _serve(self) -> None:
        """Answer connections until the server stops (runs on the server thread)."""


class RawServer(_LoopbackServer):
    """Answers the n-th connection with ``responses[n]`` (the last one repeats).

    A response of None accepts the request and never answers (for timeouts).
    """

    def __init__(self, *responses: bytes | None) -> None:
        self.responses = list(responses)
        self.requests = 0
        super().__init__()

    def _serve(self) -> None:
        held: list[socket.socket] = []
        for conn in self._connections(timeout=5):
            _read_request(conn)
            response = self.responses[min(self.requests, len(self.responses) - 1)]
            self.requests += 1
            if response is None:
                held.append(conn)
                continue
            with contextlib.suppress(OSError):  # the client may stop reading (a huge body)
                conn.sendall(response)
            conn.close()
        for conn in held:
            conn.close()


def http_response(
    body: bytes,
    *,
    status: str = "200 OK",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    content_length: int | None = None,
) -> bytes:
    """A whole HTTP/1.1 response; ``content_length`` may lie (a body cut short)."""
    lines = [
        f"HTTP/1.1 {status}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body) if content_length is None else content_length}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --------------------------------------------------------------------------- scripts


class Conn:
    """One accepted connection of a :class:`ScriptServer`, with the writes a script needs."""

    def __init__(self, sock: socket.socket, head: bytes, body: bytes = b"") -> None:
        self.sock = sock
        self.head = head
        self.body = body

    def start(self, content_type: str = "text/event-stream", **headers: str) -> None:
        """Status 200 and a chunked body of ``content_type``."""
        lines = [
            "HTTP/1.1 200 OK",
            f"Content-Type: {content_type}",
            "Transfer-Encoding: chunked",
            *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items()),
        ]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data: bytes) -> None:
        """One chunk of the body (sent at once)."""
        if data:
            self.sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def end(self) -> None:
        """The end of the chunked body."""
        self.sock.sendall(b"0\r\n\r\n")

    def reset(self) -> None:
        """Close with a TCP reset (as a crashed proxy does)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def wait_for_client_close(self, timeout: float) -> bool:
        """Hold the connection open until the client closes it (True) or ``timeout`` passes."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(65536):
                pass
        except (TimeoutError, OSError):
            return False
        return True


class ScriptServer(_LoopbackServer):
    """Plays ``script(conn)`` for every connection, each in its own thread.

    ``closed_by_client`` records, per connection, when the client closed it
    (scripts that call :meth:`Conn.wait_for_client_close`).
    """

    def __init__(self, script: Callable[[Conn], None]) -> None:
        self.script = script
        self.heads: list[bytes] = []
        self.closed_by_client: list[float] = []
        super().__init__()

    def _serve(self) -> None:
        for conn in self._connections(timeout=30):
            threading.Thread(target=self._play, args=(conn,), daemon=True).start()

    def _play(self, sock: socket.socket) -> None:
        head, body = _read_whole_request(sock)
        self.heads.append(head)
        conn = Conn(sock, head, body)
        try:
            self.script(conn)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()


# --------------------------------------------------------------------------- compression


def compressor(encoding: str | None) -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
    """A streaming encoder for ``encoding``: (encode and flush a chunk, end the stream)."""
    if encoding is None:
        return (lambda chunk: chunk), (lambda: b"")
    if encoding in ("gzip", "deflate"):
        z = zlib.compressobj(wbits=31 if encoding == "gzip" else 15)
        return (lambda chunk: z.compress(chunk) + z.flush(zlib.Z_SYNC_FLUSH)), z.flush
    if encoding == "zstd":
        import zstandard

        zc = zstandard.ZstdCompressor().compressobj()
        return (
            lambda chunk: zc.compress(chunk) + zc.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        ), zc.flush
    if encoding == "br":
        import brotli

        br = brotli.Compressor()
        return (lambda chunk: br.process(chunk) + br.flush()), br.finish
    raise AssertionError(encoding)


def advertised_encodings() -> list[str]:
    """The content codings httpx offers in Accept-Encoding (so we must decode them)."""
    offered = httpx.Client().headers["accept-encoding"]
    return [e.strip() for e in offered.split(",") if e.strip() and e.strip() != "identity"]


class Gateway:
    """A reverse proxy to ``upstream``, as gateways in front of providers are.

    Args:
        upstream: where requests go (the emulator's URL).
        encoding: re-encode every response with this Content-Encoding, flushed
            per chunk so that streams stay streams.
        add_headers: response headers to add, computed from the request's headers
            (a request id; a broken gateway echoing a credential).
        redirect: given the request path, the status and ``Location`` to answer
            with instead of proxying (``(307, "http://elsewhere/...")``), or None.
        tls: serve HTTPS with this server context (a private CA's certificate).
    """

    def __init__(
        self,
        upstream: str,
        encoding: str | None = None,
        *,
        add_headers: Callable[[Mapping[str, str]], dict[str, str]] | None = None,
        redirect: Callable[[str], tuple[int, str] | None] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.upstream = upstream
        self.encoding = encoding
        self.encoded = 0
        self.seen: list[dict[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.seen.append({k.lower(): v for k, v in self.headers.items()})
                moved = redirect(self.path) if redirect is not None else None
                if moved is not None:
                    self.send_response(moved[0])
                    self.send_header("Location", moved[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "accept-encoding")
                }
                extra = add_headers(proxy.seen[-1]) if add_headers is not None else {}
                with (
                    httpx.Client(timeout=30) as client,
                    client.stream(
                        "POST", proxy.upstream + self.path, content=body, headers=headers
                    ) as upstream,
                ):
                    self.send_response(upstream.status_code)
                    for name in ("content-type", "retry-after", "x-request-id"):
                        if name in upstream.headers:
                            self.send_header(name, upstream.headers[name])
                    for name, value in extra.items():
                        self.send_header(name, value)
                    if proxy.encoding is not None:
                        self.send_header("Content-Encoding", proxy.encoding)
                        proxy.encoded += 1
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    encode, finish = compressor(proxy.encoding)
                    for chunk in upstream.iter_raw():
                        self._chunk(encode(chunk))
                    self._chunk(finish())
                    self._chunk(b"", last=True)

            def _chunk(self, data: bytes, *, last: bool = False) -> None:
                if data or last:
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

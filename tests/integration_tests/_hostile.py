"""Servers that misbehave the way real middle boxes do, for transport tests.

``RawServer`` answers each connection with canned bytes (an HTML error page with
status 200, an empty body, a body cut short, a corrupt gzip stream, a server
that never answers). ``CompressingProxy`` sits in front of the emulator and
re-encodes every response with a Content-Encoding, flushing per chunk so that
streams stay streams, as a compressing reverse proxy does.
"""

from __future__ import annotations

import socket
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import httpx


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            return data
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
    return head


class RawServer:
    """Answers the n-th connection with ``responses[n]`` (the last one repeats).

    A response of None accepts the request and never answers (for timeouts).
    """

    def __init__(self, *responses: bytes | None) -> None:
        self.responses = list(responses)
        self.requests = 0
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

    def _serve(self) -> None:
        held: list[socket.socket] = []
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            _read_request(conn)
            response = self.responses[min(self.requests, len(self.responses) - 1)]
            self.requests += 1
            if response is None:
                held.append(conn)
                continue
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


# --------------------------------------------------------------------------- compression


def compressor(encoding: str) -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
    """A streaming encoder for ``encoding``: (encode and flush a chunk, end the stream)."""
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


class CompressingProxy:
    """A reverse proxy to ``upstream`` that Content-Encodes every response."""

    def __init__(self, upstream: str, encoding: str) -> None:
        self.upstream = upstream
        self.encoding = encoding
        self.encoded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "accept-encoding")
                }
                encode, finish = compressor(proxy.encoding)
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
                    self.send_header("Content-Encoding", proxy.encoding)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    proxy.encoded += 1
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
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

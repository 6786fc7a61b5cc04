"""Cost at size: one SSE line of many megabytes, and streams of up to a million events.

Two questions, each answered with ChatOpenAI (and httpx-sse) beside ours on the
same bytes, in interleaved rounds, medians reported:

- **One long line.** A single ``data:`` line of 1 to 100 MB (one chunk whose
  content is that long), read in 64 KB network reads. Linear framing costs time
  proportional to the size: seconds per MB stay flat as the line grows. The
  parser alone is also held to httpx-sse's on the same bytes.
- **Many events.** 10,000 to 1,000,000 one-character events. A flat cost per
  event means nothing grows with the length of the answer.

The server is a raw HTTP server in its own process that writes precomputed
bodies in 64 KB chunks, so what is measured is the client. Run alone with
``python -m benchmarks.scale``; ``make bench`` runs it with the rest.
"""

from __future__ import annotations

import contextlib
import json
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from benchmarks import _server

KEY = "bench-key"
READ = 64 * 1024
LINE_MB = (1, 10, 30, 100)
EVENTS = (10_000, 100_000, 1_000_000)
OPENAI_EVENTS = EVENTS  # 1,000,000 events take ChatOpenAI about two minutes (one round)
PARSER_TARGET = 2.0  # our parser vs httpx-sse's on a 30 MB line: within about 2x


# --------------------------------------------------------------------------- bodies


def _openai_chunk(content: str) -> bytes:
    record = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "bench",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(record, separators=(",", ":")).encode() + b"\n\n"


def _openai_end() -> bytes:
    record = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "bench",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    return b"data: " + json.dumps(record).encode() + b"\n\ndata: [DONE]\n\n"


def _ffm_body(content: str) -> bytes:
    first = {"generated_text": content, "details": None, "finish_reason": None}
    final = {
        "generated_text": "",
        "details": None,
        "prompt_tokens": 1,
        "generated_tokens": 1,
        "total_tokens": 2,
        "finish_reason": "eos_token",
    }
    return b"".join(
        b"data: " + json.dumps(r, ensure_ascii=False).encode() + b"\r\n\r\n" for r in (first, final)
    )


def body_for(path: str, model: str) -> bytes:
    """The stream a route answers for a scenario named by the model id (``line-30``...)."""
    kind, _, size = model.partition("-")
    if kind == "line":
        content = "x" * (int(size) * 1_000_000)
        if path.endswith("/models/conversation"):
            return _ffm_body(content)
        return _openai_chunk(content) + _openai_end()
    if kind == "events":
        one = _openai_chunk("a")
        return one * int(size) + _openai_end()
    raise ValueError(model)


# --------------------------------------------------------------------------- the server process


def _serve() -> None:
    """Answer every POST with its scenario's body, chunked in 64 KB writes."""
    cache: dict[tuple[str, str], bytes] = {}
    server = socket.create_server(("127.0.0.1", 0))
    print(f"http://127.0.0.1:{server.getsockname()[1]}", flush=True)

    def handle(conn: socket.socket) -> None:
        with conn:
            buffered = b""
            while True:
                while b"\r\n\r\n" not in buffered:
                    piece = conn.recv(65536)
                    if not piece:
                        return
                    buffered += piece
                head, _, rest = buffered.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                path = lines[0].split(b" ")[1].decode()
                length = next(
                    int(v)
                    for k, _, v in (x.partition(b":") for x in lines[1:])
                    if k.strip().lower() == b"content-length"
                )
                while len(rest) < length:
                    rest += conn.recv(65536)
                request, buffered = json.loads(rest[:length]), rest[length:]
                key = (path, request["model"])
                if key not in cache:
                    cache[key] = body_for(*key)
                body = cache[key]
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\n\r\n"
                )
                view = memoryview(body)
                for start in range(0, len(body), READ):
                    piece = view[start : start + READ]
                    conn.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
                conn.sendall(b"0\r\n\r\n")

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()


def server_process() -> contextlib.AbstractContextManager[str]:
    """The raw server in a subprocess; yields its URL."""
    return _server.server_process("benchmarks.scale", "serve")


# --------------------------------------------------------------------------- clients


def _ours(url: str, model: str, route: str) -> Any:
    from langchain_ffm_friendli import ChatFFM, ChatFriendli

    if route == "ffm":
        return ChatFFM(model=model, api_key=KEY, base_url=url + "/api", timeout=600)
    return ChatFriendli(
        model=model, api_key=KEY, base_url=url + "/v1", timeout=600, stream_usage=False
    )


def _openai(url: str, model: str) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=model, api_key=KEY, base_url=url + "/v1", timeout=600, max_retries=0)


def _stream_seconds(model: Any) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    for chunk in model.stream("hi"):
        size += len(chunk.content)
    return time.perf_counter() - started, size


@dataclass
class Case:
    """One size, one client: median seconds over interleaved rounds."""

    what: str  # "line" or "events"
    size: int  # MB or events
    client: str
    seconds: float
    rounds: int

    @property
    def per_unit_us(self) -> float:
        """Microseconds per MB (lines) or per event (events)."""
        return self.seconds / self.size * 1e6


def _interleaved(
    contenders: dict[str, Callable[[], tuple[float, int]]], rounds: int
) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            seconds, _size = run()
            times[name].append(seconds)
    return {name: statistics.median(t) for name, t in times.items()}


def line_cases(url: str, progress: Callable[[Case], None]) -> list[Case]:
    """One long line through ChatFriendli, ChatFFM and ChatOpenAI."""
    cases: list[Case] = []
    for mb in LINE_MB:
        model = f"line-{mb}"
        rounds = 3  # a first, cold round (fresh memory pages) is an outlier at every size
        contenders = {
            "ChatFriendli": lambda m=model: _stream_seconds(_ours(url, m, "friendli")),
            "ChatFFM": lambda m=model: _stream_seconds(_ours(url, m, "ffm")),
            "ChatOpenAI": lambda m=model: _stream_seconds(_openai(url, m)),
        }
        for name, seconds in _interleaved(contenders, rounds).items():
            case = Case("line", mb, name, seconds, rounds)
            cases.append(case)
            progress(case)
    return cases


def event_cases(url: str, progress: Callable[[Case], None]) -> list[Case]:
    """Many one-character events through ChatFriendli and ChatOpenAI."""
    cases: list[Case] = []
    for count in EVENTS:
        model = f"events-{count}"
        contenders: dict[str, Callable[[], tuple[float, int]]] = {
            "ChatFriendli": lambda m=model: _stream_seconds(_ours(url, m, "friendli"))
        }
        if count in OPENAI_EVENTS:
            contenders["ChatOpenAI"] = lambda m=model: _stream_seconds(_openai(url, m))
        rounds = 3 if count < 1_000_000 else 1
        for name, seconds in _interleaved(contenders, rounds).items():
            case = Case("events", count, name, seconds, rounds)
            cases.append(case)
            progress(case)
    return cases


# --------------------------------------------------------------------------- parsers alone


@dataclass
class ParserCase:
    """Our SSE parser and httpx-sse's on the same bytes (one line of ``mb`` MB)."""

    mb: int
    ours: float
    """Seconds, median of the rounds."""
    httpx_sse: float
    """Seconds, median of the rounds."""

    @property
    def ratio(self) -> float:
        """Ours / httpx-sse."""
        return self.ours / self.httpx_sse


def _pieces(mb: int) -> list[bytes]:
    body = _openai_chunk("x" * (mb * 1_000_000)) + _openai_end()
    return [body[i : i + READ] for i in range(0, len(body), READ)]


def _ours_parse(pieces: list[bytes]) -> int:
    from langchain_ffm_friendli._wire import SSEParser

    parser = SSEParser()
    return sum(len(parser.feed(piece)) for piece in pieces)


def _httpx_sse_parse(pieces: list[bytes]) -> int:
    from httpx_sse import EventSource

    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=pieces)
    return sum(1 for _ in EventSource(response).iter_sse())


def parser_cases(progress: Callable[[ParserCase], None]) -> list[ParserCase]:
    """The two parsers on one long line, interleaved rounds."""
    cases = []
    for mb in (1, 10, 30):
        pieces = _pieces(mb)
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(3):
            for sink, parse in ((ours, _ours_parse), (theirs, _httpx_sse_parse)):
                started = time.perf_counter()
                assert parse(pieces) == 3  # the line's event, the end event, [DONE]
                sink.append(time.perf_counter() - started)
        case = ParserCase(mb, statistics.median(ours), statistics.median(theirs))
        cases.append(case)
        progress(case)
    return cases


# --------------------------------------------------------------------------- report


@dataclass
class ScaleResult:
    """Everything this benchmark measured."""

    lines: list[Case]
    events: list[Case]
    parsers: list[ParserCase]

    def flatness(self, what: str, client: str) -> float | None:
        """Per-unit cost at the largest size / at the smallest (1.0 is perfectly linear)."""
        cases = sorted(
            (c for c in (self.lines if what == "line" else self.events) if c.client == client),
            key=lambda c: c.size,
        )
        if len(cases) < 2:
            return None
        return cases[-1].per_unit_us / cases[0].per_unit_us


def describe(case: Case | ParserCase) -> str:
    """One progress line."""
    if isinstance(case, ParserCase):
        return (
            f"parser, one {case.mb} MB line: ours {case.ours:.3f}s, httpx-sse "
            f"{case.httpx_sse:.3f}s ({case.ratio:.2f}x)"
        )
    unit = "MB" if case.what == "line" else "event"
    size = f"{case.size} MB line" if case.what == "line" else f"{case.size:,} events"
    return (
        f"{case.client:<12} {size:>18}: {case.seconds:8.3f}s, "
        f"{case.per_unit_us:10.2f} us/{unit} (median of {case.rounds})"
    )


def section(result: ScaleResult) -> list[str]:
    """The markdown section of docs/benchmarks.md."""
    out = [
        "## Cost at size: long lines and many events",
        "",
        "A raw server in its own process writes precomputed streams in 64 KB chunks "
        "(`benchmarks/scale.py`), so the client is what is measured. Linear cost means "
        "flat seconds per MB and flat microseconds per event.",
        "",
        "| one SSE line | client | seconds | s per MB |",
        "|---:|---|---:|---:|",
    ]
    for case in result.lines:
        per_mb = case.seconds / case.size
        out.append(f"| {case.size} MB | {case.client} | {case.seconds:.3f} | {per_mb:.4f} |")
    out += ["", "| events | client | seconds | us per event |", "|---:|---|---:|---:|"]
    for case in result.events:
        out.append(
            f"| {case.size:,} | {case.client} | {case.seconds:.3f} | {case.per_unit_us:.2f} |"
        )
    out += [
        "",
        "| one line, parser alone | ours (s) | httpx-sse (s) | ours / httpx-sse |",
        "|---:|---:|---:|---:|",
    ]
    for parser in result.parsers:
        out.append(
            f"| {parser.mb} MB | {parser.ours:.3f} | {parser.httpx_sse:.3f} | {parser.ratio:.2f} |"
        )
    out.append("")
    for what, label in (("line", "s per MB"), ("events", "us per event")):
        for client in ("ChatFriendli", "ChatFFM", "ChatOpenAI"):
            ratio = result.flatness(what, client)
            if ratio is not None:
                out.append(f"- {client}: {label} at the largest size / the smallest: {ratio:.2f}")
    thirty = next((p for p in result.parsers if p.mb == 30), None)
    if thirty is not None:
        verdict = "met" if thirty.ratio <= PARSER_TARGET else "MISSED"
        out.append(
            f"- Our parser on a 30 MB line: {thirty.ratio:.2f}x httpx-sse's "
            f"(target <= {PARSER_TARGET:g}x): {verdict}"
        )
    out.append("")
    return out


def run(progress: Callable[[Any], None] = lambda _c: None) -> ScaleResult:
    """Every case, the server started and stopped here."""
    parsers = parser_cases(progress)
    with server_process() as url:
        lines = line_cases(url, progress)
        events = event_cases(url, progress)
    return ScaleResult(lines, events, parsers)


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        _serve()
    else:
        outcome = run(progress=lambda case: print(describe(case), flush=True))
        print("\n".join(section(outcome)))

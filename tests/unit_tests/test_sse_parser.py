"""Our byte-level SSE parser against httpx-sse, the parser it replaced, on any stream.

``SSEParser`` reads event streams from bytes because it runs on every read of every
stream; httpx-sse reads the same WHATWG rules from decoded text. Both must give the
same events for every stream and every way the network cuts it. One difference is
deliberate: a UTF-8 byte-order mark at the start is dropped (the rules say so;
httpx-sse would read ``\\ufeffdata`` as an unknown field and lose the first event).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from httpx_sse import EventSource
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_ffm_friendli._wire import NulFraming, SSEFraming, SSEParser

_ENDINGS = st.sampled_from([b"\n", b"\r\n", b"\r"])
_TEXT = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
    max_size=12,
)


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """One line of an event stream, with its line ending."""
    kind = draw(
        st.sampled_from(
            [
                "data",
                "data-nospace",
                "event",
                "id",
                "retry",
                "comment",
                "unknown",
                "bare",
                "blank",
                "blank",
                "junk",
            ]
        )
    )
    value = draw(_TEXT).encode()
    body = {
        "data": b"data: " + value,
        "data-nospace": b"data:" + value,
        "event": b"event: " + value,
        "id": b"id: " + value,
        "retry": b"retry: " + draw(st.sampled_from([b"10", b"x", b""])),
        "comment": b": " + value,
        "unknown": b"foo: " + value,
        "bare": draw(st.sampled_from([b"data", b"event", b"data "])),
        "blank": b"",
        "junk": draw(st.binary(max_size=6)).replace(b"\r", b"").replace(b"\n", b""),
    }[kind]
    return body + draw(_ENDINGS)


def cut(data: bytes, points: Iterable[int]) -> list[bytes]:
    marks = sorted({p % (len(data) + 1) for p in points})
    return [data[a:b] for a, b in zip([0, *marks], [*marks, len(data)], strict=True) if data[a:b]]


def ours(chunks: list[bytes]) -> list[tuple[str, str]]:
    parser = SSEParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    parser.close()
    return events


def theirs(chunks: list[bytes]) -> list[tuple[str, str]]:
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=iter(chunks)
    )
    return [(e.event, e.data) for e in EventSource(response).iter_sse()]


def meaningful(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop what carries nothing (no name, no data): dispatched by httpx-sse when only
    ``id``/``retry`` were set, never read by our framing, which skips empty events."""
    return [(("" if n == "message" else n), d) for n, d in events if n not in ("", "message") or d]


@settings(max_examples=400, deadline=None)
@given(st.lists(lines(), max_size=25), st.lists(st.integers(0, 10_000), max_size=8))
def test_every_stream_and_every_split_gives_the_events_httpx_sse_gives(
    stream_lines: list[bytes], points: list[int]
) -> None:
    data = b"".join(stream_lines)
    chunks = cut(data, points)
    assert meaningful(ours(chunks)) == meaningful(theirs(chunks))
    assert ours(chunks) == ours([data])  # the split never matters


def test_a_crlf_cut_between_two_reads_is_one_line_end() -> None:
    assert ours([b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n"]) == [("", "a"), ("", "b")]


def test_multi_line_data_is_joined_and_an_unfinished_event_is_dropped() -> None:
    assert ours([b"event: x\ndata: 1\ndata: 2\n\ndata: cut"]) == [("x", "1\n2")]


def test_a_utf8_character_cut_between_reads_survives() -> None:
    data = 'data: {"t": "台灣🌏"}\n\n'.encode()
    assert ours(cut(data, range(len(data)))) == [("", '{"t": "台灣🌏"}')]


def test_a_leading_byte_order_mark_is_dropped_even_when_cut() -> None:
    assert ours([b"\xef", b"\xbb", b"\xbfdata: 1\n\n"]) == [("", "1")]
    assert ours([b"\xef\xbb\xbfdata: 1\n\n"]) == [("", "1")]


def _whole(body: bytes, content_type: str = "application/json") -> list[Any]:
    framing = SSEFraming("friendli")
    framing.start(content_type)
    assert framing.feed(body[:5]) == []  # read whole, reported at the end
    assert framing.feed(body[5:]) == []
    return framing.close()


def test_a_200_answer_that_is_not_sse_reaches_the_decoder_as_one_record() -> None:
    from langchain_ffm_friendli._wire import Record
    from langchain_ffm_friendli.errors import ProviderError

    whole = b'{"choices": [],\r\n "model": "m"}'  # the server ignored stream=true
    (record,) = _whole(whole)
    assert isinstance(record, Record)
    assert record.data == {"choices": [], "model": "m"}
    with pytest.raises(ProviderError) as caught:
        _whole(b'{"error": {"message": "quota", "code": 429}}')
    assert caught.value.status_code == 429
    assert _whole(b"") == []


def test_one_line_of_many_megabytes_in_small_reads_is_one_event() -> None:
    """The reads of an unfinished line are kept as pieces and joined once (linear cost)."""
    value = "x" * 20_000_000
    body = f"data: {value}\n\n".encode()
    parser = SSEParser()
    events = []
    for start in range(0, len(body), 4096):
        events += parser.feed(body[start : start + 4096])
    assert events == [("", value)]


def test_nothing_after_done_is_a_record_and_the_framing_says_it_ended() -> None:
    framing = SSEFraming("friendli")
    records = framing.feed(b'data: {"a": 1}\n\ndata: [DONE]\n\ndata: {"b": 2}\n\n')
    assert [r.data for r in records] == [{"a": 1}]
    assert framing.ended
    assert not NulFraming("monsterapi").ended  # that protocol ends with the body

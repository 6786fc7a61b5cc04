"""Secrets: cleaning API keys, redacting URL passwords, scrubbing server text.

Pure functions and one small stateful scrubber, no I/O. Keys read from files and
``.env`` mounts often carry a trailing newline; a key with any other control or
non-ASCII character cannot be sent as a header, and the HTTP stack would echo it
in its error. So keys are cleaned (or refused, naming ``api_key``) before any
request. Server text is scrubbed of the key of the one transport that sent the
request, so no error raised downstream can quote it, with no process-wide
registry of keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["MASK", "Scrubber", "api_key_problem", "clean_api_key", "redact_url", "split_userinfo"]

MASK: Final = "***"
_MASK_BYTES: Final = MASK.encode()
# A read ending in one of these cannot end inside a secret: keys hold no control
# characters (``api_key_problem`` refuses them) and their JSON-escaped form neither.
_RECORD_ENDS: Final = (b"\n", b"\0", b"\r", b"")


def clean_api_key(raw: str) -> str:
    """The key with surrounding whitespace (a file's newline, a CRLF) removed."""
    return raw.strip()


def api_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be sent in a header, without quoting it (None if it can)."""
    if key.isascii() and key.isprintable():
        return None
    for position, char in enumerate(key):
        if not char.isascii():
            return f"has a non-ASCII character at position {position}"
        if not char.isprintable():
            return f"has a control character at position {position}"
    return None  # pragma: no cover - isprintable() and the loop agree


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo (``user:pass@``) replaced by ``***``."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("@", 1)[-1]
    if parts.password is None:
        return url
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its userinfo, and the (user, password) it carried.

    The HTTP stack would otherwise log the URL with the password in it; the
    credentials are sent as HTTP Basic auth instead, as httpx does for them.
    """
    if "@" not in url:
        return url, None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    credentials = (unquote(parts.username or ""), unquote(parts.password or ""))
    return urlunsplit(parts._replace(netloc=host)), credentials


def _needles(secrets: Iterable[str]) -> tuple[str, ...]:
    """Each secret as it may appear in server text: verbatim and JSON-escaped."""
    found: list[str] = []
    for secret in secrets:
        if not secret:
            continue
        for form in (secret, json.dumps(secret)[1:-1]):
            if form not in found:
                found.append(form)
    return tuple(found)


class Scrubber:
    """Replaces a transport's secrets in text and bytes coming from the server.

    A byte stream may cut a secret in two across network chunks, so
    :meth:`feed` holds back a chunk's tail while it could be the start of a
    secret; a tail that ends a record (NUL, newline) never can, so whole
    records are never delayed.
    """

    __slots__ = ("_bytes", "_held", "_text")

    def __init__(self, secrets: Iterable[str]) -> None:
        self._text = _needles(secrets)
        self._bytes = tuple(s.encode() for s in self._text)
        self._held = b""

    def __bool__(self) -> bool:
        return bool(self._text)

    def text(self, value: str) -> str:
        """``value`` with every secret masked."""
        for needle in self._text:
            if needle in value:
                value = value.replace(needle, MASK)
        return value

    def data(self, value: bytes) -> bytes:
        """Bytes of a whole body with every secret masked."""
        for needle in self._bytes:
            if needle in value:
                value = value.replace(needle, _MASK_BYTES)
        return value

    def fresh(self) -> Scrubber:
        """A scrubber for one new stream (nothing held back)."""
        clone = Scrubber(())
        clone._text, clone._bytes = self._text, self._bytes
        return clone

    def feed(self, chunk: bytes) -> bytes:
        """The part of a stream chunk that can be released, secrets masked.

        Paid on every network read of a stream: the usual chunk holds no secret
        and ends in no secret's first byte, which two C-level scans settle.
        """
        if self._held:
            chunk, self._held = self._held + chunk, b""
        for needle in self._bytes:
            if needle in chunk:
                chunk = chunk.replace(needle, _MASK_BYTES)
        hold = 0
        if chunk[-1:] not in _RECORD_ENDS:  # a secret has no NUL or newline to end on
            for needle in self._bytes:
                if needle[0] in chunk[1 - len(needle) :]:  # the tail may start a secret
                    hold = max(hold, _pending_prefix(chunk, needle))
        if hold:
            self._held = chunk[-hold:]
            return chunk[:-hold]
        return chunk

    def flush(self) -> bytes:
        """Whatever was held back, at the end of the stream."""
        held, self._held = self._held, b""
        return held


def _pending_prefix(buffer: bytes, needle: bytes) -> int:
    """Length of the longest tail of ``buffer`` that is a proper prefix of ``needle``."""
    start = max(len(buffer) - len(needle) + 1, 0)
    first = needle[:1]
    position = buffer.find(first, start)
    while position != -1:
        if needle.startswith(buffer[position:]):
            return len(buffer) - position
        position = buffer.find(first, position + 1)
    return 0

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
import re
from collections.abc import Callable, Iterable
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["MASK", "Scrubber", "api_key_problem", "clean_api_key", "redact_url", "split_userinfo"]

MASK: Final = "***"
_MASK_BYTES: Final = MASK.encode()


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
    secret. A chunk can end inside a secret only if its last byte is a byte of
    one (never a NUL, newline, quote or brace), so whole records are never
    delayed.
    """

    __slots__ = ("_bytes", "_find", "_held", "_inner", "_text")

    def __init__(self, secrets: Iterable[str]) -> None:
        self._text = _needles(secrets)
        self._bytes = tuple(s.encode() for s in self._text)
        self._held = b""
        # One C-level search for any secret (None when there is none).
        self._find = _finder(self._bytes)
        # Each byte a secret has before its last one: only a chunk ending in one
        # of these can end inside a secret.
        self._inner = frozenset(bytes((b,)) for needle in self._bytes for b in needle[:-1])

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
        clone = object.__new__(Scrubber)  # per stream: nothing to compute again
        clone._text, clone._bytes, clone._held = self._text, self._bytes, b""
        clone._find, clone._inner = self._find, self._inner
        return clone

    def feed(self, chunk: bytes) -> bytes:
        """The part of a stream chunk that can be released, secrets masked.

        Paid on every network read of a stream: the usual chunk (nothing held,
        no secret in it, not ending in a secret's byte) costs one C-level search
        and one set lookup.
        """
        if self._held:
            chunk, self._held = self._held + chunk, b""
        if self._find(chunk) is not None:
            chunk = self.data(chunk)
        if chunk[-1:] in self._inner:  # the tail may start a secret
            hold = max(_pending_prefix(chunk, needle) for needle in self._bytes)
            if hold:
                self._held = chunk[-hold:]
                return chunk[:-hold]
        return chunk

    def flush(self) -> bytes:
        """Whatever was held back, at the end of the stream."""
        held, self._held = self._held, b""
        return held


def _finder(needles: tuple[bytes, ...]) -> Callable[[bytes], object]:
    """One C-level search for any of ``needles`` (a search that finds nothing if none)."""
    pattern = b"|".join(re.escape(needle) for needle in needles) if needles else rb"(?!)"
    return re.compile(pattern).search


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

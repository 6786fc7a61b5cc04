"""Secrets: cleaning API keys and headers, redacting URLs, masking error text.

Pure functions and one small redactor, no I/O. Keys read from files and ``.env``
mounts often carry a trailing newline; a key or header value with a control or
non-ASCII character cannot be sent, and the HTTP stack would quote it in its
error. So keys are cleaned (or refused, naming ``api_key``) and header values
refused (naming the header, never quoting the value) before any request.

Masking happens only where a secret could leave the package: exception texts and
attributes, log lines. What the server says in a successful answer is the
user's data and is never rewritten, whatever the key (``EMPTY``, ``none``...).
"""

from __future__ import annotations

import base64
import re
import traceback
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    "MASK",
    "Redactor",
    "api_key_problem",
    "basic_auth_token",
    "clean_api_key",
    "header_problem",
    "redact_url",
    "split_userinfo",
]

MASK: Final = "***"


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


# RFC 9110 5.1 / 5.5: a field name is a token; a value is visible ASCII with inner
# spaces or tabs, no leading or trailing whitespace (h11 refuses anything else).
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FIELD_VALUE: Final = re.compile(r"(?:[\x21-\x7e](?:[ \t]*[\x21-\x7e])*)?")


def header_problem(name: object, value: object) -> str | None:
    """Why a header cannot be sent, naming the header and never quoting its value."""
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        return "has a header name that is not an HTTP token (letters, digits, -, _ ...)"
    if not isinstance(value, str):
        return f"header {name!r}: the value must be a string, not {type(value).__name__}"
    if _FIELD_VALUE.fullmatch(value):
        return None
    for position, char in enumerate(value):
        if not char.isascii():
            return f"header {name!r}: the value has a non-ASCII character at position {position}"
        if char not in " \t" and not char.isprintable():
            return f"header {name!r}: the value has a control character at position {position}"
    return f"header {name!r}: the value starts or ends with whitespace"


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


def basic_auth_token(user: str, password: str) -> str:
    """The base64 that HTTP Basic auth sends for ``user:password`` (a secret too)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _char_forms(char: str) -> str:
    """A regex matching ``char`` as written raw, URL-encoded or JSON-escaped (any depth)."""
    forms = [re.escape(char)]
    encoded = char.encode("utf-8")
    forms.append("".join(f"%{_hex(b >> 4)}{_hex(b & 15)}" for b in encoded))
    if ord(char) < 0x10000:
        forms.append(r"\\+u" + "".join(_hex(int(d, 16)) for d in f"{ord(char):04x}"))
    if char in '"\\/':
        forms.append(r"\\+" + re.escape(char))
    if char == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """One search for every secret in every encoding (longest first, so it wins)."""
    alternatives = ["".join(_char_forms(c) for c in s) for s in sorted(secrets, key=len)[::-1]]
    return re.compile("|".join(alternatives) or "(?!)")


def _hex(digit: int) -> str:
    """A regex for one hex digit in either case."""
    return f"[{digit:X}{digit:x}]" if digit > 9 else str(digit)


class Redactor:
    r"""Masks one configuration's secrets in text that may leave the package.

    A secret is found verbatim, URL-encoded (``%2F``) or JSON-escaped
    (``\\u0041``, ``\\/``, at any depth of escaping), in any mix, because a
    server may echo a key in any of these forms and a decoder may unescape it.
    The search is compiled on first use: only errors and log lines pay for it.
    """

    __slots__ = ("_compiled", "secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: tuple[str, ...] = tuple(dict.fromkeys(s for s in secrets if s))
        self._compiled: re.Pattern[str] | None = None

    def __repr__(self) -> str:
        return f"Redactor({len(self.secrets)} secrets)"

    def with_secrets(self, more: Iterable[str]) -> Redactor:
        """This redactor plus ``more`` (one call's header values); itself if none is new."""
        extra = [s for s in more if s and s not in self.secrets]
        return Redactor((*self.secrets, *extra)) if extra else self

    def text(self, value: str) -> str:
        """``value`` with every secret masked."""
        if not self.secrets or not value:
            return value
        if self._compiled is None:
            self._compiled = _pattern(self.secrets)
        return self._compiled.sub(MASK, value)

    def exception(self, error: BaseException) -> None:
        """Make ``error`` safe to show, log, pickle or report, in place.

        Its arguments and its attributes that may hold what a server or the
        user sent (listed in its ``server_texts``) are masked; attributes of
        our own making (``provider``, ``field``...) are left as they are. Exceptions of other
        libraries chained to it are cut off (an httpx error carries the request,
        headers included, and its own text): ours already say what they said,
        masked. The frames of the traceback are cleared of their local
        variables, which held the request headers and the bodies read, so error
        reporters that collect locals find no secret and no whole body.
        """
        seen: set[int] = set()
        node: BaseException | None = error
        while node is not None and id(node) not in seen:
            seen.add(id(node))
            self._mask_attributes(node)
            if node.__traceback__ is not None:
                traceback.clear_frames(node.__traceback__)
            following = node.__cause__ or node.__context__
            if following is not None and not _is_ours(following):
                node.__cause__ = None
                node.__context__ = None
                node.__suppress_context__ = True
                following = None
            node = following

    def _mask_attributes(self, error: BaseException) -> None:
        error.args = tuple(self.text(a) if isinstance(a, str) else a for a in error.args)
        for name in getattr(error, "server_texts", ()):
            value = getattr(error, name, None)
            if isinstance(value, str):
                setattr(error, name, self.text(value))


def _is_ours(error: BaseException) -> bool:
    """Raised by this package (its typed errors), so masked and safe to keep chained."""
    return type(error).__module__.startswith("langchain_ffm_friendli")

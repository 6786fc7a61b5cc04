"""Writes a string that matches a regular expression (``response_format`` type ``regex``).

Friendli can constrain output with a regex; the scripted model must answer with a
matching string. A small recursive writer covers the constructs the server supports
(literals, classes, groups, alternation, quantifiers) and rejects those it does not
(anchors, lookaround, backreferences), as the server does.
"""

from __future__ import annotations

import re
import string

from ._scanner import Scanner

__all__ = ["RegexError", "RegexWriter", "WriterLimitError", "regex_instance"]


class RegexError(ValueError):
    """A regex construct the server does not support (the request gets a 422)."""


class WriterLimitError(ValueError):
    """A valid pattern the writer cannot produce a match for (no 422: a fallback)."""


_CANDIDATES = (
    "a0A _-.,:;/@xyzXYZ123456789" + string.ascii_letters + string.punctuation + "\téあ한中"
)
_QUANTIFIER_RE = re.compile(r"\{(\d+)(?:,(\d*))?\}")


class RegexWriter(Scanner):
    r"""Writes one string a regex matches, from the pattern's syntax.

    Alternations take their first branch; a quantified atom is written once when the
    quantifier allows it (``*``, ``?``, ``+``, ``{0,m}``) and its minimum count
    otherwise; character classes and ``.``/``\d``/``\w``/``\s`` give the first of a
    fixed list of candidate characters they match. Anchors, lookaround and
    backreferences raise :class:`RegexError` (Friendli rejects them); other constructs
    it cannot write raise :class:`WriterLimitError`.
    """

    def __init__(self, pattern: str) -> None:
        super().__init__(pattern)
        self.pattern = pattern

    def write(self) -> str:
        text = self._alternation()
        if self.pos != len(self.pattern):
            raise WriterLimitError(f"unbalanced parenthesis at position {self.pos}")
        return text

    def _alternation(self) -> str:
        first = self._sequence()
        while self.peek() == "|":
            self.take()
            self._sequence()
        return first

    def _sequence(self) -> str:
        parts: list[str] = []
        while self.peek() not in ("", "|", ")"):
            atom = self._atom()
            parts.append(atom * self._count())
        return "".join(parts)

    def _count(self) -> int:
        char = self.peek()
        low, high = 1, 1
        if char in ("*", "+", "?"):
            self.take()
            low, high = (0 if char != "+" else 1), (1 if char == "?" else -1)
        else:
            match = _QUANTIFIER_RE.match(self.pattern, self.pos)
            if match is None:
                return 1
            self.pos = match.end()
            low = int(match.group(1))
            upper = match.group(2)
            high = low if upper is None else (int(upper) if upper else -1)
        if self.peek() in ("?", "+"):
            self.take()
        return low if low > 0 or high == 0 else 1

    def _pick(self, pattern: str) -> str:
        for char in _CANDIDATES:
            if re.fullmatch(pattern, char):
                return char
        raise WriterLimitError(f"no candidate character matches {pattern}")

    def _atom(self) -> str:
        char = self.peek()
        if char in ("^", "$"):
            raise RegexError("anchors are not supported")
        if char == "(":
            return self._group()
        if char == "[":
            end = self.pos + 1
            if self.pattern.startswith("^", end):
                end += 1
            if self.pattern.startswith("]", end):
                end += 1
            while end < len(self.pattern) and self.pattern[end] != "]":
                end += 2 if self.pattern[end] == "\\" else 1
            source = self.pattern[self.pos : end + 1]
            self.pos = end + 1
            return self._pick(source)
        if char == "\\":
            return self._escape()
        self.take()
        return "a" if char == "." else char

    def _group(self) -> str:
        self.take()
        if self.pattern.startswith("?", self.pos):
            if self.pattern.startswith(("?=", "?!", "?<=", "?<!"), self.pos):
                raise RegexError("lookahead and lookbehind are not supported")
            if self.pattern.startswith("?:", self.pos):
                self.pos += 2
            elif self.pattern.startswith(("?P<", "?<"), self.pos):
                self.pos = self.pattern.index(">", self.pos) + 1
            else:
                raise WriterLimitError("unsupported group syntax")
        text = self._alternation()
        if self.peek() != ")":
            raise WriterLimitError("missing closing parenthesis")
        self.take()
        return text

    def _escape(self) -> str:
        char = self.pattern[self.pos + 1 : self.pos + 2]
        self.pos += 2
        if char in ("b", "B", "A", "Z", "z"):
            raise RegexError("anchors are not supported")
        if char.isdigit():
            raise RegexError("backreferences are not supported")
        if char in ("d", "D", "w", "W", "s", "S"):
            return self._pick("\\" + char)
        simple = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
        if char in simple:
            return simple[char]
        if char in ("x", "u"):
            width = 2 if char == "x" else 4
            digits = self.pattern[self.pos : self.pos + width]
            self.pos += width
            return chr(int(digits, 16))
        return char


def regex_instance(pattern: str) -> str:
    """A string matching a regex, for ``response_format`` ``regex``.

    Built from the pattern's syntax (see :class:`RegexWriter`): the first branch of
    every alternation, each quantified atom once (or its minimum count when that is
    larger), and for a character class the first candidate character it matches; e.g.
    ``[0-9]{3}-[0-9]{4}`` gives ``000-0000``. Falls back to an empty string for a
    pattern the writer cannot handle.

    Args:
        pattern: The regex (validated by :func:`read_response_format`).

    Returns:
        The string.
    """
    try:
        return RegexWriter(pattern).write()
    except (ValueError, IndexError):  # RegexError and WriterLimitError included
        return ""

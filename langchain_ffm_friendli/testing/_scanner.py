"""A cursor over a sequence of symbols, for the emulator's small recursive-descent parsers.

The regex writer (``response_format`` type ``regex``) reads a pattern character by
character and Friendli's calculator reads an expression token by token; both look at
the next symbol and take it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["Scanner"]


class Scanner:
    """Reads ``symbols`` left to right; past the end every symbol is ``""``.

    Attributes:
        symbols: What is read (a string's characters, or a list of tokens).
        pos: The index of the next symbol.
    """

    def __init__(self, symbols: Sequence[str]) -> None:
        """Start before the first symbol.

        Args:
            symbols: What to read.
        """
        self.symbols = symbols
        self.pos = 0

    def peek(self) -> str:
        """The next symbol without taking it (``""`` at the end).

        Returns:
            The symbol.
        """
        return self.symbols[self.pos] if self.pos < len(self.symbols) else ""

    def take(self) -> str:
        """The next symbol, moving past it (``""`` at the end).

        Returns:
            The symbol.
        """
        symbol = self.peek()
        self.pos += 1
        return symbol

    @property
    def done(self) -> bool:
        """Whether every symbol has been read."""
        return self.pos >= len(self.symbols)

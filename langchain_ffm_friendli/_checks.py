"""Type checks every provider's parameter validation starts with.

Per-call kwargs (``llm.invoke(..., temperature="0.5")``) skip pydantic, so a
range check could otherwise meet a string and fail with a bare TypeError. Each
error names the field, before any request is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langchain_ffm_friendli.errors import InvalidParameterError

__all__ = ["require_numbers"]


def require_numbers(settings: Mapping[str, Any], names: Iterable[str], *, provider: str) -> None:
    """Refuse a set field of ``names`` that is not an int or float (bools included)."""
    for name in names:
        value = settings.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidParameterError(name, f"must be a number; got {value!r}", provider=provider)

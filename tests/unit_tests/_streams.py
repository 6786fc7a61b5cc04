"""The planned models' stream path without a transport: bytes -> framing -> decoder -> chunks."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from langchain_ffm_friendli._streaming import StreamRun, drive
from langchain_ffm_friendli._transport import Exchange


def drive_bytes(
    items: Iterator[bytes], framing: Any, decoder: Any, make: Callable[[Any], Any]
) -> Iterator[Any]:
    """``drive`` over ``items`` with no callbacks and no transport guard."""
    exchange = Exchange(content_type="text/event-stream")  # NUL framing ignores it
    run = StreamRun(framing, decoder, make, exchange, framing.provider)
    return drive(items, run, None, lambda _progress: contextlib.nullcontext())

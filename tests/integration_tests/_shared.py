"""One emulator shared by the standard suites (started on first use)."""

import atexit
from typing import Any, TypeVar, cast

from langchain_ffm_friendli.testing import Emulator

_EMULATOR: Emulator | None = None


def shared_emulator() -> Emulator:
    """The session-wide emulator that the standard test classes point at."""
    global _EMULATOR  # noqa: PLW0603
    if _EMULATOR is None:
        _EMULATOR = Emulator()
        _EMULATOR.start()
        atexit.register(_EMULATOR.stop)
    return _EMULATOR


def function_tool(
    name: str,
    properties: dict[str, Any],
    required: list[str],
    description: str | None = None,
) -> dict[str, Any]:
    """An OpenAI-style ``{"type": "function", ...}`` tool definition for raw request bodies."""
    function: dict[str, Any] = {"name": name}
    if description is not None:
        function["description"] = description
    function["parameters"] = {"type": "object", "properties": properties, "required": required}
    return {"type": "function", "function": function}


def sse_events(
    raw: bytes, *, line_break: str | None = None, default_event: str | None = None
) -> list[tuple[str | None, str]]:
    """A strict SSE parser: (event name, data) per dispatched event; comments skipped.

    ``line_break="\\r\\n"`` accepts only CRLF line ends (a bare LF stays inside a line);
    None accepts CRLF and LF. An event without an ``event:`` field gets ``default_event``.
    """
    text = raw.decode("utf-8")
    lines = text.split(line_break) if line_break else text.replace("\r\n", "\n").split("\n")
    events: list[tuple[str | None, str]] = []
    event, data = default_event, []
    for line in lines:
        if line == "":
            if data:
                events.append((event, "\n".join(data)))
            event, data = default_event, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    return events


def undecodable_chunks(chunks: list[bytes]) -> int:
    """How many socket reads are not valid UTF-8 on their own (a character cut in two)."""
    count = 0
    for chunk in chunks:
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            count += 1
    return count


ClientT = TypeVar("ClientT")


def on_emulator(
    cls: type[ClientT], emu: Emulator, base_url: str, model: str, /, **kw: Any
) -> ClientT:
    """One of the package's classes on the emulator, with retry sleeps skipped.

    ``base_url`` is the emulator URL of the class's provider (``emu.ffm_base_url`` ...);
    ``kw`` adds constructor arguments or overrides model, base_url and api_key.
    """
    client: Any = cls(**{"model": model, "base_url": base_url, "api_key": emu.api_key, **kw})
    client.transport.sleep = lambda _s: None
    return cast(ClientT, client)

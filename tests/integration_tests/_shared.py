"""One emulator shared by the standard suites (started on first use)."""

import atexit

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

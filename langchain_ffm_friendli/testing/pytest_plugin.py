"""Pytest fixtures that provide a running :class:`Emulator`.

Register with ``pytest_plugins = ["langchain_ffm_friendli.testing.pytest_plugin"]`` (or
the package's ``pytest11`` entry point). ``emulator`` gives each test its own fresh
server, so queued items, the request log and connection counts never leak between
tests; ``emulator_session`` shares one server for a whole session (call ``reset()``
yourself when you need a clean slate).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._emulator import Emulator

__all__ = ["emulator", "emulator_session"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A started emulator owned by one test (stopped afterwards).

    Yields:
        The emulator, with an empty queue and request log.
    """
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[Emulator]:
    """One started emulator shared by the whole test session.

    Yields:
        The shared emulator.
    """
    with Emulator() as emu:
        yield emu

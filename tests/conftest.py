"""Emulator fixtures shared by the test suites (the integration tests use them).

Each emulator listens on loopback (127.0.0.1, a free port) and is stopped when the
fixture ends. These are plain fixtures: the opt-in ``lcff_`` pytest plugin in
``langchain_ffm_friendli.testing`` is not enabled here.
"""

from collections.abc import Iterator

import pytest

from langchain_ffm_friendli.testing import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A fresh emulator per test: empty queue, empty request log."""
    with Emulator() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def module_emu() -> Iterator[Emulator]:
    """One emulator for a whole module, for suites whose tests do not script it per test."""
    with Emulator() as emulator:
        yield emulator

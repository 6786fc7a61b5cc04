"""Opt-in pytest fixtures that provide a running :class:`Emulator`.

Enable them in a ``conftest.py`` (or a test module) with::

    pytest_plugins = ["langchain_ffm_friendli.testing.pytest_plugin"]

The plugin is not registered automatically (no ``pytest11`` entry point): installing the
package must not make every pytest session import the emulator, nor claim generic
fixture names. The fixtures carry the ``lcff_`` prefix (langchain-ffm-friendli):

* ``lcff_emulator`` gives each test its own fresh, strict server: queued items, the
  request log and connection counts never leak between tests, and a test that leaves
  queued replies or faults unused fails (see :meth:`Emulator.assert_all_consumed`).
* ``lcff_emulator_session`` shares one server for a whole session (call ``reset()``
  yourself when you need a clean slate).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._emulator import Emulator

__all__ = ["lcff_emulator", "lcff_emulator_session"]


@pytest.fixture
def lcff_emulator() -> Iterator[Emulator]:
    """A started, strict emulator owned by one test (stopped afterwards).

    Yields:
        The emulator, with an empty queue and request log.
    """
    with Emulator(strict=True) as emu:
        yield emu


@pytest.fixture(scope="session")
def lcff_emulator_session() -> Iterator[Emulator]:
    """One started emulator shared by the whole test session.

    Yields:
        The shared emulator.
    """
    with Emulator() as emu:
        yield emu

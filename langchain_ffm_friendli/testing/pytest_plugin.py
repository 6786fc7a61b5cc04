"""Opt-in pytest fixtures that provide a running emulator.

Enable them in a ``conftest.py`` (or a test module) with::

    pytest_plugins = ["langchain_ffm_friendli.testing.pytest_plugin"]

The plugin is not registered automatically (no ``pytest11`` entry point): installing the
package must not make every pytest session import the emulator, nor claim generic
fixture names. The fixtures carry the ``lcff_`` prefix (langchain-ffm-friendli):

* ``lcff_emulator`` gives each test its own fresh, strict emulator: queued items and
  the request log never leak between tests, and a test that leaves queued replies or
  faults unused fails (see :meth:`Emulator.assert_all_consumed`).
* ``lcff_emulator_session`` shares one emulator for a whole session (call ``reset()``
  yourself when you need a clean slate).

By default each fixture starts an :class:`Emulator` in the test process. When the app
under test runs in another process, start the standalone server
(``python -m langchain_ffm_friendli.testing``), point the app at it with the variables
it prints, and point the plugin at it with ``LCFF_EMULATOR_URL`` (one of those
variables) or ``--lcff-emulator-url URL``: the fixtures are then an
:class:`EmulatorClient` for that server (the scripting methods of :class:`Emulator`),
and ``lcff_emulator`` resets the server before each test and checks that its queue was
used up afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ._client import URL_ENV, EmulatorClient
from ._emulator import Emulator

__all__ = ["lcff_emulator", "lcff_emulator_session", "pytest_addoption"]

_OPTION = "--lcff-emulator-url"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--lcff-emulator-url`` (a running emulator to use instead of one per test).

    Args:
        parser: pytest's option parser.
    """
    parser.getgroup("lcff").addoption(
        _OPTION,
        default=None,
        metavar="URL",
        help=f"use the emulator running at URL (default: ${URL_ENV}, else start one per test)",
    )


def _remote_url(config: pytest.Config) -> str | None:
    """The running emulator to use: the option, else the environment, else None."""
    option = config.getoption(_OPTION, default=None)
    return str(option) if option else os.environ.get(URL_ENV) or None


@pytest.fixture
def lcff_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator | EmulatorClient]:
    """A fresh, strict emulator for one test.

    In-process: started for the test, stopped afterwards. Remote (``LCFF_EMULATOR_URL``
    or ``--lcff-emulator-url``): the server is reset before the test, its queue must be
    used up after it, and it is reset again.

    Yields:
        The emulator (or the client of the remote one), with an empty queue and log.
    """
    url = _remote_url(request.config)
    if url is None:
        with Emulator(strict=True) as emu:
            yield emu
        return
    client = EmulatorClient(url)
    client.reset()
    yield client
    try:
        client.assert_all_consumed()
    finally:
        client.reset()


@pytest.fixture(scope="session")
def lcff_emulator_session(
    request: pytest.FixtureRequest,
) -> Iterator[Emulator | EmulatorClient]:
    """One emulator shared by the whole test session (the remote one when configured).

    Yields:
        The shared emulator, or the client of the remote one.
    """
    url = _remote_url(request.config)
    if url is not None:
        yield EmulatorClient(url)
        return
    with Emulator() as emu:
        yield emu

"""Run the emulator as a standalone server: ``python -m langchain_ffm_friendli.testing``.

Apps in another process or language (a Node service, a curl script, a container in CI)
can then test against the same emulator as Python tests. It serves all three providers
until interrupted (Ctrl-C / SIGINT or SIGTERM) and prints the base URLs and the key to
use, as environment variable lines a shell can ``export`` (each one is read by the
package: the provider classes, :class:`EmulatorClient` and the pytest plugin)::

    python -m langchain_ffm_friendli.testing --port 8787

Tests script it through the control API under ``/_emulator/`` on the same port, which
needs no key: it is a test tool, bound to loopback unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._client import URL_ENV
from ._emulator import Emulator

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    """The command line options."""
    parser = argparse.ArgumentParser(
        prog="python -m langchain_ffm_friendli.testing",
        description="Serve the FFM, Friendli and MonsterAPI emulator until interrupted.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface (default 127.0.0.1; the control API has no key, keep it off networks)",
    )
    parser.add_argument("--port", type=int, default=8787, help="port; 0 picks a free one")
    parser.add_argument("--api-key", default="emulator-key", help="the key to accept")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="service time per answer, in seconds"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="ID",
        help="accept this model id besides the documented ones (repeatable)",
    )
    parser.add_argument(
        "--accept-unknown-models",
        action="store_true",
        help="accept any model id instead of the providers' not-found answers",
    )
    return parser


def banner(emu: Emulator) -> str:
    """What the server prints once it listens: URLs and key as env var lines.

    Args:
        emu: The started emulator.

    Returns:
        The text (one ``NAME=value`` per line after the first).
    """
    key = emu.api_key
    urls = emu.base_urls
    lines = [
        f"langchain_ffm_friendli emulator listening on {emu.url} (Ctrl-C to stop)",
        f"FFM_BASE_URL={urls['FFM_BASE_URL']}",
        f"FFM_API_KEY={key}",
        f"FRIENDLI_BASE_URL={urls['FRIENDLI_BASE_URL']}",
        f"FRIENDLI_DEDICATED_BASE_URL={urls['FRIENDLI_DEDICATED_BASE_URL']}",
        f"FRIENDLI_CONTAINER_BASE_URL={urls['FRIENDLI_CONTAINER_BASE_URL']}",
        f"FRIENDLI_TOKEN={key}",
        f"MONSTER_API_BASE={urls['MONSTER_API_BASE']}",
        f"MONSTER_API_KEY={key}",
        f"{URL_ENV}={emu.url}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM.

    Args:
        argv: Command line arguments (``sys.argv[1:]`` when None).

    Returns:
        The exit status (0 after a clean shutdown).
    """
    options = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    emu = Emulator(
        api_key=options.api_key,
        latency=options.latency,
        models=options.model,
        accept_unknown_models=options.accept_unknown_models,
        host=options.host,
        port=options.port,
    )
    try:
        emu.start()
        sys.stdout.write(banner(emu) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stdout.write("emulator stopped\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The emulator in its own process, so client and server do not share a GIL.

The server process is started with ``python -m benchmarks._server``; it prints
its root URL and serves until its stdin closes. Its request log is cleared every
half second, so a long benchmark does not grow the server's memory (the log is
the only state that grows per request).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

API_KEY = "bench-key"


@contextlib.contextmanager
def emulator_process(latency: float = 0.0) -> Iterator[str]:
    """Run the emulator in a subprocess; yield its root URL (``http://127.0.0.1:PORT``)."""
    with server_process("benchmarks._server", str(latency)) as url:
        yield url


@contextlib.contextmanager
def server_process(module: str, *args: str) -> Iterator[str]:
    """Run ``python -m module *args`` and yield the URL it prints.

    The server serves until its stdin closes.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError(f"the emulator process did not start (got {url!r})")
        yield url
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve(latency: float) -> None:
    from langchain_ffm_friendli.testing import Emulator

    emu = Emulator(api_key=API_KEY, latency=latency).start()

    def forget() -> None:
        while True:
            time.sleep(0.5)
            emu.reset()

    threading.Thread(target=forget, daemon=True).start()
    print(emu.url, flush=True)
    sys.stdin.read()
    emu.stop()


if __name__ == "__main__":
    _serve(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)

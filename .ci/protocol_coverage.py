"""Fail when a provider ``_protocol.py`` has < 90% branch coverage from the unit tests.

Reads the JSON report of ``pytest --cov-branch --cov-report=json:PATH`` (``make unit``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FLOOR = 90.0


def main(report: str) -> int:
    """Print each protocol module's branch coverage; non-zero exit below the floor."""
    files = json.loads(Path(report).read_text(encoding="utf-8"))["files"]
    failed = False
    protocols = {k: v for k, v in files.items() if k.endswith("_protocol.py")}
    if not protocols:
        print("no _protocol.py in the coverage report")
        return 1
    for name, data in sorted(protocols.items()):
        summary = data["summary"]
        total = summary["num_branches"] or 1
        percent = 100.0 * summary["covered_branches"] / total
        ok = percent >= FLOOR
        failed |= not ok
        print(f"{name}: {percent:.1f}% of {total} branches {'ok' if ok else f'< {FLOOR}%'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

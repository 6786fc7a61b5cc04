"""Run docs pages' Python blocks in a fresh interpreter, against an emulator.

``python -m tests.integration_tests._run_page REPORT MODULE,... PAGE [PAGE ...]`` runs each
page's Python blocks in order in a namespace of the page's own (like a notebook), with top-level
``await`` allowed, while the provider env vars point every class at an emulator in this
process, and writes a JSON report to REPORT: per page, how many blocks ran and the first failure
(block and traceback), if any.

The listed top-level modules cannot be imported (``ModuleNotFoundError``, as if not
installed): the caller lists those of every distribution the readers of these pages would not
have, so a page that needs numpy without saying so fails, while an optional import (a
``try: import langgraph`` in a library) takes its not-installed path, as it would for the
reader. The caller runs together only pages whose readers have the same distributions, in an
interpreter of their own, so nothing loaded by other pages or tests hides a missing install
instruction.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import sys
import traceback
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

#: The message of the error a blocked import raises, so the caller can recognize it.
NOT_INSTALLED = "not installed for this page"


class NotInstalled:
    """A meta path finder that makes the given top-level modules unimportable."""

    def __init__(self, modules: frozenset[str]) -> None:
        self.modules = modules

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """Refuse a blocked module the way a missing one is refused; defer everything else."""
        del path, target
        if name.partition(".")[0] in self.modules:
            raise ModuleNotFoundError(f"No module named {name!r} ({NOT_INSTALLED})", name=name)
        return None


def run_python(code: str, namespace: dict[str, Any]) -> None:
    """Run a block as asyncio's REPL would: top-level ``await`` allowed."""
    # dont_inherit: this module's `from __future__ import annotations` is not the reader's
    compiled = compile(
        code, "<docs>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    result = eval(compiled, namespace)  # our own docs
    if asyncio.iscoroutine(result):
        asyncio.run(result)


def main(report: Path, blocked: frozenset[str], pages: list[Path]) -> None:
    """Run the pages with ``blocked`` unimportable and write the report.

    The blocker goes in before anything else is imported: a runtime dependency's optional
    import (httpx loads its command line's click, rich and pygments when they happen to be
    installed) then takes its not-installed path, as it does for a reader.
    """
    already = blocked & {name.partition(".")[0] for name in list(sys.modules)}
    assert not already, f"loaded before the page ran, so they cannot be blocked: {already}"
    sys.meta_path.insert(0, NotInstalled(blocked))
    from langchain_ffm_friendli.testing import Emulator
    from tests.doc_pages import python_blocks

    outcomes: dict[str, dict[str, Any]] = {}
    with Emulator() as emu:
        os.environ.update(
            {
                "FFM_API_KEY": emu.api_key,
                "FFM_BASE_URL": emu.ffm_base_url,
                "FRIENDLI_TOKEN": emu.api_key,
                "FRIENDLI_BASE_URL": emu.friendli_base_url,
                "MONSTER_API_KEY": emu.api_key,
                "MONSTER_API_BASE": emu.monsterapi_base_url,
                "LCFF_EMULATOR_URL": emu.url,
            }
        )
        for page in pages:
            outcome: dict[str, Any] = {"ran": 0, "failure": None}
            namespace: dict[str, Any] = {"__name__": "__docs__"}
            for code in python_blocks(page):
                try:
                    run_python(code, namespace)
                except BaseException:
                    outcome["failure"] = {"block": code, "traceback": traceback.format_exc()}
                    break
                outcome["ran"] += 1
            outcomes[str(page)] = outcome
    report.write_text(json.dumps(outcomes))


if __name__ == "__main__":
    blocked = frozenset(filter(None, sys.argv[2].split(",")))
    main(Path(sys.argv[1]), blocked, [Path(arg) for arg in sys.argv[3:]])

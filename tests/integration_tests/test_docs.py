"""Every code block in docs/ and README.md runs, against the emulator.

Python blocks of one page run in order in one namespace (like a notebook), with
top-level ``await`` allowed. The provider env vars point every class at the
emulator (and ``LCFF_EMULATOR_URL`` at its control API), so the snippets are
exactly what a user types. Shell blocks may only use the project's real commands
(checked, and the demo is run by test_demo.py). The blocks of docs/emulator.md
that only make sense across processes (the app file, its tests, the curl lines
and commands) are also run for real by test_emulator_processes.py.
"""

import ast
import asyncio
import os
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from langchain_ffm_friendli.testing import Emulator

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL_OK = re.compile(
    r"^(\s*#.*|\s*|pip install .*|uv add .*|export [A-Z_]+=.*|make (demo|test|bench)(\s+#.*)?"
    r"|python -m langchain_ffm_friendli demo.*|python -m langchain_ffm_friendli\.testing.*"
    r"|curl -s http://127\.0\.0\.1:8787/.*|git clone .*|cd .*|pytest.*|uvicorn .*)$"
)


def blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1).lower(), m.group(2)) for m in FENCE.finditer(page.read_text())]


def test_there_are_docs_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    for required in (
        "README.md",
        "docs/configuration.md",
        "docs/emulator.md",
        "docs/serialization.md",
        "docs/migration.md",
        "docs/providers/ffm.md",
        "docs/providers/friendli.md",
        "docs/providers/monsterapi.md",
        "docs/chat/ffm.md",
        "docs/chat/friendli.md",
        "docs/chat/monsterapi.md",
        "docs/llms/ffm.md",
        "docs/llms/friendli.md",
        "docs/llms/monsterapi.md",
        "docs/text_embedding/ffm.md",
    ):
        assert required in names


def run_python(code: str, namespace: dict[str, Any]) -> None:
    compiled = compile(code, "<docs>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(compiled, namespace)  # our own docs
    if asyncio.iscoroutine(result):
        asyncio.run(result)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_code_block_runs(page: Path, module_emu: Emulator) -> None:
    env = {
        "FFM_API_KEY": module_emu.api_key,
        "FFM_BASE_URL": module_emu.ffm_base_url,
        "FRIENDLI_TOKEN": module_emu.api_key,
        "FRIENDLI_BASE_URL": module_emu.friendli_base_url,
        "MONSTER_API_KEY": module_emu.api_key,
        "MONSTER_API_BASE": module_emu.monsterapi_base_url,
        "LCFF_EMULATOR_URL": module_emu.url,
    }
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    ran = 0
    with mock.patch.dict(os.environ, env):
        for language, code in blocks(page):
            if language in ("python", "py"):
                try:
                    run_python(code, namespace)
                except Exception as exc:  # pragma: no cover - the message is the point
                    pytest.fail(f"{page.name}: block failed: {exc!r}\n{code}")
                ran += 1
            elif language in ("bash", "sh", "shell", "console"):
                for line in code.splitlines():
                    assert SHELL_OK.match(line), f"{page.name}: unexpected shell line {line!r}"
    if page.name != "benchmarks.md":  # generated tables, no code
        assert ran, f"{page.name} has no runnable example"

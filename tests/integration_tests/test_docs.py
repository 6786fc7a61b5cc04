"""Every code block in docs/ and README.md runs, against the emulator, in a fresh interpreter.

Python blocks of one page run in order in one namespace (like a notebook), with top-level
``await`` allowed, in a fresh interpreter per page (``_run_page``) whose provider env vars
point every class at an emulator, so the snippets are exactly what a user types. The
distributions that interpreter loaded must come with the package or be named by a
``pip install`` on the page: a page that needs numpy or langgraph says so. Shell blocks may only
use the project's real commands (checked, and the demo is run by test_demo.py).
``LCFF_EMULATOR_URL`` points at the emulator's control API. The blocks of docs/emulator.md
that only make sense across processes (the app file, its tests, the curl lines and commands)
are also run for real by test_emulator_processes.py.
"""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.doc_pages import (
    PAGES,
    ROOT,
    allowed_distributions,
    blocks,
    module_owners,
    named_distributions,
    project_distributions,
    python_blocks,
    rel,
)
from tests.integration_tests._run_page import NOT_INSTALLED

SHELL_OK = re.compile(
    r"^(\s*#.*|\s*|pip install .*|uv add .*|export [A-Z_]+=.*"
    r"|make (demo|test|test-pythons|bench|dist)(\s+#.*)?"
    r"|python -m langchain_ffm_friendli demo.*|python -m langchain_ffm_friendli\.testing.*"
    r"|curl -s http://127\.0\.0\.1:8787/.*|git clone .*|cd .*|pytest.*|uvicorn .*)$"
)


def test_there_are_docs_to_check() -> None:
    names = {rel(p) for p in PAGES}
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


def not_installed(page: Path) -> list[str]:
    """Top-level modules of the project's distributions that this page's reader lacks."""
    allowed = allowed_distributions(page)
    return sorted(
        module
        for module, owners in module_owners().items()
        if owners & project_distributions() and not owners & allowed
    )


def run_pages(pages: list[Path], workdir: Path) -> dict[Path, dict[str, object]]:
    """Run pages whose readers have the same distributions in one fresh interpreter."""
    blocked = {tuple(not_installed(page)) for page in pages}
    assert len(blocked) == 1, "only pages with the same missing distributions share a process"
    report = workdir / f"{abs(hash(tuple(pages)))}.json"
    command = [sys.executable, "-m", "tests.integration_tests._run_page", str(report)]
    done = subprocess.run(
        [*command, ",".join(blocked.pop()), *map(str, pages)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{pages}: the runner failed\n{done.stdout}\n{done.stderr}"
    outcomes: dict[str, dict[str, object]] = json.loads(report.read_text())
    return {page: outcomes[str(page)] for page in pages}


def run_page(page: Path, workdir: Path) -> dict[str, object]:
    """Run one page in a fresh interpreter and return its outcome."""
    return run_pages([page], workdir)[page]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, dict[str, object]]:
    """Every page with examples, run once.

    Pages whose readers lack the same distributions share an interpreter (anything one of them
    loads, the others' readers have too); the groups run a few at a time.
    """
    workdir = tmp_path_factory.mktemp("docs")
    groups: dict[tuple[str, ...], list[Path]] = {}
    for page in PAGES:
        if python_blocks(page):
            groups.setdefault(tuple(not_installed(page)), []).append(page)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = pool.map(lambda group: run_pages(group, workdir), groups.values())
        return {page: outcome for result in results for page, outcome in result.items()}


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_every_code_block_runs(page: Path, reports: dict[Path, dict[str, object]]) -> None:
    for language, code in blocks(page):
        if language in ("bash", "sh", "shell", "console"):
            for line in code.splitlines():
                assert SHELL_OK.match(line), f"{page.name}: unexpected shell line {line!r}"
    if not python_blocks(page):
        # generated tables; the maintainers' protocol references show wire formats, not code
        assert page.name == "benchmarks.md" or "protocols" in page.parts, f"{rel(page)}: no example"
        return
    report = reports[page]
    failure = report["failure"]
    if failure:
        assert isinstance(failure, dict)
        hint = ""
        if NOT_INSTALLED in failure["traceback"] or "pip install" in failure["traceback"]:
            named = sorted(named_distributions(page))
            hint = (
                "\n(the examples need a distribution that neither the package brings nor a "
                f"`pip install` on the page names; the page names {named})"
            )
        pytest.fail(f"{rel(page)}: block failed:\n{failure['traceback']}\n{failure['block']}{hint}")
    assert report["ran"] == len(python_blocks(page))


RETRIEVAL = """```python
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import InMemoryVectorStore


class Lengths(Embeddings):
    def embed_documents(self, texts):
        return [[1.0, float(len(t))] for t in texts]

    def embed_query(self, text):
        return [1.0, float(len(text))]


store = InMemoryVectorStore.from_texts(["a", "bb"], Lengths())
print(store.similarity_search("a", k=1)[0].page_content)
```
"""


def test_a_page_that_needs_an_unnamed_distribution_fails(tmp_path: Path) -> None:
    """The check above can fail: a retrieval example needs numpy, which the package lacks."""
    page = tmp_path / "page.md"
    page.write_text(RETRIEVAL)
    assert "numpy" in not_installed(page)
    failure = run_page(page, tmp_path)["failure"]
    assert isinstance(failure, dict)
    assert "requires numpy" in failure["traceback"]

    page.write_text("```bash\npip install numpy\n```\n\n" + RETRIEVAL)
    assert "numpy" not in not_installed(page)
    assert run_page(page, tmp_path)["failure"] is None

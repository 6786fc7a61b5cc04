"""Each docs page tells its reader what to install and where its ``await`` examples run.

A page's examples may import what the package brings (its runtime dependencies and theirs) or
what a ``pip install`` on that page names; anything else is an install instruction missing
(tests/integration_tests/test_docs.py then runs each page with exactly those installed). The
package is not on PyPI yet, so the index install line must say "once released" wherever it is.
"""

import re
from pathlib import Path

import pytest

from tests.doc_pages import (
    PACKAGE,
    PAGES,
    ROOT,
    allowed_distributions,
    distributions_of,
    imported_modules,
    python_blocks,
    rel,
    uses_top_level_await,
)
from tests.markdown_links import links

EXAMPLE_PAGES = [p for p in PAGES if python_blocks(p)]
AWAIT_PAGES = [p for p in EXAMPLE_PAGES if any(map(uses_top_level_await, python_blocks(p)))]
INDEX_LINE = re.compile(r"pip install '?langchain-ffm-friendli\b")


def unnamed_imports(page: Path) -> dict[str, list[str]]:
    """Modules the page's examples import whose distribution the reader may not have."""
    allowed = allowed_distributions(page)
    missing = {}
    for code in python_blocks(page):
        for module in imported_modules(code):
            owners = distributions_of(module)
            if owners and not owners & allowed:
                missing[module] = sorted(owners)
    return missing


def test_the_pages_with_examples_are_checked() -> None:
    assert len(EXAMPLE_PAGES) >= 17
    assert {"docs/agents.md", "docs/text_embedding/ffm.md"} <= {rel(p) for p in EXAMPLE_PAGES}
    assert len(AWAIT_PAGES) >= 7


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=rel)
def test_every_page_says_how_to_install_the_package(page: Path) -> None:
    if page.name == "README.md":
        assert "## Install" in page.read_text()
    else:
        assert any(t.endswith("README.md#install") for t in links(page.read_text())), rel(page)


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=rel)
def test_examples_import_only_what_the_package_brings_or_the_page_names(page: Path) -> None:
    missing = unnamed_imports(page)
    assert not missing, f"{rel(page)} imports {missing} without a `pip install` for it"


@pytest.mark.parametrize("page", AWAIT_PAGES, ids=rel)
def test_pages_with_top_level_await_say_where_it_runs(page: Path) -> None:
    text = " ".join(page.read_text().split())
    assert "python -m asyncio" in text, rel(page)
    assert "Jupyter" in text, rel(page)
    assert "asyncio.run(" in text, rel(page)


def test_an_unnamed_import_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    code = "```python\nfrom langgraph.graph import StateGraph\nimport httpx, json\n```\n"
    page.write_text(code)
    assert set(unnamed_imports(page)) == {"langgraph"}  # httpx is a runtime dependency
    page.write_text("```bash\npip install langgraph\n```\n\n" + code)
    assert unnamed_imports(page) == {}
    page.write_text("Run it in a checkout: `pip install '.[demo]'`.\n\n" + code)
    assert unnamed_imports(page) == {}  # the demo extra brings langchain, which needs langgraph


def test_top_level_await_is_recognized() -> None:
    assert uses_top_level_await("x = await llm.ainvoke('hi')\n")
    assert uses_top_level_await("async for chunk in llm.astream('hi'):\n    print(chunk)\n")
    assert not uses_top_level_await("async def main():\n    await llm.ainvoke('hi')\n")


def _index_line_places() -> list[tuple[Path, int, list[str]]]:
    files = [
        *PAGES,
        ROOT / "CONTRIBUTING.md",
        *sorted((ROOT / PACKAGE.replace("-", "_")).rglob("*.py")),
    ]
    places = []
    for path in files:
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if INDEX_LINE.search(line):
                places.append((path, number + 1, lines[max(0, number - 3) : number + 1]))
    return places


def test_the_index_install_line_is_always_marked_once_released() -> None:
    places = _index_line_places()
    assert len(places) >= 10
    unmarked = [
        f"{path.relative_to(ROOT)}:{number}"
        for path, number, context in places
        if not re.search(r"once (it is )?released", " ".join(context), re.IGNORECASE)
    ]
    assert not unmarked, f"`pip install langchain-ffm-friendli` without 'once released': {unmarked}"

"""Every protocol citation in the repository resolves to a numbered section of docs/protocols/.

Code, tests and docs justify a rule with ``protocols/<provider>.md §<section>`` (CONTRIBUTING.md,
docs/protocols/README.md). This test reads every text file of the package, the tests, the docs, the
benchmarks, .ci and the top-level files, and fails on a citation whose page does not exist, whose
section is not a heading of that page, or which names no page at all, and on any reference to the
notes outside the repository that the protocol pages replaced.

How a ``§`` is matched: the number after it (``§2``, ``§1.6.2``) is the section; the page is the
nearest ``<name>.md`` before it on the same line, or else on the line before (so ``friendli.md
§2.3,\\n  §2.8`` and ``protocols/ffm.md §1.4, §6.1`` resolve both sections). The short forms
``ffm.md §1.4``, ``protocols/ffm.md`` in double backticks and ``docs/protocols/ffm.md §1.4`` are
read the same way as the canonical one, so code written before the canonical form still resolves.
Inside a protocol page, a bare ``§1.4`` is a section of that page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = ROOT / "docs" / "protocols"
SCANNED_DIRS = ("langchain_ffm_friendli", "tests", "docs", "benchmarks", ".ci")
SCANNED_FILES = ("README.md", "CONTRIBUTING.md", "CHANGELOG.md", "Makefile", "pyproject.toml")
SKIPPED_SUFFIXES = {".png", ".jpg", ".gif", ".pyc", ".json", ".ambr"}
SECTION_SIGN = "\N{SECTION SIGN}"
SECTION = re.compile(SECTION_SIGN + r"[ \t]?(\d+(?:\.\d+)*)")
PAGES = sorted(p.stem for p in PROTOCOLS.glob("*.md") if p.stem != "README")
#: A page name: any ``protocols/<name>.md``, or a known page's bare ``<name>.md``.
PAGE = re.compile(
    r"(?<![\w.-])(?:docs/)?(?:protocols/([A-Za-z0-9_-]+)|(" + "|".join(PAGES) + r"))\.md\b"
)
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
#: The team's notes the protocol pages replaced, and the vendor pages kept beside them.
OUTSIDE = re.compile(r"shared/protocols|/work/shared|\bseeds/|\bseed 00\d\b", re.IGNORECASE)


@dataclass(frozen=True)
class Citation:
    """One ``§`` in a file: where it is, the page it resolves to (if any) and its section."""

    path: Path
    line: int
    page: str | None
    section: str | None

    def __str__(self) -> str:
        where = f"{self.path.relative_to(ROOT)}:{self.line}"
        return f"{where}: {self.page or '?'}.md {SECTION_SIGN}{self.section or '?'}"


def scanned_files() -> list[Path]:
    """Every text file the citation rule covers (this test file excepted: it has examples)."""
    files = [ROOT / name for name in SCANNED_FILES if (ROOT / name).is_file()]
    for directory in SCANNED_DIRS:
        for path in sorted((ROOT / directory).rglob("*")):
            if (
                path.is_file()
                and path.suffix not in SKIPPED_SUFFIXES
                and "__pycache__" not in path.parts
                and path.resolve() != Path(__file__).resolve()
            ):
                files.append(path)
    return files


def sections(page: str) -> set[str]:
    """The section numbers a protocol page defines (the numbers that start its headings)."""
    path = PROTOCOLS / f"{page}.md"
    return set(HEADING.findall(path.read_text())) if path.is_file() else set()


def citations(path: Path, text: str) -> list[Citation]:
    """Every ``§`` of the text with the page and section it resolves to."""
    own_page = path.stem if path.parent == PROTOCOLS else None
    found = []
    for match in re.finditer(SECTION_SIGN, text):
        start = match.start()
        line_start = text.rfind("\n", 0, start) + 1
        window_start = text.rfind("\n", 0, max(line_start - 1, 0)) + 1 if line_start else 0
        previous = text[window_start:line_start]
        here = text[line_start:start]
        pages = PAGE.findall(here) or (PAGE.findall(previous) if previous.strip() else [])
        page = "".join(pages[-1]) if pages else own_page
        number = SECTION.match(text, start)
        found.append(
            Citation(
                path, text.count("\n", 0, start) + 1, page, number.group(1) if number else None
            )
        )
    return found


def problems(path: Path, text: str) -> list[str]:
    """What is wrong with the file's citations (empty when every one resolves)."""
    found = []
    for citation in citations(path, text):
        if citation.page is None:
            found.append(
                f"{citation}: names no page (write protocols/<provider>.md {SECTION_SIGN}N)"
            )
        elif not (PROTOCOLS / f"{citation.page}.md").is_file():
            found.append(f"{citation}: no page docs/protocols/{citation.page}.md")
        elif citation.section is None:
            found.append(f"{citation}: no section number after {SECTION_SIGN}")
        elif citation.section not in sections(citation.page):
            found.append(f"{citation}: docs/protocols/{citation.page}.md has no such section")
    for match in PAGE.finditer(text):
        name = match.group(1) or match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        if not (PROTOCOLS / f"{name}.md").is_file() and not any(
            f":{line}: " in f and f"docs/protocols/{name}.md" in f for f in found
        ):
            found.append(f"{path.relative_to(ROOT)}:{line}: no page {match.group(0)}")
    for match in OUTSIDE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.append(
            f"{path.relative_to(ROOT)}:{line}: {match.group(0)!r} points outside the repository; "
            "cite docs/protocols/ instead"
        )
    return found


FILES = scanned_files()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        return ""


def test_the_protocol_pages_exist_and_are_numbered() -> None:
    assert PAGES == ["ffm", "friendli", "monsterapi"]
    for page in PAGES:
        assert {"0", "0.1", "0.2", "0.3", "1", "2"} <= sections(page), page


def test_the_whole_repository_is_scanned() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert "langchain_ffm_friendli/_profiles.py" in names
    assert "tests/unit_tests/test_ffm_protocol.py" in names
    assert "docs/emulator.md" in names
    assert ".ci/run" in names
    total = sum(len(citations(p, _read(p))) for p in FILES)
    assert total > 150  # the package, tests and docs cite the pages throughout


@pytest.mark.parametrize(
    "path", [p for p in FILES if SECTION_SIGN in _read(p) or "protocols/" in _read(p)], ids=str
)
def test_every_citation_resolves(path: Path) -> None:
    found = problems(path, _read(path))
    assert not found, "\n".join(found)


def test_a_dangling_citation_is_reported(tmp_path: Path) -> None:
    path = ROOT / "tests" / "example.py"  # a name under ROOT, for the messages; never written
    sign = SECTION_SIGN
    cases = {
        f"# protocols/ffm.md {sign}1.4: the parameters": [],
        f"# protocols/ffm.md {sign}1.4, {sign}6.1 and friendli.md {sign}2.8": [],
        f"x = 1  # friendli.md {sign}2.3,\n#   {sign}2.8)": [],
        f"# ``protocols/monsterapi.md`` {sign}5 rule 2": [],
        f"# protocols/ffm.md {sign}99.1": ["has no such section"],
        f"# protocols/nowhere.md {sign}1": ["no page docs/protocols/nowhere.md"],
        f"# {sign}1.4 without a page": ["names no page"],
        f"# protocols/ffm.md {sign}N": ["no section number"],
        "See shared/protocols/ffm.md": ["points outside the repository"],
        "# seed 001: num_beams": ["points outside the repository"],
        "See docs/protocols/absent.md": ["no page docs/protocols/absent.md"],
    }
    for text, expected in cases.items():
        reported = problems(path, text)
        assert len(reported) == len(expected), (text, reported)
        for message, fragment in zip(reported, expected, strict=True):
            assert fragment in message, (text, message)


def test_inside_a_protocol_page_a_bare_section_is_that_page() -> None:
    page = PROTOCOLS / "ffm.md"
    assert problems(page, f"see {SECTION_SIGN}1.6.2 for the pings") == []
    assert problems(page, f"see {SECTION_SIGN}42") != []

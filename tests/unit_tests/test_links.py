"""Every relative link in the repository's Markdown resolves, anchors included.

The README and docs link to each other and to headings; a renamed page or heading must not leave
a dead link. Anchors are GitHub's heading slugs (what the links are written against).
"""

from pathlib import Path

import pytest

from tests.markdown_links import ROOT, anchors, broken, links, markdown_files, slug

FILES = markdown_files()


def test_the_pages_that_matter_are_checked() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in FILES}
    assert {"README.md", "CONTRIBUTING.md", "CHANGELOG.md", "docs/configuration.md"} <= names
    assert {"docs/protocols/ffm.md", "docs/protocols/friendli.md"} <= names
    assert sum(len(links(p.read_text())) for p in FILES) > 50


@pytest.mark.parametrize("page", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    problems = [reason for target in links(page.read_text()) if (reason := broken(page, target))]
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        # What GitHub renders for these headings (its slugger: lowercase, drop punctuation).
        ('`init_chat_model("friendli:...")`', "init_chat_modelfriendli"),
        (
            "Parameters, `extra_body`, `strict` and tracing",
            "parameters-extra_body-strict-and-tracing",
        ),
        (
            "1.4 `parameters` object: every documented knob",
            "14-parameters-object-every-documented-knob",
        ),
        ("Models, names, context lengths", "models-names-context-lengths"),
        ("Streaming (SSE)", "streaming-sse"),
        ("中文 標題", "中文-標題"),
        ("See [the docs](docs/x.md) now", "see-the-docs-now"),
    ],
)
def test_slugs_are_githubs(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_repeated_headings_get_numbered_anchors() -> None:
    text = '# Notes\n\n## Usage\n\n```\n## not a heading\n```\n\n## Usage\n\n<a id="custom"></a>\n'
    assert anchors(text) == {"notes", "usage", "usage-1", "custom"}


def test_a_dead_link_or_anchor_is_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [gone](missing.md) [bad](other.md#no-section) "
        "[web](https://example.com/x) `[code](not-a-link.md)`\n\n```\n[fenced](nope.md)\n```\n\n"
        "[TAG]: a sentence that only looks like a definition\n\n"
        '[ref]: gone-too.md "a reference definition"\n'
    )
    targets = links(page.read_text())
    assert targets == [
        "other.md#a-section",
        "missing.md",
        "other.md#no-section",
        "https://example.com/x",
        "gone-too.md",
    ]
    reasons = {t: broken(page, t) for t in targets}
    assert reasons["other.md#a-section"] is None
    assert reasons["https://example.com/x"] is None
    assert "no such file" in str(reasons["missing.md"])
    assert "#no-section" in str(reasons["other.md#no-section"])
    assert "no such file" in str(reasons["gone-too.md"])

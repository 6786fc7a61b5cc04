"""Relative links in the repository's Markdown, and GitHub's anchors for headings.

Shared by the link test and the citation test. A link is checked the way GitHub renders it:
the path is relative to the page, and an anchor names a heading by its GitHub slug (lowercase,
punctuation dropped, spaces to hyphens, ``-1``, ``-2``... for repeats) or an explicit
``<a id="...">`` / ``<a name="...">``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
#: ``[label]: destination "optional title"`` alone on its line (CommonMark's definition).
REFERENCE = re.compile(
    r"^[ ]{0,3}\[[^\]]+\]:[ \t]*<?(\S+?)>?(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*$",
    re.MULTILINE,
)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*\b(?:href|src)=\"([^\"]+)\"", re.IGNORECASE)
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s+(?:[^>]*\s)?(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files() -> list[Path]:
    """Every Markdown file of the repository (no virtualenvs, caches or build output)."""
    skip = {"dist", "build", "node_modules"}
    return sorted(
        p
        for p in ROOT.rglob("*.md")
        if not any(part.startswith(".") or part in skip for part in p.relative_to(ROOT).parts)
    )


def prose(text: str) -> str:
    """The text without fenced code blocks and code spans, where links are not links."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)


def links(text: str) -> list[str]:
    """Every link target in the Markdown text, in order (inline, reference and HTML)."""
    body = prose(text)
    found = [(m.start(), m.group(1)) for m in INLINE_LINK.finditer(body)]
    found += [(m.start(), m.group(1)) for m in REFERENCE.finditer(body)]
    found += [(m.start(), m.group(1)) for m in HTML_LINK.finditer(body)]
    return [target for _, target in sorted(found)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (before the ``-N`` suffix of repeats)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text)  # HTML tags do not count
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)  # letters, digits, _, -, space survive
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page defines: heading slugs (repeats numbered) and explicit ids."""
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(FENCE.sub("", text)):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    found |= set(HTML_ANCHOR.findall(text))
    return found


def broken(page: Path, target: str) -> str | None:
    """Why a relative link from ``page`` does not resolve, or None if it does (or is absolute)."""
    if SCHEME.match(target) or target.startswith("//"):
        return None  # an external URL: not checked (no network)
    path_part, _, anchor = target.partition("#")
    path_part = path_part.split("?", 1)[0]
    destination = (page.parent / path_part).resolve() if path_part else page
    if not destination.exists():
        return f"{target}: no such file {os.path.relpath(destination, ROOT)}"
    if anchor and destination.suffix == ".md":
        if anchor not in anchors(destination.read_text()):
            return f"{target}: {destination.name} has no heading or anchor #{anchor}"
    elif anchor and destination.is_dir():
        return f"{target}: an anchor into a directory"
    return None

"""What the docs pages contain and what their examples need, shared by the docs tests.

A page "names" a distribution when one of its ``pip install`` commands (in a shell block or
inline code) installs it. An example may use a distribution the package brings (the runtime
dependencies and everything they need, read from the installed metadata) or one the page
names (and everything that one needs); anything else is a missing install instruction.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "langchain-ffm-friendli"
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PIP_INSTALL = re.compile(r"pip install ([^`\n#]*)")
CODE_SPAN = re.compile(r"(`+)((?:(?!\1).)+?)\1", re.DOTALL)
SHELL_LANGUAGES = ("bash", "sh", "shell", "console")
PYTHON_LANGUAGES = ("python", "py")


def rel(page: Path) -> str:
    """The page's path relative to the repository root, for ids and messages."""
    return page.relative_to(ROOT).as_posix()


def blocks(page: Path) -> list[tuple[str, str]]:
    """Every fenced block of the page: (language, code)."""
    return [(m.group(1).lower(), m.group(2)) for m in FENCE.finditer(page.read_text())]


def python_blocks(page: Path) -> list[str]:
    """The page's Python blocks, in order."""
    return [code for language, code in blocks(page) if language in PYTHON_LANGUAGES]


def named_distributions(page: Path) -> set[str]:
    """Distributions the page's ``pip install`` commands install (canonical names).

    ``.`` or ``'.[demo]'`` is this package from a checkout, so it names the package and its
    extras' requirements.
    """
    text = page.read_text()
    commands = [
        line
        for language, code in blocks(page)
        if language in SHELL_LANGUAGES
        for line in code.splitlines()
    ]
    prose = FENCE.sub("", text)
    commands += [" ".join(m.group(2).split()) for m in CODE_SPAN.finditer(prose)]
    names: set[str] = set()
    for command in (c for line in commands for c in PIP_INSTALL.findall(line)):
        for raw in command.split():
            word = raw.strip("'\"")
            if not word or word.startswith("-"):
                continue
            if word.startswith((".", "dist/")):
                names.add(PACKAGE)
                extras = re.search(r"\[([^\]]*)\]", word)
                for extra in extras.group(1).split(",") if extras else ():
                    names |= _requirements(PACKAGE, extra.strip())
                continue
            try:
                requirement = Requirement(word)
            except InvalidRequirement:
                continue
            names.add(canonicalize_name(requirement.name))
            for extra in requirement.extras:
                names |= _requirements(requirement.name, extra)
    return names


def _requirements(distribution: str, extra: str) -> set[str]:
    """The names an extra of an installed distribution adds."""
    found = set()
    for line in metadata.requires(distribution) or []:
        requirement = Requirement(line)
        if requirement.marker is not None and requirement.marker.evaluate(
            {**default_environment(), "extra": extra}
        ):
            found.add(canonicalize_name(requirement.name))
    return found


@cache
def closure(distribution: str) -> frozenset[str]:
    """The distribution and everything its installed metadata requires, without extras."""
    seen: set[str] = set()
    pending = [canonicalize_name(distribution)]
    environment = {**default_environment(), "extra": ""}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                pending.append(canonicalize_name(requirement.name))
    return frozenset(seen)


@cache
def project_distributions() -> frozenset[str]:
    """Everything the project's own installs bring: the package with every extra.

    Another distribution in the environment (a tool installed by ``make dist``, say) is not
    the project's; if an example loads it, that can only be an optional import probing for it
    (urllib3 looks for ``backports.zstd`` and so loads a ``backports`` that happens to exist).
    """
    found: set[str] = set(closure(PACKAGE))
    for extra in metadata.metadata(PACKAGE).get_all("Provides-Extra") or []:
        for name in _requirements(PACKAGE, extra):
            found |= closure(name)
    return frozenset(found)


def allowed_distributions(page: Path) -> set[str]:
    """What a reader has after installing the package and what the page names."""
    allowed: set[str] = set(closure(PACKAGE))
    for name in named_distributions(page):
        allowed |= closure(name)
    return allowed


@cache
def module_owners() -> dict[str, frozenset[str]]:
    """Each installed top-level module and the distributions that provide it."""
    return {
        module: frozenset(canonicalize_name(d) for d in dists)
        for module, dists in metadata.packages_distributions().items()
    }


def distributions_of(module: str) -> frozenset[str]:
    """The installed distributions that provide top-level ``module`` (empty for stdlib)."""
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top == "__main__":
        return frozenset()
    return module_owners().get(top, frozenset())


def imported_modules(code: str) -> set[str]:
    """Top-level modules a block imports (absolute imports only)."""
    tree = ast.parse(code)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def uses_top_level_await(code: str) -> bool:
    """True if the block awaits outside any function (only a notebook or REPL runs it as is).

    Such a block compiles only with ``PyCF_ALLOW_TOP_LEVEL_AWAIT``, the flag asyncio's REPL and
    IPython compile with; a script refuses it.
    """
    compile(code, "<docs>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)  # valid at all
    try:
        compile(code, "<docs>", "exec")
    except SyntaxError:
        return True
    return False

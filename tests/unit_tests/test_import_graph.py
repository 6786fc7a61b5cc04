"""The package's module structure: no import circle, no import upward; the emulator's layout.

The import graph is read from the source with ``ast`` (every ``import`` counts, those under
``TYPE_CHECKING`` and inside functions included), so a circle that only type checkers or a
late import would meet is caught too. The checker itself is first run on small packages
written for the purpose, so a checker that sees nothing cannot pass.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import langchain_ffm_friendli.testing as emulator_package
from langchain_ffm_friendli.testing._exchange import Provider

PACKAGE = "langchain_ffm_friendli.testing"
ROOT = Path(emulator_package.__file__).parent
#: The whole package: the client, its providers and the emulator.
WHOLE, WHOLE_ROOT = "langchain_ffm_friendli", ROOT.parent
#: The provider packages and the OpenAI-compatible API two of them share.
PROVIDER_PACKAGES = ("_ffm", "_friendli", "_monsterapi")
SHARED_API_PACKAGES = ("_openai_compatible",)
#: The modules every one of them has, with the same role in each (moto's layout).
ROLES = frozenset({"routes", "requests", "models", "responses"})


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Every module below ``root``: dotted name -> file (a package's ``__init__.py``)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([package, *parts])] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that the module ``name`` imports, whatever the form."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = here[: len(here) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
    return {target for target in targets if target in modules and target != name}


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports."""
    modules = modules_of(root, package)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: each a path that comes back to its first module."""
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """``(module, package)`` where a module imports a package that contains it."""
    return [
        (name, target)
        for name, targets in sorted(graph.items())
        for target in sorted(targets)
        if name.startswith(target + ".")
    ]


def write_package(root: Path, files: dict[str, str]) -> Path:
    """A package on disk from ``{relative path: source}``."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


# -------------------------------------------------------------- the checker, checked

#: A circle that only exists for type checkers.
TYPE_CHECKING_CIRCLE = {
    "__init__.py": "",
    "chat.py": "from .encode import encode\n",
    "encode.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .chat import Request\n"
    ),
    "alone.py": "import json\n",
}
#: A late import of the package's own ``__init__`` (which imports the module back).
LATE_UPWARD_IMPORT = {
    "__init__.py": "from .sub.factory import make\n",
    "sub/__init__.py": "",
    "sub/factory.py": "def make():\n    from .. import make as again\n    return again\n",
    "sub/sibling.py": "from . import factory\nfrom ..other import thing\n",
    "other.py": "thing = 1\n",
}


def test_the_checker_finds_a_circle_even_under_type_checking(tmp_path: Path) -> None:
    graph = import_graph(write_package(tmp_path / "pkg", TYPE_CHECKING_CIRCLE), "pkg")
    assert graph["pkg.chat"] == {"pkg.encode"}
    assert graph["pkg.encode"] == {"pkg.chat"}
    assert graph["pkg.alone"] == set()
    assert circles(graph) == [["pkg.chat", "pkg.encode", "pkg.chat"]]
    assert upward_imports(graph) == []


def test_the_checker_finds_an_import_of_a_containing_package(tmp_path: Path) -> None:
    graph = import_graph(write_package(tmp_path / "pkg", LATE_UPWARD_IMPORT), "pkg")
    assert graph["pkg.sub.sibling"] == {"pkg.sub.factory", "pkg.other"}
    assert upward_imports(graph) == [("pkg.sub.factory", "pkg")]
    assert circles(graph) == [["pkg", "pkg.sub.factory", "pkg"]]


# ------------------------------------------------------------------- the whole package


def test_no_module_of_the_package_imports_in_a_circle_or_upward() -> None:
    """The package's ``__init__`` is its public face, loaded by name (PEP 562), not imported."""
    graph = import_graph(WHOLE_ROOT, WHOLE)
    assert len(graph) > 60
    assert f"{WHOLE}.errors" in graph[f"{WHOLE}._transport"]
    assert circles(graph) == []
    assert upward_imports(graph) == []


# ------------------------------------------------------------------- the emulator


def test_the_graph_covers_every_emulator_module() -> None:
    graph = import_graph(ROOT, PACKAGE)
    assert len(graph) > 30
    assert graph[f"{PACKAGE}._ffm.routes"] >= {
        f"{PACKAGE}._ffm.requests",
        f"{PACKAGE}._ffm.responses",
        f"{PACKAGE}._exchange",
    }


def test_the_emulator_has_no_import_circle() -> None:
    assert circles(import_graph(ROOT, PACKAGE)) == []


def test_no_emulator_module_imports_a_package_that_contains_it() -> None:
    assert upward_imports(import_graph(ROOT, PACKAGE)) == []


@pytest.mark.parametrize("package", PROVIDER_PACKAGES + SHARED_API_PACKAGES)
def test_every_provider_package_has_the_same_modules_for_the_same_roles(package: str) -> None:
    modules = {path.stem for path in (ROOT / package).glob("*.py")} - {"__init__"}
    assert modules >= ROLES, f"{package} lacks {sorted(ROLES - modules)}"
    assert all(not name.startswith("_") for name in modules), "private packages, plain names"


def test_every_provider_is_declared_in_its_routes_module() -> None:
    declared = {cls.__module__: cls for cls in Provider.__subclasses__()}
    assert set(declared) == {f"{PACKAGE}.{package}.routes" for package in PROVIDER_PACKAGES}
    assert {cls.name for cls in declared.values()} == {"ffm", "friendli", "monsterapi"}

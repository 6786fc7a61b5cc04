"""The package's modules import one another without a circle, and never upward.

Read from the source (``ast``): a module's module-level imports, those under
``if TYPE_CHECKING:`` included (a circle of types is a circle of design), but not
those inside functions (lazy imports that keep ``import langchain_ffm_friendli``
cheap, and the package's own lazy names).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "langchain_ffm_friendli"
NAME = "langchain_ffm_friendli"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _loaded_imports(module: str) -> set[str]:
    """The package modules ``module`` imports when it is loaded."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    is_package = MODULES[module].name == "__init__.py"
    found: set[str] = set()
    body = list(tree.body)
    while body:
        node = body.pop(0)
        if isinstance(node, ast.If):
            body.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            body.extend(node.body)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(NAME))
        elif isinstance(node, ast.ImportFrom):
            found.update(_from_targets(module, node, is_package=is_package))
    return {m for m in found if m in MODULES and m != module}


def _from_targets(module: str, node: ast.ImportFrom, *, is_package: bool) -> set[str]:
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        source = ".".join([*base, node.module] if node.module else base)
    else:
        source = node.module or ""
    if not source.startswith(NAME):
        return set()
    targets: set[str] = set()
    for alias in node.names:  # ``from pkg import submodule`` imports the submodule,
        submodule = f"{source}.{alias.name}"  # anything else is read from ``pkg`` itself
        targets.add(submodule if submodule in MODULES else source)
    return targets


GRAPH = {module: _loaded_imports(module) for module in MODULES}


def test_no_module_imports_a_package_above_it() -> None:
    """An ``__init__`` above a module is its package's public face, loaded after it."""
    upward = sorted(
        (module, target)
        for module, targets in GRAPH.items()
        for target in targets
        if module.startswith(target + ".")
    )
    assert upward == []


def test_there_is_no_import_circle() -> None:
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_graph_is_read() -> None:
    assert f"{NAME}._transport" in GRAPH[f"{NAME}._planned"] or GRAPH[f"{NAME}._planned"]
    assert f"{NAME}.errors" in GRAPH[f"{NAME}._transport"]

"""The docs' parameter tables, derived from each class's field declarations.

Each request field is declared once, in its class, with its place on the wire
(``Annotated[float | None, Wire("max_new_tokens", "parameters")]``). The tables in
the docs pages are rendered from those declarations between the markers
``<!-- parameters: ClassName -->`` and ``<!-- /parameters -->``:

    python .ci/parameter_tables.py --check   # fail when a table differs (make test)
    python .ci/parameter_tables.py --write   # rewrite the tables
"""

from __future__ import annotations

import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

import langchain_ffm_friendli as package

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "ChatFFM": "docs/chat/ffm.md",
    "ChatFriendli": "docs/chat/friendli.md",
    "ChatMonsterAPI": "docs/chat/monsterapi.md",
    "FFMLLM": "docs/llms/ffm.md",
    "FriendliLLM": "docs/llms/friendli.md",
    "MonsterAPILLM": "docs/llms/monsterapi.md",
}
_BLOCK = re.compile(
    r"(<!-- parameters: (?P<name>\w+) -->\n)(?P<table>.*?)(<!-- /parameters -->)", re.DOTALL
)


def type_name(annotation: Any) -> str:
    """A field's type as the docs show it (``float | None``, ``list[str] | None``)."""
    if annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(annotation, "__name__", str(annotation))


def render(cls: type[Any]) -> str:
    """The markdown table of ``cls``'s request fields: name, where it is sent, type."""
    rows = ["| parameter | sent as | type |", "|---|---|---|"]
    for name, wire in cls.wire_fields().items():
        info = cls.model_fields[name]
        aliases = [
            c
            for c in getattr(info.validation_alias, "choices", None) or ()
            if isinstance(c, str) and c != name
        ]
        shown = f"`{name}`" + (f" (alias `{'`, `'.join(aliases)}`)" if aliases else "")
        shape = type_name(info.annotation).replace("|", "\\|")  # a table cell
        rows.append(f"| {shown} | `{wire.path(name)}` | `{shape}` |")
    return "\n".join(rows) + "\n"


def stale(*, write: bool) -> list[str]:
    """The pages whose tables differ from the declarations (rewritten when ``write``)."""
    found: list[str] = []
    for class_name, page in PAGES.items():
        path = ROOT / page
        text = path.read_text(encoding="utf-8")
        blocks = [m for m in _BLOCK.finditer(text) if m.group("name") == class_name]
        if len(blocks) != 1:
            found.append(f"{page}: needs exactly one <!-- parameters: {class_name} --> block")
            continue
        table = render(getattr(package, class_name))
        if blocks[0].group("table") != table:
            found.append(f"{page}: the {class_name} table differs from its declarations")
            if write:
                start, end = blocks[0].span("table")
                path.write_text(text[:start] + table + text[end:], encoding="utf-8")
    return found


def main(argv: list[str]) -> int:
    """``--check`` (exit 1 when a table is stale) or ``--write``."""
    write = argv == ["--write"]
    problems = stale(write=write)
    for problem in problems:
        print(problem)
    if write:
        return 1 if any("needs exactly one" in p for p in problems) else 0
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

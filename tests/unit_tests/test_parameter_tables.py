"""The docs' parameter tables are what the classes declare (issue 26: one declaration per field)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _tables() -> Any:
    path = ROOT / ".ci" / "parameter_tables.py"
    spec = importlib.util.spec_from_file_location("parameter_tables", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_parameter_table_in_the_docs_is_rendered_from_the_declarations() -> None:
    assert _tables().stale(write=False) == [], "run: python .ci/parameter_tables.py --write"


def test_a_table_shows_each_fields_wire_path_and_aliases() -> None:
    from langchain_ffm_friendli import ChatFFM

    table = _tables().render(ChatFFM)
    assert "| `max_tokens` (alias `max_new_tokens`) | `parameters.max_new_tokens` |" in table
    assert table.count("\n") == 2 + len(ChatFFM.wire_fields())

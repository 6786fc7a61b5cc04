"""Asking a model for JSON through its system prompt.

APIs without a JSON mode (FFM) rely on the instruction entirely; constrained
decoders (Friendli) still need it, or the model may emit whitespace until
``max_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["json_instruction", "with_system_instruction"]

_JSON_ONLY = "Respond with a single JSON object and nothing else: no prose, no code fences."


def json_instruction(response_format: Mapping[str, Any] | None) -> str | None:
    """The instruction that asks a model for JSON matching ``response_format``.

    APIs without a JSON mode (FFM) rely on it entirely; constrained decoders
    (Friendli) still need it, or the model may emit whitespace until max_tokens.
    """
    if not response_format:
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return _JSON_ONLY
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        schema = spec.get("schema", spec)
        return f"{_JSON_ONLY} The JSON object must conform to this JSON schema:\n" + json.dumps(
            schema, ensure_ascii=False
        )
    return None


def with_system_instruction(
    messages: list[dict[str, Any]], instruction: str | None
) -> list[dict[str, Any]]:
    """Append ``instruction`` to the system prompt (adding one if there is none)."""
    if not instruction:
        return messages
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0].get('content') or ''}\n\n{instruction}".strip()
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out

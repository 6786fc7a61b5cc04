"""Schema-driven values for the scripted model: JSON-schema instances filled from the prompt.

The default model fills tool arguments and structured output with values it finds in the
prompt (numbers, quoted texts, capitalised names), so agent tests see arguments that are
both schema-valid and meaningful. This module holds that value finder
(:class:`PromptMaterial`) and the instance generator (:class:`SchemaFaker`); the decision
of *what* to answer stays in ``_model``.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["QUOTED_RE", "PromptMaterial", "SchemaFaker", "find_embedded_json"]


def find_embedded_json(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """Find JSON objects embedded in free text.

    Args:
        text: Any text.

    Returns:
        ``(start, end, object)`` for each top-level JSON object found, in order.
    """
    decoder = json.JSONDecoder()
    found: list[tuple[int, int, dict[str, Any]]] = []
    position = text.find("{")
    attempts = 0
    while position != -1 and attempts < 200:
        attempts += 1
        try:
            value, end = decoder.raw_decode(text, position)
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found.append((position, end, value))
        position = text.find("{", end)
    return found


QUOTED_RE = re.compile(
    r"(?<!\w)'([^'\n]{1,200}?)'(?!\w)|\"([^\"\n]{1,200}?)\"|“([^”\n]{1,200}?)”"
    r"|「([^」\n]{1,200}?)」|‘([^’\n]{1,200}?)’"
)
_CAP_WORD = r"[A-Z][A-Za-z0-9'’\-]*"
_CAP_RUN_RE = re.compile(rf"(?<![\w'’]){_CAP_WORD}(?:,? {_CAP_WORD})*")
_NUMBER_RE = re.compile(r"(?<![A-Za-z_\d.])-?\d+(?:\.\d+)?(?![\d])")
_IGNORED_CAPS = {"I", "JSON", "API", "AI", "OK", "LLM"}
_CANNED = {
    "setup": "Why did the cat sit on the computer?",
    "punchline": "To keep an eye on the mouse!",
    "joke": "Why did the cat sit on the computer? To keep an eye on the mouse!",
}
_QUERY_NAMES = {
    "query",
    "question",
    "text",
    "input",
    "prompt",
    "q",
    "message",
    "content",
    "search",
    "search_query",
    "topic",
    "answer",
}


class PromptMaterial:
    """Values found in the prompt, consumed in order while filling a schema.

    Numbers feed integer/number properties; quoted texts, then runs of Capitalized
    words (not at a sentence start), feed string properties.
    """

    def __init__(self, text: str, *, continues: bool = False) -> None:
        """Extract numbers, quoted texts and capitalized runs from ``text``.

        Args:
            text: The last user message; embedded JSON objects are ignored.
            continues: ``text`` is a later part of a sentence (one of several requests),
                so a capitalized word at its start is a name, not a sentence start.
        """
        for start, end, _ in reversed(find_embedded_json(text)):
            text = text[:start] + " " + text[end:]
        self.text = text
        self.lower = text.lower()
        self.numbers: deque[int | float] = deque()
        for match in _NUMBER_RE.findall(text):
            self.numbers.append(float(match) if "." in match else int(match))
        quoted = [next(g for g in m.groups() if g is not None) for m in QUOTED_RE.finditer(text)]
        stripped = QUOTED_RE.sub(" ", text)
        self.strings: deque[str] = deque(q for q in quoted if q.strip())
        runs = _capitalized_runs("x " + stripped if continues else stripped)
        self.strings.extend(runs)
        topic_match = re.search(r"\babout\s+([^.?!\n]+)", text, re.IGNORECASE)
        topic = topic_match.group(1) if topic_match else text
        self.topic = topic.strip().rstrip(".?!。？！")[:80].strip()


def _capitalized_runs(text: str) -> list[str]:
    """Runs of Capitalized words that do not start a sentence (``San Francisco, CA``)."""
    runs: list[str] = []
    for match in _CAP_RUN_RE.finditer(text):
        run = match.group(0)
        before = text[: match.start()].rstrip(" \t\"'(“‘")
        if not before or before[-1] in ".!?:\n":
            first = re.match(rf"{_CAP_WORD},? ?", run)
            run = run[first.end() :] if first else ""
        words = [w for w in re.split(r",? ", run) if w]
        while words and words[0] in _IGNORED_CAPS:
            run = run[len(words.pop(0)) :].lstrip(", ")
        if run and not all(w in _IGNORED_CAPS for w in words):
            runs.append(run)
    return runs


class SchemaFaker:
    """Generates a JSON-schema-valid instance, taking values from the prompt.

    Handles objects, arrays, scalars, ``enum``/``const``, ``$ref`` into ``$defs`` or
    ``definitions``, and ``anyOf``/``oneOf``/``allOf`` (first non-null branch).
    Required properties are always filled; optional ones only when the prompt
    supplies a value for them.
    """

    _MAX_DEPTH = 8

    def __init__(
        self,
        root: Mapping[str, Any],
        material: PromptMaterial,
        *,
        mode: Literal["tool", "json"],
    ) -> None:
        """Bind the root schema (for ``$ref``), the prompt material and the mode.

        Args:
            root: The root schema.
            material: Values extracted from the prompt.
            mode: ``"tool"`` for tool arguments, ``"json"`` for structured output
                (affects the fallback texts only).
        """
        self.root = root
        self.material = material
        self.mode = mode

    def object_root(self) -> dict[str, Any]:
        """Generate the root as an object (tool arguments are always objects).

        Returns:
            The argument dict; ``{}`` for a schema without properties.
        """
        value = self.value(self.root, "", 0)
        return value if isinstance(value, dict) else {}

    def _resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``$ref`` and pick a branch of ``anyOf``/``oneOf``/``allOf``."""
        for _ in range(self._MAX_DEPTH):
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                target: Any = self.root
                for part in ref[2:].split("/"):
                    target = target.get(part, {}) if isinstance(target, Mapping) else {}
                merged = dict(target) if isinstance(target, Mapping) else {}
                merged.update({k: v for k, v in schema.items() if k != "$ref"})
                schema = merged
                continue
            for key in ("anyOf", "oneOf", "allOf"):
                branches = schema.get(key)
                if isinstance(branches, list) and branches:
                    candidates = [
                        b for b in branches if isinstance(b, Mapping) and b.get("type") != "null"
                    ]
                    branch = candidates[0] if candidates else branches[0]
                    merged = {k: v for k, v in schema.items() if k != key}
                    merged.update(branch)
                    schema = merged
                    break
            else:
                return schema
        return schema

    def _type(self, schema: Mapping[str, Any]) -> str:
        """The effective JSON type of a (resolved) schema."""
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if kinds else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return "string"

    def can_fill(self, schema: Mapping[str, Any]) -> bool:
        """Whether the prompt supplies a value for an optional property.

        Args:
            schema: The property schema.

        Returns:
            True when a matching number, string or enum value is available.
        """
        schema = self._resolve(schema)
        if "enum" in schema:
            return self._enum_match(schema["enum"]) is not None
        kind = self._type(schema)
        if kind in ("integer", "number"):
            return bool(self.material.numbers)
        if kind == "string":
            return bool(self.material.strings)
        return False

    def fills_required(self) -> bool:
        """Whether the prompt alone supplies every required property of the root.

        Used to tell several requests in one prompt apart ("the weather in 'Taipei' and
        in 'Tokyo'"): each part must be able to fill the tool's arguments on its own.

        Returns:
            True when there are required properties and enough prompt values for all.
        """
        root = self._resolve(self.root)
        properties = root.get("properties")
        required = root.get("required")
        if not isinstance(properties, Mapping) or not isinstance(required, list) or not required:
            return False
        numbers, strings = len(self.material.numbers), len(self.material.strings)
        for key in required:
            sub = properties.get(key)
            sub = self._resolve(sub) if isinstance(sub, Mapping) else {}
            if "enum" in sub:
                if self._enum_match(sub["enum"]) is None:
                    return False
                continue
            kind = self._type(sub)
            if kind in ("integer", "number"):
                numbers -= 1
            elif kind == "string":
                strings -= 1
            if numbers < 0 or strings < 0:
                return False
        return True

    def _enum_match(self, options: Any) -> Any:
        """An enum value mentioned in the prompt, or None."""
        if isinstance(options, list):
            for option in options:
                if isinstance(option, str) and re.search(
                    rf"(?<!\w){re.escape(option.lower())}(?!\w)", self.material.lower
                ):
                    return option
        return None

    def value(self, schema: Mapping[str, Any], name: str, depth: int) -> Any:
        """Generate a value for ``schema`` (property ``name``) at nesting ``depth``.

        Args:
            schema: The schema.
            name: The property name ("" at the root).
            depth: Current nesting depth, to stop runaway recursion.

        Returns:
            A JSON-compatible value valid for the schema.
        """
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            match = self._enum_match(schema["enum"])
            return match if match is not None else schema["enum"][0]
        kind = self._type(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            if depth >= self._MAX_DEPTH:
                return []
            items = schema.get("items")
            items = items if isinstance(items, Mapping) else {"type": "string"}
            count = max(1, int(schema.get("minItems", 1) or 1))
            return [self.value(items, name, depth + 1) for _ in range(count)]
        if kind in ("integer", "number"):
            return self._number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self.string_value(name, schema)

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        """Fill required properties, then optional ones the prompt has values for."""
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or depth >= self._MAX_DEPTH:
            return {}
        required = schema.get("required")
        required = set(required) if isinstance(required, list) else set()
        values: dict[str, Any] = {}
        for key, sub in properties.items():
            if key in required and isinstance(sub, Mapping):
                values[key] = self.value(sub, key, depth + 1)
        for key, sub in properties.items():
            if key not in required and isinstance(sub, Mapping) and self.can_fill(sub):
                values[key] = self.value(sub, key, depth + 1)
        return {key: values[key] for key in properties if key in values}

    def _number(self, schema: Mapping[str, Any], *, integer: bool) -> int | float:
        """A number from the prompt (in order) clamped into the schema's bounds."""
        number: int | float
        if self.material.numbers:
            number = self.material.numbers.popleft()
        elif isinstance(schema.get("default"), int | float):
            number = schema["default"]
        else:
            number = 1
        if integer:
            number = int(number)
        low = schema.get("minimum")
        if isinstance(low, int | float) and number < low:
            number = int(low) if integer else low
        low = schema.get("exclusiveMinimum")
        if isinstance(low, int | float) and number <= low:
            number = int(low) + 1 if integer else low + 1
        high = schema.get("maximum")
        if isinstance(high, int | float) and number > high:
            number = int(high) if integer else high
        high = schema.get("exclusiveMaximum")
        if isinstance(high, int | float) and number >= high:
            number = int(high) - 1 if integer else high - 1
        return number

    def string_value(self, name: str, schema: Mapping[str, Any]) -> str:
        """A string from the prompt, else a sensible deterministic text.

        Args:
            name: The property name, used for fallback texts.
            schema: The string schema (``format``, ``minLength``, ``maxLength``).

        Returns:
            The string value.
        """
        fmt = schema.get("format")
        formats = {
            "date": "2024-05-20",
            "date-time": "2024-05-20T06:00:15Z",
            "time": "06:00:15",
            "email": "user@example.com",
            "uri": "https://example.com",
            "url": "https://example.com",
            "uuid": "00000000-0000-4000-8000-000000000000",
        }
        topic = self.material.topic
        if isinstance(fmt, str) and fmt in formats:
            text = formats[fmt]
        elif self.material.strings:
            text = self.material.strings.popleft()
        elif name.lower() in _CANNED:
            text = _CANNED[name.lower()]
        elif name.lower() in _QUERY_NAMES and topic:
            text = topic
        elif self.mode == "json" and name:
            text = f"{name.replace('_', ' ').capitalize()} about {topic or 'the topic'}"
        else:
            text = f"sample {name.replace('_', ' ')}".strip()
        low = schema.get("minLength")
        if isinstance(low, int) and len(text) < low:
            text = text + "x" * (low - len(text))
        high = schema.get("maxLength")
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        return text

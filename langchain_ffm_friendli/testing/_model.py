"""The provider-neutral scripted model behind every emulated endpoint.

The emulator must answer like a plausible LLM without being one: deterministic, fast, and
good enough for LangChain's standard integration tests. This module holds that "model". It
works on OpenAI-style messages and tools (the lingua franca every provider module converts
to), decides between a text answer, a tool call and a JSON document, and returns a
:class:`Completion` that provider modules encode into their own wire format. Scripted
:class:`Reply` objects queued by a test override the decision.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Completion",
    "ModelRequest",
    "Reply",
    "ResolvedToolCall",
    "ToolCall",
    "complete",
    "count_tokens",
    "tokenize",
]

ToolCallStyle = Literal["native", "text", "no_id"]

_CJK = (
    "[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    "\U00020000-\U0003ffff]"
)
_TOKEN_RE = re.compile(rf"\s*(?:{_CJK}|(?:(?!{_CJK})\w)+|[^\w\s])|\s+")


@dataclass(frozen=True)
class ToolCall:
    """One tool call a scripted :class:`Reply` makes.

    Attributes:
        name: The tool (function) name.
        args: The arguments. A dict is serialised as JSON (Unicode kept as is); a str is
            sent verbatim, so tests can script invalid JSON.
        id: The call id; generated deterministically when None.
    """

    name: str
    args: dict[str, Any] | str
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """A scripted answer that overrides the default model for one request.

    Attributes:
        text: The generated text (None means empty). Stop sequences and the token
            limit of the request still apply to it.
        tool_calls: Tool calls to make; empty or None means a plain text answer.
        finish_reason: A raw provider finish reason to report instead of the computed one.
        prompt_tokens: Reported prompt token count instead of the estimate.
        completion_tokens: Reported completion token count instead of the estimate.
        tool_call_style: ``"native"`` sends structured tool calls; ``"text"`` writes
            them into the text as ``<function=NAME>{json}</function>`` (the Llama 3.1
            quirk seen on FFM); ``"no_id"`` sends structured calls without an ``id``.
    """

    text: str | None = None
    tool_calls: list[ToolCall] | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tool_call_style: ToolCallStyle = "native"


@dataclass(frozen=True)
class ModelRequest:
    """A provider-neutral view of one generation request.

    Attributes:
        messages: OpenAI-style message dicts (``role``, ``content``, ``tool_calls``...).
        tools: OpenAI-style tool definitions (``{"type": "function", "function": ...}``).
        tool_choice: ``"auto"``, ``"none"``, ``"required"``/``"any"``, a tool name or
            ``{"type": "function", "function": {"name": ...}}``; None means auto.
        stop: Stop sequences.
        max_tokens: Maximum number of completion tokens, None for no limit.
    """

    messages: Sequence[Mapping[str, Any]]
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: str | Mapping[str, Any] | None = None
    stop: Sequence[str] = ()
    max_tokens: int | None = None


@dataclass(frozen=True)
class ResolvedToolCall:
    """A tool call ready to encode.

    Attributes:
        id: The call id, or None when the reply style omits it.
        name: The tool name.
        arguments: The arguments as a JSON string (or a scripted raw string).
    """

    id: str | None
    name: str
    arguments: str


@dataclass(frozen=True)
class Completion:
    """What the model produced, before any provider encoding.

    Attributes:
        text: The generated text.
        tokens: ``text`` split into stream tokens; ``"".join(tokens) == text``.
        tool_calls: Structured tool calls (empty for text answers).
        finish_reason: Neutral reason: ``"stop"``, ``"stop_sequence"``, ``"length"``
            or ``"tool_calls"``.
        finish_reason_override: A raw provider value scripted by a :class:`Reply`.
        prompt_tokens: Prompt token count.
        completion_tokens: Completion token count.
    """

    text: str
    tokens: list[str]
    tool_calls: list[ResolvedToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    finish_reason_override: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """The sum of prompt and completion tokens."""
        return self.prompt_tokens + self.completion_tokens


def tokenize(text: str) -> list[str]:
    """Split text into pseudo tokens: a word with its leading space, or one CJK char.

    Args:
        text: Any text.

    Returns:
        Pieces whose concatenation is exactly ``text``.
    """
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    """Estimate the token count of a text deterministically (see :func:`tokenize`).

    Args:
        text: Any text.

    Returns:
        The number of pseudo tokens.
    """
    return len(_TOKEN_RE.findall(text))


def content_text(content: Any) -> str:
    """Flatten an OpenAI-style message content (str, parts list or None) to text.

    Args:
        content: The ``content`` value of a message.

    Returns:
        The text it carries; non-text parts are ignored.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return json.dumps(content, ensure_ascii=False)


def prompt_token_count(messages: Sequence[Mapping[str, Any]]) -> int:
    """Estimate the prompt tokens of a conversation (content, tool calls, 1 per turn).

    Args:
        messages: OpenAI-style messages.

    Returns:
        A deterministic estimate, at least 1.
    """
    total = 0
    for message in messages:
        total += 1 + count_tokens(content_text(message.get("content")))
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                total += count_tokens(str(function.get("name", "")))
                total += count_tokens(str(function.get("arguments", "")))
    return max(total, 1)


# --------------------------------------------------------------------------- decisions


def complete(
    request: ModelRequest,
    reply: Reply | None = None,
    *,
    provider: str = "provider",
) -> Completion:
    """Produce the completion for a request, scripted or decided by the default model.

    Args:
        request: The provider-neutral request.
        reply: A scripted reply overriding the decision, if any.
        provider: Provider display name used in the default greeting.

    Returns:
        The completion with token counts and finish reason.
    """
    prompt_tokens = prompt_token_count(request.messages)
    salt = _conversation_digest(request.messages)
    if reply is None:
        text, calls = _decide(request, provider)
        style: ToolCallStyle = "native"
        override = None
    else:
        text = reply.text or ""
        calls = list(reply.tool_calls or [])
        style = reply.tool_call_style
        override = reply.finish_reason
    resolved = [
        ResolvedToolCall(
            id=None if style == "no_id" else (call.id or _call_id(salt, index)),
            name=call.name,
            arguments=(
                call.args
                if isinstance(call.args, str)
                else json.dumps(call.args, ensure_ascii=False)
            ),
        )
        for index, call in enumerate(calls)
    ]
    if resolved and style == "text":
        text += "".join(f"<function={c.name}>{c.arguments}</function>" for c in resolved)
        resolved = []
    if resolved:
        tokens = tokenize(text)
        generated = len(tokens) + sum(
            count_tokens(c.name) + count_tokens(c.arguments) for c in resolved
        )
        reason = "tool_calls"
    else:
        text, reason = _apply_limits(text, request.stop, request.max_tokens)
        tokens = tokenize(text)
        generated = len(tokens)
    if reply is not None:
        if reply.prompt_tokens is not None:
            prompt_tokens = reply.prompt_tokens
        if reply.completion_tokens is not None:
            generated = reply.completion_tokens
    return Completion(
        text=text,
        tokens=tokens,
        tool_calls=resolved,
        finish_reason=reason,
        finish_reason_override=override,
        prompt_tokens=prompt_tokens,
        completion_tokens=generated,
    )


def _apply_limits(text: str, stop: Sequence[str], max_tokens: int | None) -> tuple[str, str]:
    """Cut text after the first stop sequence, then to ``max_tokens`` tokens."""
    reason = "stop"
    ends = [text.find(s) + len(s) for s in stop if s and s in text]
    if ends:
        text = text[: min(ends)]
        reason = "stop_sequence"
    if max_tokens is not None:
        tokens = tokenize(text)
        if len(tokens) > max_tokens:
            text = "".join(tokens[: max(max_tokens, 0)])
            reason = "length"
    return text, reason


def _conversation_digest(messages: Sequence[Mapping[str, Any]]) -> str:
    """A stable digest of the conversation, used to derive deterministic call ids."""
    blob = json.dumps(list(messages), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _call_id(salt: str, index: int) -> str:
    """A deterministic OpenAI-looking tool call id."""
    digest = hashlib.sha256(f"{salt}:{index}".encode()).hexdigest()
    return f"call_{digest[:24]}"


def _decide(request: ModelRequest, provider: str) -> tuple[str, list[ToolCall]]:
    """The default model: pick a text answer, a tool call or a JSON document."""
    messages = request.messages
    last = messages[-1] if messages else {}
    user_text = _last_user_text(messages)
    if last.get("role") == "tool":
        result = content_text(last.get("content")).strip()
        return f"The tool returned: {result}.", []
    tool = _choose_tool(request, user_text)
    if tool is not None:
        function = tool.get("function")
        function = function if isinstance(function, Mapping) else tool
        schema = function.get("parameters")
        schema = schema if isinstance(schema, Mapping) else {}
        material = PromptMaterial(user_text)
        args = SchemaFaker(schema, material, mode="tool").object_root()
        return "", [ToolCall(name=str(function.get("name", "")), args=args)]
    answer = f"Hello! This is the {provider} emulator. You said: {user_text}"
    if _wants_json(messages):
        return _json_answer(messages, user_text, answer), []
    return answer, []


def _last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the last user (or ``human``) message, or empty."""
    for message in reversed(messages):
        if message.get("role") in ("user", "human"):
            return content_text(message.get("content"))
    return ""


def _tool_name(tool: Mapping[str, Any]) -> str:
    """The function name of an OpenAI-style tool (or a bare function dict)."""
    function = tool.get("function")
    source = function if isinstance(function, Mapping) else tool
    return str(source.get("name", ""))


def _name_parts(name: str) -> list[str]:
    """Split a tool name on ``_``/``-``/camelCase into lower-case parts of >= 4 letters."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    parts = re.split(r"[\s_\-.]+", spaced)
    return [p.lower() for p in parts if len(p) >= 4 and p.isalpha()]


def _choose_tool(request: ModelRequest, user_text: str) -> Mapping[str, Any] | None:
    """Decide whether to call a tool and which one, following ``tool_choice``."""
    tools = [t for t in request.tools if isinstance(t, Mapping)]
    choice = request.tool_choice
    if not tools or choice == "none":
        return None
    forced_name: str | None = None
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and function.get("name"):
            forced_name = str(function["name"])
        elif choice.get("name"):
            forced_name = str(choice["name"])
    elif isinstance(choice, str) and choice not in ("auto", "required", "any"):
        forced_name = choice
    if forced_name is not None:
        for tool in tools:
            if _tool_name(tool) == forced_name:
                return tool
        return {"type": "function", "function": {"name": forced_name}}
    lowered = user_text.lower()
    scores = []
    for tool in tools:
        name = _tool_name(tool)
        score = sum(1 for part in _name_parts(name) if part in lowered)
        if name and name.lower() in lowered:
            score += 2
        scores.append(score)
    best = max(range(len(tools)), key=lambda i: (scores[i], -i))
    if choice in ("required", "any"):
        return tools[best]
    if scores[best] > 0:
        return tools[best]
    if re.search(r"\btools?\b", lowered):
        return tools[0]
    return None


# ------------------------------------------------------------------------ JSON answers


def _wants_json(messages: Sequence[Mapping[str, Any]]) -> bool:
    """True when a system or user message mentions JSON (prompt-based structured output)."""
    for message in messages:
        if message.get("role") in ("system", "user", "human") and re.search(
            r"\bjson\b", content_text(message.get("content")), re.IGNORECASE
        ):
            return True
    return False


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


def _embedded_schema(messages: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The first JSON schema embedded in a system or user message, if any."""
    for message in messages:
        if message.get("role") not in ("system", "user", "human"):
            continue
        for _, _, value in find_embedded_json(content_text(message.get("content"))):
            inner = value.get("schema")
            if isinstance(inner, dict) and ("properties" in inner or "type" in inner):
                return inner
            if "properties" in value or "type" in value:
                return value
    return None


_KEY_RE = re.compile(r"(?<!\w)'([A-Za-z_][A-Za-z0-9_]*)'(?!\w)")


def _json_answer(messages: Sequence[Mapping[str, Any]], user_text: str, answer: str) -> str:
    """Answer a prompt that asks for JSON: a schema instance, named keys, or an answer."""
    schema = _embedded_schema(messages)
    material = PromptMaterial(user_text)
    if schema is not None:
        value = SchemaFaker(schema, material, mode="json").value(schema, "", 0)
        return json.dumps(value, ensure_ascii=False)
    keys: list[str] = []
    for message in messages:
        if message.get("role") in ("system", "user", "human"):
            for key in _KEY_RE.findall(content_text(message.get("content"))):
                if key not in keys:
                    keys.append(key)
    if keys:
        material.strings = deque(s for s in material.strings if s not in keys)
        faker = SchemaFaker({}, material, mode="json")
        document = {key: faker.string_value(key, {}) for key in keys}
        return json.dumps(document, ensure_ascii=False)
    return json.dumps({"answer": answer}, ensure_ascii=False)


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The text of the last user (or ``human``) message, as the default model reads it.

    Args:
        messages: OpenAI-style messages.

    Returns:
        The text, or empty when there is no user message.
    """
    return _last_user_text(messages)


def json_answer(messages: Sequence[Mapping[str, Any]], *, provider: str = "provider") -> str:
    """The default model's answer in JSON mode (a provider's ``json_object`` format).

    Same logic as a prompt that mentions JSON: an instance of a schema embedded in the
    prompt, else the quoted key names, else ``{"answer": <the default greeting>}``.

    Args:
        messages: OpenAI-style messages.
        provider: Provider display name used in the default greeting.

    Returns:
        A JSON object, serialised (Unicode kept as is).
    """
    user_text = _last_user_text(messages)
    answer = f"Hello! This is the {provider} emulator. You said: {user_text}"
    return _json_answer(messages, user_text, answer)


def schema_instance(schema: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]) -> Any:
    """A value valid for a JSON schema, filled from the last user message.

    Args:
        schema: The JSON schema (``$ref`` into ``$defs`` and ``anyOf`` are followed).
        messages: OpenAI-style messages; the last user text supplies the values.

    Returns:
        A JSON-compatible instance of the schema.
    """
    material = PromptMaterial(_last_user_text(messages))
    return SchemaFaker(schema, material, mode="json").value(schema, "", 0)


# -------------------------------------------------------------- schema-driven values

_QUOTED_RE = re.compile(
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

    def __init__(self, text: str) -> None:
        """Extract numbers, quoted texts and capitalized runs from ``text``.

        Args:
            text: The last user message; embedded JSON objects are ignored.
        """
        for start, end, _ in reversed(find_embedded_json(text)):
            text = text[:start] + " " + text[end:]
        self.text = text
        self.lower = text.lower()
        self.numbers: deque[int | float] = deque()
        for match in _NUMBER_RE.findall(text):
            self.numbers.append(float(match) if "." in match else int(match))
        quoted = [next(g for g in m.groups() if g is not None) for m in _QUOTED_RE.finditer(text)]
        stripped = _QUOTED_RE.sub(" ", text)
        self.strings: deque[str] = deque(q for q in quoted if q.strip())
        self.strings.extend(_capitalized_runs(stripped))
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

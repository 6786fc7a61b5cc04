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

from ._schema import QUOTED_RE, PromptMaterial, SchemaFaker, find_embedded_json

__all__ = [
    "Completion",
    "ModelRequest",
    "Reply",
    "ResolvedToolCall",
    "ToolCall",
    "call_id",
    "complete",
    "conversation_digest",
    "count_tokens",
    "cut_text",
    "scripted_counts",
    "split_arguments",
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
        reasoning: What a reasoning model thinks before answering. OpenAI-compatible
            routes send it as ``reasoning_content`` (message and stream deltas; Friendli's
            ``parse_reasoning: false`` leaves it in the text and ``include_reasoning:
            false`` drops it); raw-text routes (FFM, MonsterAPI ``/v1/generate``,
            Friendli completions) write it before the text as ``<think>...</think>``.
    """

    text: str | None = None
    tool_calls: list[ToolCall] | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tool_call_style: ToolCallStyle = "native"
    reasoning: str | None = None


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

    def to_json(self) -> dict[str, Any]:
        """The call as an OpenAI-style ``tool_calls`` item (no ``id`` key when it has none).

        Returns:
            ``{"id", "type": "function", "function": {"name", "arguments"}}``.
        """
        item: dict[str, Any] = {} if self.id is None else {"id": self.id}
        item["type"] = "function"
        item["function"] = {"name": self.name, "arguments": self.arguments}
        return item

    def fragments(self, index: int, *, repeat_type: bool) -> list[dict[str, Any]]:
        """The call as OpenAI-style stream fragments keyed by ``index``.

        Args:
            index: The call's position in the answer.
            repeat_type: Whether every arguments fragment repeats ``"type": "function"``
                (OpenAI-compatible servers write it; FFM does not).

        Returns:
            A head with the id, type, name and empty ``arguments``, then the arguments
            in 2-3 pieces (:func:`split_arguments`).
        """
        head = {"index": index, **self.to_json()}
        head["function"] = {"name": self.name, "arguments": ""}
        typed = {"type": "function"} if repeat_type else {}
        pieces = [
            {"index": index, **typed, "function": {"arguments": piece}}
            for piece in split_arguments(self.arguments)
        ]
        return [head, *pieces]


def split_arguments(arguments: str) -> list[str]:
    """Cut a tool call's arguments string into 2-3 stream fragments (1 if tiny).

    Args:
        arguments: The JSON arguments text.

    Returns:
        The fragments, whose concatenation is ``arguments``.
    """
    if len(arguments) < 2:
        return [arguments] if arguments else []
    if len(arguments) < 6:
        return [arguments[:1], arguments[1:]]
    third = len(arguments) // 3
    return [arguments[:third], arguments[third : 2 * third], arguments[2 * third :]]


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
        completion_tokens: Completion token count (reasoning included).
        reasoning: Reasoning text to send in its own field ("" for none).
    """

    text: str
    tokens: list[str]
    tool_calls: list[ResolvedToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    finish_reason_override: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning: str = ""

    @property
    def total_tokens(self) -> int:
        """The sum of prompt and completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def finish_reason_in(self, spelling: Mapping[str, str]) -> str:
        """The finish reason as a provider spells it; a scripted raw value wins.

        Args:
            spelling: The provider's word for each neutral reason.

        Returns:
            The scripted value, else ``spelling[finish_reason]``.
        """
        if self.finish_reason_override is not None:
            return self.finish_reason_override
        return spelling[self.finish_reason]


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


def scripted_counts(
    reply: Reply | None, prompt_tokens: int, completion_tokens: int
) -> tuple[int, int]:
    """The token counts to report: a scripted reply's own counts where it sets them.

    Args:
        reply: The scripted reply, if any.
        prompt_tokens: The estimated prompt tokens.
        completion_tokens: The estimated completion tokens.

    Returns:
        ``(prompt_tokens, completion_tokens)``.
    """
    if reply is not None and reply.prompt_tokens is not None:
        prompt_tokens = reply.prompt_tokens
    if reply is not None and reply.completion_tokens is not None:
        completion_tokens = reply.completion_tokens
    return prompt_tokens, completion_tokens


def cut_text(
    text: str, stop: Sequence[str], max_tokens: int | None, *, keep_stop: bool
) -> tuple[str, list[str], str | None]:
    """Cut a text at its first stop sequence, then to ``max_tokens`` tokens.

    Args:
        text: The generated text.
        stop: Stop sequences.
        max_tokens: The token limit, None for none.
        keep_stop: Whether the text keeps the stop sequence (TGI) or ends before it
            (OpenAI-compatible servers).

    Returns:
        The text, its tokens and the neutral reason of the cut (``stop_sequence``,
        ``length``), None when nothing was cut.
    """
    reason = None
    ends = [text.find(s) + (len(s) if keep_stop else 0) for s in stop if s and s in text]
    if ends:
        text = text[: min(ends)]
        reason = "stop_sequence"
    tokens = tokenize(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        tokens = tokens[: max(max_tokens, 0)]
        text = "".join(tokens)
        reason = "length"
    return text, tokens, reason


# --------------------------------------------------------------------------- decisions


def complete(
    request: ModelRequest,
    reply: Reply | None = None,
    *,
    provider: str = "provider",
    reasoning_field: bool = False,
) -> Completion:
    """Produce the completion for a request, scripted or decided by the default model.

    Args:
        request: The provider-neutral request.
        reply: A scripted reply overriding the decision, if any.
        provider: Provider display name used in the default greeting.
        reasoning_field: Whether the route has a reasoning field; when not, a scripted
            reasoning is written before the text as ``<think>...</think>``.

    Returns:
        The completion with token counts and finish reason.
    """
    prompt_tokens = prompt_token_count(request.messages)
    salt = conversation_digest(request.messages)
    if reply is None:
        text, calls = _decide(request, provider)
        style: ToolCallStyle = "native"
        override = None
    else:
        text = reply.text or ""
        calls = list(reply.tool_calls or [])
        style = reply.tool_call_style
        override = reply.finish_reason
    reasoning = (reply.reasoning or "") if reply is not None else ""
    if reasoning and not reasoning_field:
        text = f"<think>\n{reasoning}\n</think>\n\n{text}"
        reasoning = ""
    resolved = [
        ResolvedToolCall(
            id=None if style == "no_id" else (call.id or call_id(salt, index)),
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
        text, tokens, cut = cut_text(text, request.stop, request.max_tokens, keep_stop=True)
        generated = len(tokens)
        reason = cut or "stop"
    generated += count_tokens(reasoning)
    prompt_tokens, generated = scripted_counts(reply, prompt_tokens, generated)
    return Completion(
        text=text,
        tokens=tokens,
        tool_calls=resolved,
        finish_reason=reason,
        finish_reason_override=override,
        prompt_tokens=prompt_tokens,
        completion_tokens=generated,
        reasoning=reasoning,
    )


def conversation_digest(messages: Sequence[Mapping[str, Any]]) -> str:
    """A stable digest of a conversation, from which its tool call ids derive.

    Args:
        messages: OpenAI-style messages.

    Returns:
        The hex digest.
    """
    blob = json.dumps(list(messages), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def call_id(salt: str, key: int | str) -> str:
    """A deterministic OpenAI-looking tool call id.

    Args:
        salt: The conversation's digest (:func:`conversation_digest`).
        key: Which call of the answer (its index, or a tagged index).

    Returns:
        ``call_`` and 24 hex digits.
    """
    digest = hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()
    return f"call_{digest[:24]}"


def _decide(request: ModelRequest, provider: str) -> tuple[str, list[ToolCall]]:
    """The default model: pick a text answer, tool calls or a JSON document.

    After tool results, a forced choice (``required``/``any``, as ``create_agent`` binds
    its structured-output tool) calls a bound tool not yet called in this turn, with
    arguments from the prompt and the results; otherwise the results are reported.
    """
    messages = request.messages
    last = messages[-1] if messages else {}
    user_text = _last_user_text(messages)
    if last.get("role") == "tool":
        results = _trailing_tool_results(messages)
        pending = _uncalled_tools(request)
        if request.tool_choice in ("required", "any") and pending:
            tool = _best_tool(pending, user_text)
            material = " ".join([user_text, *(f"'{r}'" for r in results)])
            return "", [_fill_call(tool, PromptMaterial(material))]
        if len(results) == 1:
            return f"The tool returned: {results[0]}.", []
        return "The tools returned: " + "; ".join(results) + ".", []
    calls = _plan_calls(request, user_text)
    if calls:
        return "", calls
    answer = f"Hello! This is the {provider} emulator. You said: {user_text}"
    images = _image_count(messages)
    if images:
        answer += f" (I received {images} image{'s' if images > 1 else ''}.)"
    if _wants_json(messages):
        return _json_answer(messages, user_text, answer), []
    return answer, []


def _trailing_tool_results(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """The texts of the tool messages that end the conversation, in order."""
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.insert(0, content_text(message.get("content")).strip())
    return results


def _uncalled_tools(request: ModelRequest) -> list[Mapping[str, Any]]:
    """Bound tools the assistant has not called since the last user message."""
    called: set[str] = set()
    for message in reversed(request.messages):
        if message.get("role") in ("user", "human"):
            break
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                called.add(str(function.get("name", "")))
    return [t for t in request.tools if isinstance(t, Mapping) and _tool_name(t) not in called]


def _image_count(messages: Sequence[Mapping[str, Any]]) -> int:
    """The number of image parts in the last user message."""
    for message in reversed(messages):
        if message.get("role") in ("user", "human"):
            content = message.get("content")
            parts = content if isinstance(content, list) else []
            return sum(
                1
                for part in parts
                if isinstance(part, Mapping) and part.get("type") in ("image_url", "image")
            )
    return 0


def _schema_of(tool: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """A tool's name and its parameters schema (``{}`` when it has none)."""
    function = tool.get("function")
    function = function if isinstance(function, Mapping) else tool
    schema = function.get("parameters")
    return str(function.get("name", "")), schema if isinstance(schema, Mapping) else {}


def _fill_call(tool: Mapping[str, Any], material: PromptMaterial) -> ToolCall:
    """A call of ``tool`` with schema-valid arguments taken from ``material``."""
    name, schema = _schema_of(tool)
    return ToolCall(name=name, args=SchemaFaker(schema, material, mode="tool").object_root())


#: What separates several requests in one prompt ("... in 'Taipei' and in 'Tokyo'").
_CONJUNCTION_RE = re.compile(
    r"\s+(?:and|as well as)\s+|\s*[;；、]\s*|\s*(?:以及|還有|还有|和|與|与|及)\s*",
    re.IGNORECASE,
)


def _segments(text: str) -> list[str]:
    """Split a prompt at conjunctions outside quoted texts."""
    masked = QUOTED_RE.sub(lambda m: "_" * len(m.group(0)), text)
    pieces: list[str] = []
    start = 0
    for match in _CONJUNCTION_RE.finditer(masked):
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece.strip()]


def _plan_calls(request: ModelRequest, user_text: str) -> list[ToolCall]:
    """The tool calls for a user turn: none, one, or one per request the prompt makes.

    A prompt asking for several things ("the weather in 'Taipei' and in 'Tokyo'", "the
    weather in Paris and the time in Tokyo") gets parallel calls when every part names
    (or inherits) a tool and supplies all its required arguments on its own.
    """
    tool = _choose_tool(request, user_text)
    if tool is None:
        return []
    single = [_fill_call(tool, PromptMaterial(user_text))]
    if _forced_name(request.tool_choice) is not None:
        return single
    segments = _segments(user_text)
    if len(segments) < 2:
        return single
    tools = [t for t in request.tools if isinstance(t, Mapping)]
    calls: list[ToolCall] = []
    for index, segment in enumerate(segments):
        scores = _scores(tools, segment)
        best = max(range(len(tools)), key=lambda i: (scores[i], -i))
        chosen = tools[best] if scores[best] > 0 else tool
        material = PromptMaterial(segment, continues=index > 0)
        if not SchemaFaker(_schema_of(chosen)[1], material, mode="tool").fills_required():
            return single
        call = _fill_call(chosen, material)
        if call not in calls:
            calls.append(call)
    return calls if len(calls) > 1 else single


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


def _forced_name(choice: str | Mapping[str, Any] | None) -> str | None:
    """The tool name a ``tool_choice`` forces, or None (auto, none, required)."""
    if isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and function.get("name"):
            return str(function["name"])
        if choice.get("name"):
            return str(choice["name"])
        return None
    if isinstance(choice, str) and choice not in ("auto", "required", "any", "none"):
        return choice
    return None


def _scores(tools: Sequence[Mapping[str, Any]], text: str) -> list[int]:
    """How strongly a text mentions each tool (name parts, +2 for the whole name)."""
    lowered = text.lower()
    scores = []
    for tool in tools:
        name = _tool_name(tool)
        score = sum(1 for part in _name_parts(name) if part in lowered)
        if name and name.lower() in lowered:
            score += 2
        scores.append(score)
    return scores


def _best_tool(tools: Sequence[Mapping[str, Any]], text: str) -> Mapping[str, Any]:
    """The tool the text mentions most (the first one on a tie)."""
    scores = _scores(tools, text)
    return tools[max(range(len(tools)), key=lambda i: (scores[i], -i))]


def _choose_tool(request: ModelRequest, user_text: str) -> Mapping[str, Any] | None:
    """Decide whether to call a tool and which one, following ``tool_choice``."""
    tools = [t for t in request.tools if isinstance(t, Mapping)]
    choice = request.tool_choice
    if not tools or choice == "none":
        return None
    forced_name = _forced_name(choice)
    if forced_name is not None:
        for tool in tools:
            if _tool_name(tool) == forced_name:
                return tool
        return {"type": "function", "function": {"name": forced_name}}
    best = _best_tool(tools, user_text)
    if choice in ("required", "any") or _scores([best], user_text)[0] > 0:
        return best
    if re.search(r"\btools?\b", user_text.lower()):
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

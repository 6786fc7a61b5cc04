"""Friendli (FriendliAI) endpoints of the emulator, under ``/friendli``.

Speaks the wire format documented in ``protocols/friendli.md``; the emulator exists to
prove clients against it, so it is never bent to suit one.

Routes (route names in parentheses):

* ``POST /friendli/{serverless,dedicated,container}/v1/chat/completions``
  (``friendli.chat``): OpenAI-compatible chat, see :mod:`._openai_chat`.
* ``POST /friendli/serverless/tools/v1/chat/completions`` (``friendli.tools_chat``):
  tool-assisted chat (Beta) whose built-in tools the server runs itself.
* ``POST /friendli/{serverless,dedicated,container}/v1/completions``
  (``friendli.completions``): text completions.

Auth: serverless, dedicated and tool-assisted paths need ``Authorization: Bearer <key>``
and answer 401 ``{"detail": "Unauthorized. Please provide a valid credential."}``
otherwise; container paths take no credentials at all (and ``model`` is optional there).
The emulator's auth hook only sees headers, so :meth:`FriendliProvider.authenticate`
remembers the accepted key and lets everything through, and each route checks the key
itself. ``X-Friendli-Team`` is accepted and only recorded. Errors are
``{"detail": "..."}``; validation failures are HTTP 422 with a message naming the field.

Tool-assisted chat: ``tools`` mixes the built-in tools (``math:calculator``,
``math:statistics``, ``math:calendar``, ``web:search``, ``web:url``,
``code:python-interpreter``, ``file:text`` with ``files: [one file id]``,
``linkup:search``) with ordinary function tools; ``resume_generation`` is accepted. The
default model runs a built-in tool when the last user message calls for it:

* ``math:calculator`` -- an arithmetic expression in the message (``+ - * / ** ^ × ÷``,
  parentheses, decimals, unary minus; also "plus", "minus", "times", "divided by") is
  really evaluated by a small exact parser (no ``eval``); division by zero is ERRORED.
  The result is double-encoded JSON text, as in Friendli's example: the JSON string
  of the JSON text ``{"result": "3 + 6=9"}``.
* ``math:statistics`` -- "mean", "average", "median", "standard deviation"... with
  numbers: count, mean, median, sample stdev, variance, min, max and sum, as JSON text.
* ``math:calendar`` -- "what day", "weekday", "date", "today", "how many days"...: the
  weekday of a date in the message, the days between two dates, or today's date, as
  JSON text (an impossible date is ERRORED).
* ``web:search``, ``linkup:search``, ``web:url``, ``code:python-interpreter``,
  ``file:text`` -- plain text ``[emulator canned result for <tool>] ...`` when the
  message asks to search/look up, contains a URL, mentions code/Python, or a
  file/document; these also send an ``UPDATING`` status.

Each run streams ``event: tool_status`` events before the answer: ``STARTED``, then
``UPDATING`` (canned tools), then ``ENDED`` with ``result`` or ``ERRORED`` with
``error: {"type": "INVALID_PARAMETER", "msg": ...}``; data fields are ``tool_call_id``,
``name``, ``status``, ``parameters`` (``[{"name", "value"}]``, strings), ``result``,
``files``, ``message``, ``error``, ``usage`` (null) and ``timestamp``. The answer states
the results ("3 + 6 = 9."). After an ERRORED run the generation stops (empty answer,
``finish_reason: "stop"``) unless ``resume_generation`` is true, in which case the answer
explains the failure. A user function tool the model picks is streamed as tool-call
deltas after the statuses. A queued ``Reply`` replaces the answer; built-in tools still
run as the prompt asks. The non-streaming body holds only the final answer.

Token chunks of a tool-assisted stream use the three forms clients meet (the spec
declares ``event: token``, examples show bare ``data:`` lines, and ``message`` is the SSE
default): an emulator's first streamed tool-assisted request uses no ``event:`` line, the
second ``event: message``, the third ``event: token``, and so on in turn (``[DONE]`` is
always a bare ``data:`` line). The request header
``X-Emulator-Token-Event: none|message|token`` picks one explicitly.

Text completions: exactly one of ``prompt`` (string or list of strings) and ``tokens``;
the fields of the current spec and of the legacy (beam search) revision are validated
(``beam_search_type`` without ``num_beams`` is ignored, as the legacy docs say).
Choices carry ``seed`` and ``tokens`` (deterministic pseudo token ids); ``logprobs`` is an
integer (alternatives per position). The current stream sends ``data:`` chunks with the
sampled ``token`` id, a finish chunk, a usage chunk when
``stream_options.include_usage`` is true, then ``data: [DONE]``. The legacy stream
(``data: {"event": "token_sampled", "index", "text", "token"}`` lines, then one final
``{"choices": [{"index", "seed", "text", "tokens"}], "usage"}`` record and no ``[DONE]``)
cannot be requested through the API any more, so the emulator sends it when the request
has the header ``X-Emulator-Stream-Format: legacy``. ``timeout_microseconds`` shorter than
the simulated generation time (1 ms per generated token) gives HTTP 429, as the legacy
docs state.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from itertools import zip_longest
from typing import Any

from ._exchange import Exchange, Handler, Route
from ._faults import StreamEvent, play_stream
from ._model import Completion, ModelRequest, Reply, complete, count_tokens, last_user_text
from ._openai_chat import (
    DONE,
    ChatRequest,
    RequestError,
    apply_limits,
    chat_handler,
    chunk_records,
    encode_response,
    generate,
    new_id,
    parse_chat_request,
    read_body,
    read_bool,
    read_float,
    read_int,
    read_list,
    read_model,
    read_sampling,
    split_item,
    sse,
    start_sse,
    stream_script,
    structured_text,
    token_logprob,
    top_alternatives,
)

__all__ = ["BUILTIN_TOOLS", "PREFIX", "FriendliProvider"]

PREFIX = "/friendli"
PROVIDER = "Friendli"
UNAUTHORIZED = "Unauthorized. Please provide a valid credential."
BUILTIN_TOOLS = (
    "math:calculator",
    "math:statistics",
    "math:calendar",
    "web:search",
    "web:url",
    "code:python-interpreter",
    "file:text",
    "linkup:search",
)
STREAM_FORMAT_HEADER = "x-emulator-stream-format"
EVENT_FORM_HEADER = "x-emulator-token-event"
_PRODUCTS = ("serverless", "dedicated", "container")
_TOKEN_EVENTS: tuple[str | None, ...] = (None, "message", "token")
_MAX_TOOLS = 128
_BEAM_TYPES = ("DETERMINISTIC", "STOCHASTIC", "NAIVE_SAMPLING")
_MAX_LOGPROBS = 20
_MICROSECONDS_PER_TOKEN = 1000


class FriendliProvider:
    """The Friendli provider: routes, ``{"detail": ...}`` errors and per-route bearer auth."""

    prefix = PREFIX

    def __init__(self) -> None:
        """Create the provider (one per emulator)."""
        self._api_key: str | None = None
        self._tool_streams = 0

    def routes(self) -> list[Route]:
        """The endpoints served under ``/friendli``.

        Returns:
            The routes.
        """
        routes = []
        for product in _PRODUCTS:
            base = f"{PREFIX}/{product}/v1"
            keyed = product != "container"
            chat = chat_handler(
                provider=PROVIDER, require_model=keyed, guard=self._guard if keyed else None
            )
            routes.append(Route("POST", f"{base}/chat/completions", "friendli.chat", chat))
            routes.append(
                Route(
                    "POST",
                    f"{base}/completions",
                    "friendli.completions",
                    self._completions_handler(keyed=keyed),
                )
            )
        routes.append(
            Route(
                "POST",
                f"{PREFIX}/serverless/tools/v1/chat/completions",
                "friendli.tools_chat",
                self._tools_chat,
            )
        )
        return routes

    def error_body(self, status: int, message: str) -> Any:
        """Friendli's error body.

        Args:
            status: The HTTP status (not part of the body).
            message: The error text.

        Returns:
            ``{"detail": message}``.
        """
        del status
        return {"detail": message}

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """Remember the accepted key; the routes check it (container routes need none).

        The emulator calls this hook with the headers only, but whether Friendli wants a
        credential depends on the path, so the decision is made by each route.

        Args:
            headers: Request headers (unused here).
            api_key: The key the emulator accepts.

        Returns:
            Always True.
        """
        del headers
        self._api_key = api_key
        return True

    async def _guard(self, exchange: Exchange) -> bool:
        """Answer 401 unless ``Authorization: Bearer <key>`` matches (True when answered)."""
        scheme, _, token = exchange.request.headers.get("authorization", "").partition(" ")
        if self._api_key is not None and scheme.lower() == "bearer" and token == self._api_key:
            return False
        await exchange.send_error(401, UNAUTHORIZED)
        return True

    def _token_event(self, exchange: Exchange) -> str | None:
        """The ``event:`` name of this tool-assisted stream's token chunks."""
        chosen = exchange.request.headers.get(EVENT_FORM_HEADER, "").strip().lower()
        if chosen in ("none", "message", "token"):
            return None if chosen == "none" else chosen
        form = _TOKEN_EVENTS[self._tool_streams % len(_TOKEN_EVENTS)]
        self._tool_streams += 1
        return form

    # ---------------------------------------------------------------- tool-assisted

    async def _tools_chat(self, exchange: Exchange) -> None:
        """``POST /serverless/tools/v1/chat/completions``: built-in tools run server-side."""
        if await self._guard(exchange):
            return
        body = await read_body(exchange)
        if body is None:
            return
        try:
            request = parse_chat_request(body, server_tool_types=BUILTIN_TOOLS, structured=False)
            _check_builtin_tools(body)
            resume = bool(read_bool(body, "resume_generation"))
        except RequestError as exc:
            await exchange.send_error(exc.status, exc.detail)
            return
        stream = request.options.stream
        item = exchange.take(stream=stream)
        if await exchange.apply_http_fault(item, stream=stream):
            return
        fault, reply = split_item(item)
        runs = plan_runs(request, resume=resume)
        completion = _tools_completion(request, runs, reply, resume=resume)
        completions = [completion] * request.options.n
        response_id, created = new_id("chatcmpl-"), int(time.time())
        if not stream:
            body = encode_response(request, completions, response_id=response_id, created=created)
            await exchange.send_json(200, body)
            return
        events = [
            StreamEvent(sse(status, "tool_status"))
            for run in runs
            for status in run.status_records(created)
        ]
        token_event = self._token_event(exchange)
        records = chunk_records(request, completions, response_id=response_id, created=created)
        events.extend(StreamEvent(sse(record, token_event)) for record in records)
        events.append(StreamEvent(DONE))
        await start_sse(exchange)
        await play_stream(stream_script(events), exchange.writer, fault)

    # ------------------------------------------------------------------ completions

    def _completions_handler(self, *, keyed: bool) -> Handler:
        """The ``/completions`` handler of one product (container: no key, no model)."""

        async def handle(exchange: Exchange) -> None:
            if keyed and await self._guard(exchange):
                return
            body = await read_body(exchange)
            if body is None:
                return
            try:
                request = parse_completions_request(body, require_model=keyed)
            except RequestError as exc:
                await exchange.send_error(exc.status, exc.detail)
                return
            legacy = exchange.request.headers.get(STREAM_FORMAT_HEADER, "").lower() == "legacy"
            await _answer_completions(exchange, request, legacy=legacy)

        return handle


def _check_builtin_tools(body: Mapping[str, Any]) -> None:
    """Tool-assisted extras: at most 128 tools, ``file:text`` takes one file id."""
    tools = body.get("tools") or []
    if len(tools) > _MAX_TOOLS:
        raise RequestError(f"'tools' supports at most {_MAX_TOOLS} tools; got {len(tools)}")
    for index, tool in enumerate(tools):
        if tool.get("type") != "file:text":
            continue
        files = tool.get("files")
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise RequestError(f"'tools[{index}].files' is required: a list of file ids")
        if len(files) != 1:
            raise RequestError(
                f"'tools[{index}].files' supports exactly one file currently; got {len(files)}"
            )


# ----------------------------------------------------------------- built-in tool runs


@dataclass(frozen=True)
class ToolRun:
    """One execution of a built-in tool, as its ``tool_status`` events report it.

    Attributes:
        call_id: The ``tool_call_id``.
        name: The built-in tool.
        parameters: ``(name, value)`` pairs, values as strings.
        result: The tool output text (ENDED), None when it failed.
        error: The failure text (ERRORED), None when it succeeded.
        answer: The sentence the final answer says about this run.
        progress: The ``message`` of an ``UPDATING`` status, None for none.
    """

    call_id: str
    name: str
    parameters: list[tuple[str, str]]
    result: str | None
    error: str | None
    answer: str
    progress: str | None = None

    def status_records(self, timestamp: int) -> list[dict[str, Any]]:
        """The ``tool_status`` data objects: STARTED, [UPDATING], ENDED or ERRORED.

        Args:
            timestamp: Unix seconds.

        Returns:
            The records, in order.
        """

        def record(status: str, **fields: Any) -> dict[str, Any]:
            base: dict[str, Any] = {
                "tool_call_id": self.call_id,
                "name": self.name,
                "status": status,
                "parameters": [{"name": k, "value": v} for k, v in self.parameters],
                "result": None,
                "files": None,
                "message": None,
                "error": None,
                "usage": None,
                "timestamp": timestamp,
            }
            base.update(fields)
            return base

        records = [record("STARTED")]
        if self.progress is not None:
            records.append(record("UPDATING", message=self.progress))
        if self.error is not None:
            records.append(
                record("ERRORED", error={"type": "INVALID_PARAMETER", "msg": self.error})
            )
        else:
            records.append(record("ENDED", result=self.result))
        return records


@dataclass(frozen=True)
class _Outcome:
    """What a tool runner produced, before the call id is assigned."""

    parameters: list[tuple[str, str]]
    result: str | None
    error: str | None
    answer: str
    progress: str | None = None


_Runner = Callable[[str, Mapping[str, Any], bool], "_Outcome | None"]


def plan_runs(request: ChatRequest, *, resume: bool) -> list[ToolRun]:
    """Decide which built-in tools the model runs, and run them.

    Only a conversation whose last message is the user's runs tools; ``tool_choice``
    ``none`` or a named function runs none; ``required`` with no applicable built-in
    tool and no function tool runs the first built-in tool on the whole message.
    Without ``resume_generation`` the runs stop at the first failure.

    Args:
        request: The validated tool-assisted request.
        resume: ``resume_generation``.

    Returns:
        The runs, in the order of ``tools``.
    """
    messages = request.messages
    choice = request.tool_choice
    if (
        not request.server_tools
        or choice == "none"
        or isinstance(choice, Mapping)
        or messages[-1].get("role") != "user"
    ):
        return []
    text = last_user_text(messages)
    salt = hashlib.sha256(
        json.dumps(messages, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    ).hexdigest()
    outcomes: list[tuple[str, _Outcome]] = []
    seen: set[str] = set()
    for tool in request.server_tools:
        name = str(tool["type"])
        if name in seen:
            continue
        seen.add(name)
        outcome = _RUNNERS[name](text, tool, False)
        if outcome is not None:
            outcomes.append((name, outcome))
    if not outcomes and choice == "required" and not request.tools:
        first = request.server_tools[0]
        forced = _RUNNERS[str(first["type"])](text, first, True)
        if forced is not None:
            outcomes.append((str(first["type"]), forced))
    runs: list[ToolRun] = []
    for index, (name, outcome) in enumerate(outcomes):
        digest = hashlib.sha256(f"{salt}:builtin:{index}".encode()).hexdigest()
        runs.append(
            ToolRun(
                call_id=f"call_{digest[:24]}",
                name=name,
                parameters=outcome.parameters,
                result=outcome.result,
                error=outcome.error,
                answer=outcome.answer,
                progress=outcome.progress,
            )
        )
        if outcome.error is not None and not resume:
            break
    return runs


def _tools_completion(
    request: ChatRequest, runs: Sequence[ToolRun], reply: Reply | None, *, resume: bool
) -> Completion:
    """The final answer after the built-in runs (or a user function call)."""
    failed = any(run.error is not None for run in runs)
    if reply is not None or not runs:
        completion = generate(request, reply, provider=PROVIDER)
    elif failed and not resume:
        completion = generate(request, Reply(text=""), provider=PROVIDER)
    else:
        completion = generate(request, None, provider=PROVIDER)
        if not completion.tool_calls:
            answer = " ".join(run.answer for run in runs if run.answer)
            completion = generate(request, Reply(text=answer), provider=PROVIDER)
    extra = sum(count_tokens(run.result or run.error or "") for run in runs)
    if reply is not None and reply.prompt_tokens is not None:
        extra = 0
    return replace(completion, prompt_tokens=completion.prompt_tokens + extra)


# ------------------------------------------------------------------------ calculator


class _CalcError(ValueError):
    """An expression that cannot be evaluated (the text is the tool's error message)."""


_ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_EXPR_RE = re.compile(r"[-+*/^×÷().\d\s]+")
_BINARY_RE = re.compile(r"[\d.)]\s*(?:\*\*|[-+*/^×÷])\s*[-+(\d.]")
_CALC_TOKEN_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+|\*\*|[-+*/^×÷()]|\S)")
_WORD_OPERATORS = (
    (re.compile(r"\bto the power of\b", re.IGNORECASE), "**"),
    (re.compile(r"\b(?:multiplied by|times)\b", re.IGNORECASE), "*"),
    (re.compile(r"\b(?:divided by|over)\b", re.IGNORECASE), "/"),
    (re.compile(r"\bplus\b", re.IGNORECASE), "+"),
    (re.compile(r"\bminus\b", re.IGNORECASE), "-"),
)
_MAX_EXPONENT = 4096
_SYMBOLS = {"^": "**", "×": "*", "÷": "/"}
_OPERATORS = frozenset({"+", "-", "*", "/", "**", "(", ")"})
_Number = Fraction | float


def find_expression(text: str) -> str | None:
    """The longest arithmetic expression in a text (dates excluded), or None.

    Args:
        text: The user message.

    Returns:
        The expression as written with symbols (word operators replaced).
    """
    text = _ISO_DATE_RE.sub(" ", text)
    for pattern, symbol in _WORD_OPERATORS:
        text = pattern.sub(f" {symbol} ", text)
    best: str | None = None
    for match in _EXPR_RE.finditer(text):
        candidate = match.group(0).strip().strip(".").strip()
        candidate = re.sub(r"\s+", " ", candidate)
        if _BINARY_RE.search(candidate) and len(candidate) > len(best or ""):
            best = candidate
    return best


class _Calculator:
    """A recursive-descent evaluator: ``+ - * / ** ^ × ÷``, parentheses, unary signs.

    Numbers are exact fractions; a non-integer power falls back to floats.
    """

    def __init__(self, expression: str) -> None:
        self.tokens: list[str] = []
        for found in _CALC_TOKEN_RE.findall(expression):
            symbol = _SYMBOLS.get(found, found)
            if not (symbol[0].isdigit() or symbol[0] == "." or symbol in _OPERATORS):
                raise _CalcError(f"invalid character {symbol!r} in expression")
            self.tokens.append(symbol)
        self.pos = 0

    def evaluate(self) -> _Number:
        if not self.tokens:
            raise _CalcError("empty expression")
        value = self._sum()
        if self.pos != len(self.tokens):
            raise _CalcError(f"unexpected {self.tokens[self.pos]!r} in expression")
        return value

    def _peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def _sum(self) -> _Number:
        value = self._product()
        while self._peek() in ("+", "-"):
            operator = self.tokens[self.pos]
            self.pos += 1
            right = self._product()
            value = value + right if operator == "+" else value - right
        return value

    def _product(self) -> _Number:
        value = self._unary()
        while self._peek() in ("*", "/"):
            operator = self.tokens[self.pos]
            self.pos += 1
            right = self._unary()
            if operator == "*":
                value = value * right
            elif right == 0:
                raise _CalcError("division by zero")
            else:
                value = value / right
        return value

    def _unary(self) -> _Number:
        if self._peek() in ("+", "-"):
            operator = self.tokens[self.pos]
            self.pos += 1
            value = self._unary()
            return -value if operator == "-" else value
        return self._power()

    def _power(self) -> _Number:
        base = self._atom()
        if self._peek() != "**":
            return base
        self.pos += 1
        exponent = self._unary()
        return _power(base, exponent)

    def _atom(self) -> _Number:
        symbol = self._peek()
        if symbol == "(":
            self.pos += 1
            value = self._sum()
            if self._peek() != ")":
                raise _CalcError("missing closing parenthesis")
            self.pos += 1
            return value
        if symbol and (symbol[0].isdigit() or symbol[0] == "."):
            self.pos += 1
            return Fraction(symbol)
        if not symbol:
            raise _CalcError("incomplete expression")
        raise _CalcError(f"unexpected {symbol!r} in expression")


def _power(base: _Number, exponent: _Number) -> _Number:
    """``base ** exponent``, exact for integer exponents, guarded against blow-ups."""
    if base == 0 and exponent < 0:
        raise _CalcError("division by zero")
    if isinstance(exponent, Fraction) and exponent.denominator == 1:
        if abs(exponent) > _MAX_EXPONENT:
            raise _CalcError("result too large")
        exact: _Number = base**exponent.numerator
        return exact
    try:
        value: Any = float(base) ** float(exponent)
    except OverflowError as exc:
        raise _CalcError("result too large") from exc
    if isinstance(value, complex):
        raise _CalcError("math domain error")
    return float(value)


def evaluate(expression: str) -> _Number:
    """Evaluate an arithmetic expression safely (no ``eval``).

    Args:
        expression: E.g. ``"3 + 6"`` or ``"-(2.5 ** 2) / 4"``.

    Returns:
        The exact (Fraction) or float value.

    Raises:
        ValueError: With the tool's error message, e.g. ``"division by zero"``.
    """
    value = _Calculator(expression).evaluate()
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        finite = False
    if not finite:
        raise _CalcError("result too large")
    return value


def _raw_number(value: _Number) -> str:
    """The calculator's own spelling: integers plain, others with 15 significant digits."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    return format(float(value), "#.15g")


def pretty_number(value: float | Fraction) -> str:
    """A number for an answer sentence: ``9``, ``2.5``, ``0.3333``.

    Args:
        value: The number.

    Returns:
        The text.
    """
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    text = f"{number:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("0", "-0") else f"{number:.4g}"


def _calculator(text: str, tool: Mapping[str, Any], forced: bool) -> _Outcome | None:
    """``math:calculator``: evaluate the expression the message contains."""
    del tool
    expression = find_expression(text)
    if expression is None:
        if not forced:
            return None
        expression = text.strip()
    parameters = [("expression", expression)]
    try:
        value = evaluate(expression)
    except ValueError as exc:
        message = str(exc)
        answer = f"I could not evaluate {expression}: {message}."
        return _Outcome(parameters, None, message, answer)
    result = json.dumps(json.dumps({"result": f"{expression}={_raw_number(value)}"}))
    return _Outcome(parameters, result, None, f"{expression} = {pretty_number(value)}.")


# ------------------------------------------------------------------------ statistics

_STATS_RE = re.compile(
    r"\b(mean|average|median|standard deviation|std ?dev|stdev|variance|statistics|stats)\b",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w)")


def _statistics(text: str, tool: Mapping[str, Any], forced: bool) -> _Outcome | None:
    """``math:statistics``: really compute the statistics of the message's numbers."""
    del tool
    numbers = [float(n) for n in _NUMBER_RE.findall(_ISO_DATE_RE.sub(" ", text))]
    if not forced and (_STATS_RE.search(text) is None or not numbers):
        return None
    shown = ", ".join(pretty_number(n) for n in numbers)
    parameters = [("data", f"[{shown}]")]
    if not numbers:
        message = "no numbers to compute statistics of"
        return _Outcome(parameters, None, message, f"I could not compute statistics: {message}.")
    stdev = statistics.stdev(numbers) if len(numbers) > 1 else 0.0
    values = {
        "count": len(numbers),
        "mean": statistics.fmean(numbers),
        "median": statistics.median(numbers),
        "stdev": stdev,
        "variance": stdev * stdev,
        "min": min(numbers),
        "max": max(numbers),
        "sum": math.fsum(numbers),
    }
    result = json.dumps({k: round(v, 6) for k, v in values.items()})
    answer = (
        f"For {shown}: mean = {pretty_number(values['mean'])}, "
        f"median = {pretty_number(values['median'])}, "
        f"standard deviation = {pretty_number(values['stdev'])}, "
        f"min = {pretty_number(values['min'])}, max = {pretty_number(values['max'])}."
    )
    return _Outcome(parameters, result, None, answer)


# -------------------------------------------------------------------------- calendar

_CALENDAR_RE = re.compile(
    r"\b(day of (?:the )?week|weekday|what day|which day|date|today|tomorrow|yesterday"
    r"|calendar|how many days|days (?:between|until|since|from))\b",
    re.IGNORECASE,
)
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTH_FIRST_RE = re.compile(
    rf"\b{_MONTH}\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", re.IGNORECASE
)
_DAY_FIRST_RE = re.compile(rf"\b(\d{{1,2}}) {_MONTH}\.?,? (\d{{4}})\b", re.IGNORECASE)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _month(name: str) -> int:
    """The month number of an English month name or abbreviation."""
    lowered = name.lower()
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(lowered[:3]))


def find_dates(text: str) -> list[tuple[str, tuple[int, int, int]]]:
    """Dates written in a text (ISO, "May 20, 2024", "20 May 2024"), in order.

    Args:
        text: The user message.

    Returns:
        ``(as written, (year, month, day))`` pairs, not yet checked for validity.
    """
    found: list[tuple[int, str, tuple[int, int, int]]] = []
    for m in _ISO_DATE_RE.finditer(text):
        found.append((m.start(), m.group(0), (int(m[1]), int(m[2]), int(m[3]))))
    for m in _MONTH_FIRST_RE.finditer(text):
        found.append((m.start(), m.group(0), (int(m[3]), _month(m[1]), int(m[2]))))
    for m in _DAY_FIRST_RE.finditer(text):
        found.append((m.start(), m.group(0), (int(m[3]), _month(m[2]), int(m[1]))))
    return [(written, parts) for _, written, parts in sorted(found)]


def _calendar(text: str, tool: Mapping[str, Any], forced: bool) -> _Outcome | None:
    """``math:calendar``: a date's weekday, days between two dates, or today."""
    del tool
    if not forced and _CALENDAR_RE.search(text) is None:
        return None
    written = find_dates(text)
    try:
        dates = [date(*parts) for _, parts in written]
    except ValueError as exc:
        parameters = [("date", written[0][0])]
        return _Outcome(parameters, None, str(exc), f"I could not read that date: {exc}.")
    if len(dates) >= 2:
        start, end = dates[0], dates[1]
        days = (end - start).days
        parameters = [("start_date", start.isoformat()), ("end_date", end.isoformat())]
        result = json.dumps(
            {"start_date": start.isoformat(), "end_date": end.isoformat(), "days": days}
        )
        answer = f"There are {abs(days)} days between {start.isoformat()} and {end.isoformat()}."
        return _Outcome(parameters, result, None, answer)
    if dates:
        day = dates[0]
        weekday = _WEEKDAYS[day.weekday()]
        result = json.dumps({"date": day.isoformat(), "weekday": weekday})
        return _Outcome(
            [("date", day.isoformat())], result, None, f"{day.isoformat()} is a {weekday}."
        )
    lowered = text.lower()
    offset, label = (1, "Tomorrow") if "tomorrow" in lowered else (0, "Today")
    if "yesterday" in lowered:
        offset, label = -1, "Yesterday"
    day = date.today() + timedelta(days=offset)
    weekday = _WEEKDAYS[day.weekday()]
    result = json.dumps({"date": day.isoformat(), "weekday": weekday})
    parameters = [("query", label.lower())]
    verb = "was" if offset < 0 else "is"
    return _Outcome(parameters, result, None, f"{label} {verb} {weekday}, {day.isoformat()}.")


# ------------------------------------------------------------------ canned web tools

_SEARCH_RE = re.compile(
    r"\b(search|look(?:ing)? ?up|latest|news|current|recent|find|web|internet|online|weather"
    r"|price|rate)\b",
    re.IGNORECASE,
)
_URL_RE = re.compile(r"https?://[^\s<>\"')\]]+")
_CODE_RE = re.compile(r"\b(python|code|script|program|execute|run)\b", re.IGNORECASE)
_FILE_RE = re.compile(
    r"\b(files?|documents?|pdf|attach\w*|summari[sz]e|txt|uploaded)\b", re.IGNORECASE
)


def _canned(name: str, parameters: list[tuple[str, str]]) -> _Outcome:
    """A clearly marked stand-in result for a tool the emulator cannot really run."""
    marker = f"[emulator canned result for {name}]"
    result = f"{marker} No live data is available offline; this text stands in for the output."
    return _Outcome(
        parameters,
        result,
        None,
        f"Here is what {name} returned: {marker}",
        progress=f"[emulator] {name} is running",
    )


def _search(name: str) -> _Runner:
    """``web:search`` / ``linkup:search``: canned, when the message asks to search."""

    def run(text: str, tool: Mapping[str, Any], forced: bool) -> _Outcome | None:
        del tool
        if not forced and _SEARCH_RE.search(text) is None:
            return None
        return _canned(name, [("query", text.strip())])

    return run


def _web_url(text: str, tool: Mapping[str, Any], forced: bool) -> _Outcome | None:
    """``web:url``: canned, when the message contains a URL."""
    del tool
    match = _URL_RE.search(text)
    if match is None and not forced:
        return None
    return _canned("web:url", [("url", match.group(0).rstrip(".,;:!?") if match else text)])


def _python(text: str, tool: Mapping[str, Any], forced: bool) -> _Outcome | None:
    """``code:python-interpreter``: canned, when the message mentions code or Python."""
    del tool
    if not forced and _CODE_RE.search(text) is None:
        return None
    code = f"# written by the emulator\nprint({text.strip()!r})"
    return _canned("code:python-interpreter", [("code", code)])


def _file_text(text: str, tool: Mapping[str, Any], forced: bool) -> _Outcome | None:
    """``file:text``: canned, when the message mentions a file or document."""
    if not forced and _FILE_RE.search(text) is None:
        return None
    files = tool.get("files") or [""]
    return _canned("file:text", [("file_id", str(files[0]))])


_RUNNERS: dict[str, _Runner] = {
    "math:calculator": _calculator,
    "math:statistics": _statistics,
    "math:calendar": _calendar,
    "web:search": _search("web:search"),
    "linkup:search": _search("linkup:search"),
    "web:url": _web_url,
    "code:python-interpreter": _python,
    "file:text": _file_text,
}


# ------------------------------------------------------------------ text completions


@dataclass(frozen=True)
class CompletionsRequest:
    """A validated text completions request.

    Attributes:
        model: The requested model (None when optional and omitted).
        prompts: The prompt texts (one per prompt; the tokens form gets a stand-in).
        prompt_tokens: The prompt token count of each prompt.
        n: Generations per prompt.
        stop: Stop phrases (excluded from the output).
        max_tokens: Completion token limit per prompt (from ``max_tokens`` or
            ``max_total_tokens``), None for none.
        seed: The seed(s), None when unset.
        logprobs: Alternatives per position, None when not requested.
        stream: Whether to stream.
        include_usage: Whether the stream ends with a usage chunk.
        response_format: The validated ``response_format``, None when unset.
        timeout_microseconds: The legacy request timeout, None when unset.
    """

    model: str | None
    prompts: list[str]
    prompt_tokens: list[int]
    n: int
    stop: list[str]
    max_tokens: list[int | None]
    seed: int | list[int] | None
    logprobs: int | None
    stream: bool
    include_usage: bool
    response_format: Mapping[str, Any] | None
    timeout_microseconds: int | None


def _token_sequences(body: Mapping[str, Any], key: str) -> None:
    """``bad_word_tokens`` / ``stop_tokens``: a list of ``{"tokens": [int, ...]}``."""
    value = body.get(key)
    if value is None:
        return
    valid = isinstance(value, list) and all(
        isinstance(item, Mapping)
        and isinstance(item.get("tokens"), list)
        and all(isinstance(t, int) and not isinstance(t, bool) for t in item["tokens"])
        for item in value
    )
    if not valid:
        raise RequestError(f"'{key}' must be a list of {{\"tokens\": [integers]}} objects")


def _both_or_neither(body: Mapping[str, Any], first: str, second: str) -> None:
    """Two fields that only make sense together."""
    if (body.get(first) is None) != (body.get(second) is None):
        raise RequestError(f"'{first}' and '{second}' must be given together")


def _one_of(body: Mapping[str, Any], first: str, second: str) -> None:
    """Two mutually exclusive fields."""
    if body.get(first) is not None and body.get(second) is not None:
        raise RequestError(f"Only one of '{first}' and '{second}' can be set")


def _beam_search(body: Mapping[str, Any], stream: bool, n: int, stop: list[str]) -> None:
    """The legacy beam-search fields and their documented restrictions."""
    beams = read_int(body, "num_beams", low=1, high=31)
    kind = body.get("beam_search_type")
    if kind is not None and kind not in _BEAM_TYPES:
        allowed = ", ".join(f"'{t}'" for t in _BEAM_TYPES)
        raise RequestError(f"'beam_search_type' must be one of {allowed}; got {json.dumps(kind)}")
    read_bool(body, "early_stopping")
    read_float(body, "length_penalty")
    for key in ("early_stopping", "length_penalty"):
        if body.get(key) is not None and beams is None:
            raise RequestError(f"'{key}' is only allowed for beam search ('num_beams')")
    if beams is None or beams <= 1:
        return
    if stream:
        raise RequestError("'stream' is not supported with beam search ('num_beams' > 1)")
    if n > 1:
        raise RequestError("'n' > 1 is not supported with beam search ('num_beams' > 1)")
    if stop:
        raise RequestError(
            "'stop' is not supported with beam search ('num_beams' > 1); use 'stop_tokens'"
        )
    if (kind or "DETERMINISTIC") == "DETERMINISTIC":
        for key in ("top_k", "top_p"):
            if body.get(key) is not None:
                raise RequestError(
                    f"'{key}' is not allowed with the DETERMINISTIC 'beam_search_type'"
                )


def _prompts(body: Mapping[str, Any]) -> tuple[list[str], list[int]]:
    """Exactly one of ``prompt`` (string or list of strings) and ``tokens``."""
    prompt, tokens = body.get("prompt"), body.get("tokens")
    if prompt is None and tokens is None:
        raise RequestError("Either 'prompt' or 'tokens' is required")
    _one_of(body, "prompt", "tokens")
    if tokens is not None:
        ids = read_list(body, "tokens", "integer") or []
        if not ids:
            raise RequestError("'tokens' must not be empty")
        return [f"tokens {ids}"], [len(ids)]
    if isinstance(prompt, str):
        return [prompt], [count_tokens(prompt)]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return list(prompt), [count_tokens(p) for p in prompt]
    raise RequestError("'prompt' must be a string or a non-empty list of strings")


def parse_completions_request(
    body: Mapping[str, Any], *, require_model: bool = True
) -> CompletionsRequest:
    """Validate a completions body: current fields and the legacy (seed) ones.

    Args:
        body: The JSON body.
        require_model: Whether ``model`` is required (container: optional).

    Returns:
        The request.

    Raises:
        RequestError: On the first invalid field or combination.
    """
    model = read_model(body, required=require_model)
    prompts, prompt_tokens = _prompts(body)
    _one_of(body, "max_tokens", "max_total_tokens")
    _one_of(body, "min_tokens", "min_total_tokens")
    options = read_sampling(body, repetition_floor=1.0)
    max_total = read_int(body, "max_total_tokens", low=1)
    read_int(body, "min_total_tokens", low=0)
    _beam_search(body, options.stream, options.n, options.stop)
    read_int(body, "no_repeat_ngram", low=1)
    read_int(body, "encoder_no_repeat_ngram", low=1)
    read_float(body, "encoder_repetition_penalty", low=1.0)
    read_list(body, "bad_words", "string")
    _token_sequences(body, "bad_word_tokens")
    _token_sequences(body, "stop_tokens")
    read_list(body, "forced_output_tokens", "integer")
    read_list(body, "token_index_to_replace", "integer")
    read_list(body, "embedding_to_replace", "number")
    _both_or_neither(body, "token_index_to_replace", "embedding_to_replace")
    read_bool(body, "include_output_logits")
    read_bool(body, "include_output_logprobs")
    timeout = read_int(body, "timeout_microseconds", low=1)
    logprobs = read_int(body, "logprobs", low=0, high=_MAX_LOGPROBS)
    limits: list[int | None] = []
    for count in prompt_tokens:
        if max_total is None:
            limits.append(options.max_tokens)
        elif max_total <= count:
            raise RequestError(
                f"'max_total_tokens' ({max_total}) must be greater than the number of "
                f"prompt tokens ({count})"
            )
        else:
            limits.append(max_total - count)
    return CompletionsRequest(
        model=model,
        prompts=prompts,
        prompt_tokens=prompt_tokens,
        n=options.n,
        stop=options.stop,
        max_tokens=limits,
        seed=options.seed,
        logprobs=logprobs,
        stream=options.stream,
        include_usage=options.include_usage,
        response_format=options.response_format,
        timeout_microseconds=timeout,
    )


def token_id(piece: str) -> int:
    """A deterministic pseudo vocabulary id for a token text (same text, same id).

    Args:
        piece: The token text.

    Returns:
        An id in [1000, 128000).
    """
    digest = hashlib.sha256(piece.encode("utf-8")).digest()
    return 1000 + int.from_bytes(digest[:4], "big") % 127000


@dataclass(frozen=True)
class _Choice:
    """One generated completions choice."""

    index: int
    seed: int
    prompt: str
    completion: Completion


def _seed(request: CompletionsRequest, generation: int, prompt: str) -> int:
    """The seed a generation used: given, derived from a given int, or pseudo-random."""
    if isinstance(request.seed, list):
        return request.seed[generation]
    if isinstance(request.seed, int):
        return request.seed + generation
    digest = hashlib.sha256(f"{prompt}:{generation}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def _default_text(prompt: str, generation: int) -> str:
    """The default continuation of a prompt (different per generation)."""
    sample = f" (sample {generation + 1})" if generation else ""
    return f" This is the {PROVIDER} emulator continuing{sample}: {prompt}"


def generate_choices(request: CompletionsRequest, reply: Reply | None) -> list[_Choice]:
    """Generate ``n`` choices per prompt (prompt-major ``index``).

    Args:
        request: The validated request.
        reply: A scripted reply (same text for every choice), if any.

    Returns:
        The choices.
    """
    choices = []
    for number, (prompt, prompt_tokens, limit) in enumerate(
        zip(request.prompts, request.prompt_tokens, request.max_tokens, strict=True)
    ):
        messages = [{"role": "user", "content": prompt}]
        for generation in range(request.n):
            scripted = reply
            if scripted is None:
                text = structured_text(request.response_format, messages, provider=PROVIDER)
                scripted = Reply(
                    text=text if text is not None else _default_text(prompt, generation)
                )
            completion = complete(ModelRequest(messages=messages), scripted, provider=PROVIDER)
            completion = replace(completion, tool_calls=[])
            if reply is None or reply.prompt_tokens is None:
                completion = replace(completion, prompt_tokens=prompt_tokens)
            completion = apply_limits(completion, stop=request.stop, max_tokens=limit, reply=reply)
            choices.append(
                _Choice(
                    index=number * request.n + generation,
                    seed=_seed(request, generation, prompt),
                    prompt=prompt,
                    completion=completion,
                )
            )
    return choices


def _completion_reason(completion: Completion) -> str:
    """Completions report ``stop`` or ``length``."""
    if completion.finish_reason_override is not None:
        return completion.finish_reason_override
    return "length" if completion.finish_reason == "length" else "stop"


def _logprobs(tokens: Sequence[str], top: int, offset: int, start: int = 0) -> dict[str, Any]:
    """The completions ``logprobs`` object (OpenAI legacy shape) for some tokens."""
    offsets, position = [], offset
    for token in tokens:
        offsets.append(position)
        position += len(token)
    return {
        "text_offset": offsets,
        "token_logprobs": [token_logprob(t, start + i) for i, t in enumerate(tokens)],
        "tokens": list(tokens),
        "top_logprobs": [dict(top_alternatives(t, start + i, top)) for i, t in enumerate(tokens)],
    }


def _usage(request: CompletionsRequest, choices: Sequence[_Choice]) -> dict[str, int]:
    """The ``usage`` object: every prompt once, every choice's output."""
    prompt = sum(request.prompt_tokens)
    if choices and choices[0].completion.prompt_tokens != request.prompt_tokens[0]:
        prompt = choices[0].completion.prompt_tokens  # scripted by a Reply
    generated = sum(c.completion.completion_tokens for c in choices)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": generated,
        "total_tokens": prompt + generated,
    }


def encode_completions(
    request: CompletionsRequest, choices: Sequence[_Choice], response_id: str
) -> dict[str, Any]:
    """The non-streaming ``text_completion`` body (no ``created``, as documented).

    Args:
        request: The validated request.
        choices: The generated choices.
        response_id: The ``cmpl-...`` id.

    Returns:
        The JSON object.
    """
    encoded = []
    for choice in choices:
        completion = choice.completion
        item: dict[str, Any] = {
            "index": choice.index,
            "seed": choice.seed,
            "text": completion.text,
            "tokens": [token_id(t) for t in completion.tokens],
            "finish_reason": _completion_reason(completion),
        }
        if request.logprobs is not None:
            item["logprobs"] = _logprobs(completion.tokens, request.logprobs, len(choice.prompt))
        encoded.append(item)
    return {
        "id": response_id,
        "model": request.model,
        "object": "text_completion",
        "choices": encoded,
        "usage": _usage(request, choices),
    }


def _stream_records(
    request: CompletionsRequest, choices: Sequence[_Choice], response_id: str, created: int
) -> list[dict[str, Any]]:
    """The current stream: one chunk per token (with its id), finish chunks, usage."""

    def chunk(choice: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": response_id,
            "object": "text_completion",
            "model": request.model,
            "choices": [choice],
            "created": created,
        }

    per_choice = []
    for choice in choices:
        items: list[dict[str, Any]] = []
        offset = len(choice.prompt)
        for position, token in enumerate(choice.completion.tokens):
            logprobs = None
            if request.logprobs is not None:
                logprobs = _logprobs([token], request.logprobs, offset, position)
            offset += len(token)
            items.append(
                {
                    "index": choice.index,
                    "text": token,
                    "token": token_id(token),
                    "finish_reason": None,
                    "logprobs": logprobs,
                }
            )
        reason = _completion_reason(choice.completion)
        items.append({"index": choice.index, "text": "", "finish_reason": reason, "logprobs": None})
        per_choice.append(items)
    records = [chunk(item) for group in zip_longest(*per_choice) for item in group if item]
    if request.include_usage:
        records.append(
            {
                "id": response_id,
                "object": "text_completion",
                "model": request.model,
                "choices": [],
                "usage": _usage(request, choices),
                "created": created,
            }
        )
    return records


def _legacy_records(request: CompletionsRequest, choices: Sequence[_Choice]) -> list[Any]:
    """The legacy stream: ``token_sampled`` lines, then the complete record."""
    per_choice = [
        [
            {"event": "token_sampled", "index": c.index, "text": t, "token": token_id(t)}
            for t in c.completion.tokens
        ]
        for c in choices
    ]
    records: list[Any] = [item for group in zip_longest(*per_choice) for item in group if item]
    records.append(
        {
            "choices": [
                {
                    "index": c.index,
                    "seed": c.seed,
                    "text": c.completion.text,
                    "tokens": [token_id(t) for t in c.completion.tokens],
                }
                for c in choices
            ],
            "usage": _usage(request, choices),
        }
    )
    return records


async def _answer_completions(
    exchange: Exchange, request: CompletionsRequest, *, legacy: bool
) -> None:
    """Dequeue, apply faults, generate and send the JSON body or the stream."""
    item = exchange.take(stream=request.stream)
    if await exchange.apply_http_fault(item, stream=request.stream):
        return
    fault, reply = split_item(item)
    choices = generate_choices(request, reply)
    generated = max((c.completion.completion_tokens for c in choices), default=0)
    needed = _MICROSECONDS_PER_TOKEN * max(generated, 1)
    if request.timeout_microseconds is not None and request.timeout_microseconds < needed:
        await exchange.send_error(
            429, f"Request timed out after {request.timeout_microseconds} microseconds"
        )
        return
    response_id = new_id("cmpl-")
    if not request.stream:
        await exchange.send_json(200, encode_completions(request, choices, response_id))
        return
    if legacy:
        events = [StreamEvent(sse(record)) for record in _legacy_records(request, choices)]
    else:
        records = _stream_records(request, choices, response_id, int(time.time()))
        events = [StreamEvent(sse(record)) for record in records]
        events.append(StreamEvent(DONE))
    await start_sse(exchange)
    await play_stream(stream_script(events), exchange.writer, fault)

"""Simulators of Friendli's built-in tools: what each tool computes from a user message.

``math:calculator`` really evaluates arithmetic (an exact parser, no ``eval``),
``math:statistics`` computes descriptive statistics, ``math:calendar`` answers weekday
and date questions; the web, code and file tools return canned text. Each simulator
decides from the message whether the tool applies and returns a :class:`ToolOutcome`
(parameters, result or error, and the sentence the answer says about it).
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, Protocol

from .._scanner import Scanner

__all__ = [
    "Simulator",
    "ToolOutcome",
    "calculate",
    "compute_statistics",
    "evaluate",
    "file_text",
    "find_dates",
    "find_expression",
    "pretty_number",
    "python_interpreter",
    "read_calendar",
    "search",
    "web_url",
]


@dataclass(frozen=True)
class ToolOutcome:
    """What a simulated tool produced, before the call id is assigned.

    Attributes:
        parameters: ``(name, value)`` pairs, values as strings.
        result: The tool output text, None when it failed.
        error: The failure text, None when it succeeded.
        answer: The sentence the final answer says about this run.
        progress: The ``message`` of an ``UPDATING`` status, None for none.
    """

    parameters: list[tuple[str, str]]
    result: str | None
    error: str | None
    answer: str
    progress: str | None = None


class Simulator(Protocol):
    """A built-in tool's decision and run: None when the message does not call for it."""

    def __call__(self, text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
        """Run the tool on ``text`` (always, when ``forced``)."""
        ...


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


def _tokens(expression: str) -> list[str]:
    """An expression's numbers and operators (``^ × ÷`` spelled ``** * /``)."""
    tokens: list[str] = []
    for found in _CALC_TOKEN_RE.findall(expression):
        symbol = _SYMBOLS.get(found, found)
        if not (symbol[0].isdigit() or symbol[0] == "." or symbol in _OPERATORS):
            raise _CalcError(f"invalid character {symbol!r} in expression")
        tokens.append(symbol)
    return tokens


class _Calculator(Scanner):
    """A recursive-descent evaluator: ``+ - * / ** ^ × ÷``, parentheses, unary signs.

    Numbers are exact fractions; a non-integer power falls back to floats.
    """

    def evaluate(self) -> _Number:
        if self.done:
            raise _CalcError("empty expression")
        value = self._sum()
        if not self.done:
            raise _CalcError(f"unexpected {self.peek()!r} in expression")
        return value

    def _chain(self, operators: tuple[str, str], operand: Callable[[], _Number]) -> _Number:
        """Left-associative operands joined by ``operators`` (one precedence level)."""
        value = operand()
        while self.peek() in operators:
            operator = self.take()
            value = _binary(operator, value, operand())
        return value

    def _sum(self) -> _Number:
        return self._chain(("+", "-"), self._product)

    def _product(self) -> _Number:
        return self._chain(("*", "/"), self._unary)

    def _unary(self) -> _Number:
        if self.peek() in ("+", "-"):
            sign = self.take()
            value = self._unary()
            return -value if sign == "-" else value
        base = self._atom()
        if self.peek() != "**":
            return base
        self.take()
        return _power(base, self._unary())

    def _atom(self) -> _Number:
        symbol = self.take()
        if symbol == "(":
            value = self._sum()
            if self.take() != ")":
                raise _CalcError("missing closing parenthesis")
            return value
        if symbol and (symbol[0].isdigit() or symbol[0] == "."):
            return Fraction(symbol)
        if not symbol:
            raise _CalcError("incomplete expression")
        raise _CalcError(f"unexpected {symbol!r} in expression")


def _binary(operator: str, left: _Number, right: _Number) -> _Number:
    """``left <operator> right`` for ``+ - * /``."""
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        raise _CalcError("division by zero")
    return left / right


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
    value = _Calculator(_tokens(expression)).evaluate()
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


def calculate(text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
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
        return ToolOutcome(parameters, None, message, answer)
    result = json.dumps(json.dumps({"result": f"{expression}={_raw_number(value)}"}))
    return ToolOutcome(parameters, result, None, f"{expression} = {pretty_number(value)}.")


# ------------------------------------------------------------------------ statistics

_STATS_RE = re.compile(
    r"\b(mean|average|median|standard deviation|std ?dev|stdev|variance|statistics|stats)\b",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w)")


def compute_statistics(text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
    """``math:statistics``: really compute the statistics of the message's numbers."""
    del tool
    numbers = [float(n) for n in _NUMBER_RE.findall(_ISO_DATE_RE.sub(" ", text))]
    if not forced and (_STATS_RE.search(text) is None or not numbers):
        return None
    shown = ", ".join(pretty_number(n) for n in numbers)
    parameters = [("data", f"[{shown}]")]
    if not numbers:
        message = "no numbers to compute statistics of"
        return ToolOutcome(parameters, None, message, f"I could not compute statistics: {message}.")
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
    return ToolOutcome(parameters, result, None, answer)


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


def read_calendar(text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
    """``math:calendar``: a date's weekday, days between two dates, or today."""
    del tool
    if not forced and _CALENDAR_RE.search(text) is None:
        return None
    written = find_dates(text)
    try:
        dates = [date(*parts) for _, parts in written]
    except ValueError as exc:
        parameters = [("date", written[0][0])]
        return ToolOutcome(parameters, None, str(exc), f"I could not read that date: {exc}.")
    if len(dates) >= 2:
        start, end = dates[0], dates[1]
        days = (end - start).days
        parameters = [("start_date", start.isoformat()), ("end_date", end.isoformat())]
        result = json.dumps(
            {"start_date": start.isoformat(), "end_date": end.isoformat(), "days": days}
        )
        answer = f"There are {abs(days)} days between {start.isoformat()} and {end.isoformat()}."
        return ToolOutcome(parameters, result, None, answer)
    if dates:
        day = dates[0]
        weekday = _WEEKDAYS[day.weekday()]
        result = json.dumps({"date": day.isoformat(), "weekday": weekday})
        return ToolOutcome(
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
    return ToolOutcome(parameters, result, None, f"{label} {verb} {weekday}, {day.isoformat()}.")


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


def _canned(name: str, parameters: list[tuple[str, str]]) -> ToolOutcome:
    """A clearly marked stand-in result for a tool the emulator cannot really run."""
    marker = f"[emulator canned result for {name}]"
    result = f"{marker} No live data is available offline; this text stands in for the output."
    return ToolOutcome(
        parameters,
        result,
        None,
        f"Here is what {name} returned: {marker}",
        progress=f"[emulator] {name} is running",
    )


def search(name: str) -> Simulator:
    """``web:search`` / ``linkup:search``: canned, when the message asks to search."""

    def run(text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
        del tool
        if not forced and _SEARCH_RE.search(text) is None:
            return None
        return _canned(name, [("query", text.strip())])

    return run


def web_url(text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
    """``web:url``: canned, when the message contains a URL."""
    del tool
    match = _URL_RE.search(text)
    if match is None and not forced:
        return None
    return _canned("web:url", [("url", match.group(0).rstrip(".,;:!?") if match else text)])


def python_interpreter(text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
    """``code:python-interpreter``: canned, when the message mentions code or Python."""
    del tool
    if not forced and _CODE_RE.search(text) is None:
        return None
    code = f"# written by the emulator\nprint({text.strip()!r})"
    return _canned("code:python-interpreter", [("code", code)])


def file_text(text: str, tool: Mapping[str, Any], *, forced: bool) -> ToolOutcome | None:
    """``file:text``: canned, when the message mentions a file or document."""
    if not forced and _FILE_RE.search(text) is None:
        return None
    files = tool.get("files") or [""]
    return _canned("file:text", [("file_id", str(files[0]))])

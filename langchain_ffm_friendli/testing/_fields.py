"""Typed request-field readers and request errors shared by every emulated route.

Every provider validates its request bodies with these readers, the way moto validates
AWS requests with one set of parsers: a route reads each field with the reader of its
type and range and raises :class:`RequestError`; one error writer
(:meth:`Exchange.send_request_error <._exchange.Exchange.send_request_error>`) turns it
into the provider's error body. Two error styles exist because the vendors differ:

* OpenAI-compatible routes (Friendli, MonsterAPI's ``/v1/chat/completions``) reject with
  one message naming the field (``read_float``, ``read_int``, ``read_bool``...).
* FastAPI/pydantic routes (FFM, MonsterAPI's ``/v1/generate``) report pydantic error
  entries ``{"type", "loc", "msg", "input"}`` (:func:`wrong_type`, :func:`missing`,
  :func:`value_error`; the lax readers :func:`lax_int`, :func:`lax_float` and
  :func:`lax_bool` collect them as pydantic does).

Each style has its reader of the whole body (:func:`openai_body`, :func:`fastapi_body`),
which refuses a body that is not a JSON object before any field is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Reads a route's JSON object body from the parsed value and the raw bytes.
BodyReader = Callable[[Any, bytes], Mapping[str, Any]]

__all__ = [
    "BodyReader",
    "LaxReader",
    "Reader",
    "RequestError",
    "fastapi_body",
    "is_number",
    "lax_bool",
    "lax_float",
    "lax_int",
    "lax_reader",
    "message_reader",
    "missing",
    "openai_body",
    "pydantic_entry",
    "read_bool",
    "read_float",
    "read_int",
    "read_list",
    "read_model",
    "read_object",
    "show",
    "value_error",
    "wrong_type",
]

_TYPE_MESSAGES = {
    "int": "Input should be a valid integer",
    "float": "Input should be a valid number",
    "bool": "Input should be a valid boolean",
    "string": "Input should be a valid string",
    "list": "Input should be a valid list",
    "dict": "Input should be a valid dictionary",
}


class RequestError(Exception):
    """A request the server rejects: a message naming the field, or pydantic entries."""

    def __init__(self, detail: str | list[dict[str, Any]], status: int = 422) -> None:
        """Carry the detail and the HTTP status.

        Args:
            detail: A message naming the field, or pydantic error entries.
            status: The HTTP status (422 unless the provider says otherwise).
        """
        super().__init__(detail if isinstance(detail, str) else json.dumps(detail, default=str))
        self.detail = detail
        self.status = status


# ----------------------------------------------------------------------- field readers


def show(value: Any) -> str:
    """A value as JSON text for error messages."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def is_number(value: Any) -> bool:
    """True for JSON numbers (``bool`` excluded)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_int(value: Any) -> int | None:
    """An int, or an integral float as int (``bool`` excluded); None for anything else."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _as_finite_float(value: Any) -> float | None:
    """A finite JSON number as float (``bool`` excluded); None for anything else."""
    return float(value) if is_number(value) and math.isfinite(value) else None


def _as_bool(value: Any) -> bool | None:
    """A JSON boolean; None for anything else."""
    return value if isinstance(value, bool) else None


def _as_object(value: Any) -> Mapping[str, Any] | None:
    """A JSON object; None for anything else."""
    return value if isinstance(value, Mapping) else None


def _as_string(value: Any) -> str | None:
    """A JSON string; None for anything else."""
    return value if isinstance(value, str) else None


class Reader(Protocol[T_co]):
    """Reads one optional field, refusing a wrong type with a message naming it."""

    def __call__(self, body: Mapping[str, Any], key: str) -> T_co | None:
        """The value of ``body[key]``, None when absent or null.

        Args:
            body: The object holding the field.
            key: The field name.

        Raises:
            RequestError: ``'<key>' must be <a type>; got <value>``.
        """
        ...


def message_reader(noun: str, convert: Callable[[Any], T | None]) -> Reader[T]:
    """A reader that accepts what ``convert`` accepts and names ``noun`` if not.

    Args:
        noun: The expected type in the message (``a boolean``, ``an object``...).
        convert: The accepted value for an input, or None to refuse it.

    Returns:
        The reader.
    """

    def read(body: Mapping[str, Any], key: str) -> T | None:
        value = body.get(key)
        if value is None:
            return None
        converted = convert(value)
        if converted is None:
            raise RequestError(f"'{key}' must be {noun}; got {show(value)}")
        return converted

    return read


#: An optional boolean.
read_bool: Reader[bool] = message_reader("a boolean", _as_bool)
#: An optional JSON object.
read_object: Reader[Mapping[str, Any]] = message_reader("an object", _as_object)
_read_number: Reader[float] = message_reader("a number", _as_finite_float)
_read_integer: Reader[int] = message_reader("an integer", _as_int)
_read_string: Reader[str] = message_reader("a string", _as_string)


def _bounds(
    low: float | None, high: float | None, *, low_open: bool = False, high_open: bool = False
) -> str:
    """Describe a range for an error message."""
    parts = []
    if low is not None:
        parts.append(f"greater than {low}" if low_open else f"greater than or equal to {low}")
    if high is not None:
        parts.append(f"less than {high}" if high_open else f"less than or equal to {high}")
    return " and ".join(parts)


def read_float(
    body: Mapping[str, Any],
    key: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float | None:
    """Read an optional number and check its range (null means absent).

    Args:
        body: The request body.
        key: The field name.
        low: Lower bound, if any.
        high: Upper bound, if any.
        low_open: Whether the lower bound is exclusive.
        high_open: Whether the upper bound is exclusive.

    Returns:
        The value, or None when absent.

    Raises:
        RequestError: If the value is not a number or out of range.
    """
    value = _read_number(body, key)
    if value is None:
        return None
    if (low is not None and (value <= low if low_open else value < low)) or (
        high is not None and (value >= high if high_open else value > high)
    ):
        bounds = _bounds(low, high, low_open=low_open, high_open=high_open)
        raise RequestError(f"'{key}' must be {bounds}; got {show(body[key])}")
    return value


def read_int(
    body: Mapping[str, Any], key: str, *, low: int | None = None, high: int | None = None
) -> int | None:
    """Read an optional integer and check its inclusive range (null means absent).

    Args:
        body: The request body.
        key: The field name.
        low: Smallest allowed value, if any.
        high: Largest allowed value, if any.

    Returns:
        The value (an integral float as int), or None when absent.

    Raises:
        RequestError: If the value is not an integer or out of range.
    """
    value = _read_integer(body, key)
    if value is not None and (
        (low is not None and value < low) or (high is not None and value > high)
    ):
        raise RequestError(f"'{key}' must be {_bounds(low, high)}; got {value}")
    return value


_LIST_ITEMS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": is_number,
}


def read_list(body: Mapping[str, Any], key: str, item: str) -> list[Any] | None:
    """Read an optional list whose items are all of one JSON type.

    Args:
        body: The request body.
        key: The field name.
        item: ``"string"``, ``"integer"`` or ``"number"``.

    Returns:
        The list, or None when absent.

    Raises:
        RequestError: If the value is not a list of that type.
    """
    accepts = _LIST_ITEMS[item]

    def as_list(value: Any) -> list[Any] | None:
        return value if isinstance(value, list) and all(accepts(v) for v in value) else None

    return message_reader(f"a list of {item}s", as_list)(body, key)


def read_model(body: Mapping[str, Any], *, required: bool) -> str | None:
    """Read ``model``.

    Args:
        body: The request body.
        required: Whether the endpoint requires it.

    Returns:
        The model, or None when optional and absent.

    Raises:
        RequestError: If it is missing or not a string.
    """
    model = _read_string(body, "model")
    if model is None and required:
        raise RequestError("'model' is required")
    return model


def openai_body(value: Any, raw: bytes) -> Mapping[str, Any]:
    """The JSON object body of an OpenAI-compatible route.

    Args:
        value: The parsed JSON body (None when absent or not JSON).
        raw: The body bytes (unused: one message covers empty and invalid bodies).

    Returns:
        The object.

    Raises:
        RequestError: A message for a body that is not a JSON object.
    """
    del raw
    if value is None:
        raise RequestError("The request body must be a valid JSON object")
    if not isinstance(value, Mapping):
        raise RequestError("The request body must be a JSON object")
    return value


# ------------------------------------------------------------ FastAPI/pydantic style


def pydantic_entry(kind: str, loc: Sequence[str | int], msg: str, value: Any) -> dict[str, Any]:
    """One pydantic validation error entry, located in the request body.

    Args:
        kind: The pydantic error type (``missing``, ``int_type``...).
        loc: The field path below ``body``.
        msg: The message.
        value: The offending input.

    Returns:
        ``{"type", "loc": ["body", ...], "msg", "input"}``.
    """
    return {"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}


def wrong_type(loc: Sequence[str | int], kind: str, value: Any) -> dict[str, Any]:
    """A pydantic type error entry (``int_type``, ``string_type``...).

    Args:
        loc: The field path below ``body``.
        kind: ``int``, ``float``, ``bool``, ``string``, ``list`` or ``dict``.
        value: The offending input.

    Returns:
        The entry.
    """
    return pydantic_entry(f"{kind}_type", loc, _TYPE_MESSAGES[kind], value)


def missing(loc: Sequence[str | int], data: Any) -> dict[str, Any]:
    """A pydantic ``Field required`` entry.

    Args:
        loc: The field path below ``body``.
        data: The object the field is missing from.

    Returns:
        The entry.
    """
    return pydantic_entry("missing", loc, "Field required", data)


def value_error(loc: Sequence[str | int], message: str, value: Any) -> dict[str, Any]:
    """A pydantic ``value_error`` entry carrying a validator's message.

    Args:
        loc: The field path below ``body``.
        message: The validator's message (prefixed with ``Value error, ``).
        value: The offending input.

    Returns:
        The entry.
    """
    return pydantic_entry("value_error", loc, f"Value error, {message}", value)


def _body_error(raw: bytes) -> dict[str, Any]:
    """FastAPI's entry for a body that is empty (``missing``) or not JSON (``json_invalid``)."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    return {"type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error", "input": {}}


def fastapi_body(value: Any, raw: bytes) -> Mapping[str, Any]:
    """The JSON object body of a FastAPI route.

    Args:
        value: The parsed JSON body (None when absent or not JSON).
        raw: The body bytes (an empty body and an invalid one get different entries).

    Returns:
        The object.

    Raises:
        RequestError: FastAPI's entry for a body that is empty, not JSON or not an object.
    """
    if value is None:
        raise RequestError([_body_error(raw)])
    if not isinstance(value, Mapping):
        raise RequestError([wrong_type([], "dict", value)])
    return value


class LaxReader(Protocol[T_co]):
    """Reads one optional field in pydantic's lax mode."""

    def __call__(
        self,
        body: Mapping[str, Any],
        key: str,
        errors: list[dict[str, Any]],
        loc: Sequence[str] = (),
    ) -> T_co | None:
        """The value of ``body[key]``; None if unset or invalid (then an error is appended).

        Args:
            body: The object holding the field.
            key: The field name.
            errors: Where a type error is appended.
            loc: The path of ``body`` below the request body.
        """
        ...


def lax_reader(type_name: str, convert: Callable[[Any], T | None]) -> LaxReader[T]:
    """A lax-mode reader that accepts what ``convert`` accepts and names ``type_name`` if not.

    Args:
        type_name: The pydantic type named in the error (``int``, ``bool``...).
        convert: The accepted value for an input, or None to refuse it.

    Returns:
        The reader.
    """

    def read(
        body: Mapping[str, Any],
        key: str,
        errors: list[dict[str, Any]],
        loc: Sequence[str] = (),
    ) -> T | None:
        value = body.get(key)
        if value is None:
            return None
        converted = convert(value)
        if converted is None:
            errors.append(wrong_type([*loc, key], type_name, value))
        return converted

    return read


#: An optional integer in pydantic's lax mode (integral floats pass).
lax_int: LaxReader[int] = lax_reader("int", _as_int)
#: An optional finite number.
lax_float: LaxReader[float] = lax_reader("float", _as_finite_float)
#: An optional boolean.
lax_bool: LaxReader[bool] = lax_reader("bool", _as_bool)

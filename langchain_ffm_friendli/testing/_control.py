"""The emulator's control API: the HTTP face of :meth:`Emulator.queue`, ``requests``...

An app under test in another process (a FastAPI app under uvicorn, a LangGraph server, a
JavaScript front end) reaches the emulator only over HTTP, so its tests need the Python
scripting API over HTTP too. Every emulator serves it under ``/_emulator/`` on its own
port; it needs no key (the emulator is a test tool on loopback).

The JSON forms of :class:`Reply` and :class:`Fault` are read off the Python types
themselves (Reply's fields, the parameters of the Fault constructors), and the JSON is
turned back into objects by calling those constructors, so the two faces cannot drift
apart: a new Reply field or Fault kind is served over HTTP with no change here. The same
codec writes the JSON that :class:`EmulatorClient` sends.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal, Protocol, Union, get_args, get_origin, get_type_hints

from langchain_ffm_friendli._secrets import MASK

from ._exchange import RecordedRequest, json_bytes
from ._face import Scripted
from ._faults import FAULT_KINDS, Fault, FaultValueError
from ._model import Reply
from ._server import HttpRequest, ResponseWriter

__all__ = [
    "CONTROL_PREFIX",
    "ControlAPI",
    "ControlError",
    "ScriptedEmulator",
    "item_from_json",
    "item_to_json",
    "queue_from_json",
    "request_from_json",
    "request_to_json",
]

CONTROL_PREFIX = "/_emulator"

# The one JSON name that differs from its constructor parameter: the issue's own
# spelling, {"fault": {"status": 429}}, reads better than {"code": 429}.
_JSON_NAMES: dict[tuple[str, str], str] = {("status", "code"): "status"}
# Fault attributes stored under another name than the constructor parameter.
_PARAMETER_OF_ATTRIBUTE = {"status_code": "code"}
# Headers whose value is a credential: shown masked, keeping an auth scheme word.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"}
)
_AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "digest"})


class ControlError(ValueError):
    """Control input the emulator cannot use, naming the JSON field at fault.

    Attributes:
        field: The path of the field, e.g. ``items[0].fault.seconds``.
        message: What is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        """Name the field and what is wrong with it.

        Args:
            field: The field's path in the request body.
            message: What is wrong.
        """
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# ------------------------------------------------------------------ typed reading


def _show(value: Any) -> str:
    """A JSON value for an error message (shortened)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _options(hint: Any) -> tuple[Any, ...]:
    """The members of a union type, or the type itself."""
    if get_origin(hint) in (Union, types.UnionType):
        return get_args(hint)
    return (hint,)


def _describe(hint: Any) -> str:
    """What a type accepts, in JSON words (for error messages)."""
    words: list[str] = []
    for option in _options(hint):
        origin = get_origin(option)
        if option is type(None):
            words.append("null")
        elif option is bool:
            words.append("true or false")
        elif option is int:
            words.append("an integer")
        elif option is float:
            words.append("a number")
        elif option is str:
            words.append("a string")
        elif origin is Literal:
            words.append("one of " + ", ".join(_show(v) for v in get_args(option)))
        elif origin is list:
            words.append("a list")
        else:
            words.append("an object")
    return " or ".join(words)


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value has the JSON shape of a type (not yet its contents)."""
    origin = get_origin(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        integral = isinstance(value, float) and value.is_integer()
        return (isinstance(value, int) and not isinstance(value, bool)) or integral
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str or origin is Literal:
        return isinstance(value, str)
    if origin is list:
        return isinstance(value, list)
    return isinstance(value, dict)  # dict[...] and dataclasses


def _read(value: Any, hint: Any, where: str) -> Any:
    """Check a JSON value against a type and build it (dataclasses included).

    Args:
        value: The JSON value.
        hint: The Python type it must have.
        where: The value's path, for errors.

    Returns:
        The value as the type (integral floats as int, objects as dataclasses).

    Raises:
        ControlError: Naming the first field that does not fit.
    """
    fitting = [option for option in _options(hint) if _fits(value, option)]
    if not fitting:
        raise ControlError(where, f"must be {_describe(hint)}; got {_show(value)}")
    hint = fitting[0]
    origin = get_origin(hint)
    if hint is int:
        return int(value)
    if hint is float:
        return float(value)
    if origin is Literal and value not in get_args(hint):
        raise ControlError(where, f"must be {_describe(hint)}; got {_show(value)}")
    if origin is list:
        (inner,) = get_args(hint)
        return [_read(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, inner = get_args(hint)
        return {k: _read(v, inner, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _read_dataclass(value, hint, where)
    return value


def _read_dataclass(value: Mapping[str, Any], cls: type[Any], where: str) -> Any:
    """Build a dataclass (Reply, ToolCall) from a JSON object of its fields."""
    hints = get_type_hints(cls)
    fields = dataclasses.fields(cls)
    known = [f.name for f in fields]
    _refuse_unknown(value, known, where)
    kwargs: dict[str, Any] = {}
    for f in fields:
        if f.name in value:
            kwargs[f.name] = _read(value[f.name], hints[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ControlError(f"{where}.{f.name}", "required")
    return cls(**kwargs)


def _refuse_unknown(value: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    """Refuse a field that has no meaning (a typo must not be dropped silently)."""
    for name in value:
        if name not in known:
            raise ControlError(f"{where}.{name}", f"unknown field; known: {', '.join(known)}")


# ----------------------------------------------------------- Fault constructors


@dataclasses.dataclass(frozen=True)
class _Parameter:
    """One parameter of a Fault constructor and its JSON name."""

    name: str
    json_name: str
    hint: Any
    default: Any


def _constructor(kind: str) -> Callable[..., Fault]:
    """The Fault classmethod that builds a kind (``Fault.status``...)."""
    method: Callable[..., Fault] = getattr(Fault, kind)
    return method


def _parameters(kind: str) -> list[_Parameter]:
    """The JSON fields of a fault kind: its constructor's parameters."""
    method = _constructor(kind)
    hints = get_type_hints(method, localns={"Reply": Reply})
    return [
        _Parameter(
            name=p.name,
            json_name=_JSON_NAMES.get((kind, p.name), p.name),
            hint=hints[p.name],
            default=p.default,
        )
        for p in inspect.signature(method).parameters.values()
    ]


_KIND_PARAMETERS = {kind: _parameters(kind) for kind in FAULT_KINDS}
# What each Fault attribute holds when its constructor argument is left out.
_FAULT_DEFAULTS = {
    f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    for f in dataclasses.fields(Fault)
}


def _fault_from_json(value: Mapping[str, Any], where: str) -> Fault:
    """Build a fault by calling its constructor with the JSON fields."""
    kind = value.get("kind")
    if kind is None and "status" in value:
        kind = "status"  # {"fault": {"status": 429}} needs no kind
    if kind not in _KIND_PARAMETERS:
        got = "missing" if kind is None else f"got {_show(kind)}"
        raise ControlError(f"{where}.kind", f"must be one of {', '.join(FAULT_KINDS)}; {got}")
    parameters = _KIND_PARAMETERS[kind]
    _refuse_unknown(value, ["kind", *(p.json_name for p in parameters)], where)
    kwargs: dict[str, Any] = {}
    for p in parameters:
        if p.json_name in value:
            kwargs[p.name] = _read(value[p.json_name], p.hint, f"{where}.{p.json_name}")
        elif p.default is inspect.Parameter.empty:
            raise ControlError(f"{where}.{p.json_name}", f"required for a {kind} fault")
    try:
        return _constructor(kind)(**kwargs)
    except FaultValueError as exc:
        name = _PARAMETER_OF_ATTRIBUTE.get(exc.field, exc.field)
        name = _JSON_NAMES.get((kind, name), name)
        raise ControlError(f"{where}.{name}", exc.message) from None


def _fault_to_json(fault: Fault) -> dict[str, Any]:
    """The JSON fields that rebuild a fault through its constructor."""
    out: dict[str, Any] = {"kind": fault.kind}
    for p in _KIND_PARAMETERS[fault.kind]:
        attribute = next((a for a, n in _PARAMETER_OF_ATTRIBUTE.items() if n == p.name), p.name)
        if attribute not in _FAULT_DEFAULTS:
            continue  # folded into another attribute (retry_after goes into headers)
        value = getattr(fault, attribute)
        optional = p.default is not inspect.Parameter.empty
        if optional and value == _FAULT_DEFAULTS[attribute]:
            continue
        out[p.json_name] = _to_json(value)
    return out


def _to_json(value: Any) -> Any:
    """A Reply, ToolCall or plain value as JSON, leaving out fields at their default."""
    if isinstance(value, Fault):
        return _fault_to_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _to_json(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.default is dataclasses.MISSING or getattr(value, f.name) != f.default
        }
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value


# ------------------------------------------------------------------ public codec


def item_from_json(value: Any, where: str = "item") -> Reply | Fault:
    """Read ``{"reply": {...}}`` or ``{"fault": {...}}`` into a Reply or a Fault.

    Args:
        value: The JSON item (a ``route`` key is allowed and ignored here).
        where: Its path, for errors.

    Returns:
        The object the Python API would build from the same fields.

    Raises:
        ControlError: Naming the first field that is wrong.
    """
    if not isinstance(value, dict):
        raise ControlError(
            where, f'must be {{"reply": ...}} or {{"fault": ...}}; got {_show(value)}'
        )
    _refuse_unknown(value, ["reply", "fault", "route"], where)
    kinds = [key for key in ("reply", "fault") if key in value]
    if len(kinds) != 1:
        raise ControlError(where, 'must have exactly one of "reply" or "fault"')
    key = kinds[0]
    body = value[key]
    if not isinstance(body, dict):
        raise ControlError(f"{where}.{key}", f"must be an object; got {_show(body)}")
    if key == "reply":
        reply: Reply = _read_dataclass(body, Reply, f"{where}.reply")
        return reply
    return _fault_from_json(body, f"{where}.fault")


def item_to_json(item: Reply | Fault) -> dict[str, Any]:
    """The JSON item :func:`item_from_json` reads back into an equal object.

    Args:
        item: A Reply or a Fault.

    Returns:
        ``{"reply": {...}}`` or ``{"fault": {...}}``.
    """
    return {"fault" if isinstance(item, Fault) else "reply": _to_json(item)}


def queue_from_json(body: Any, routes: Collection[str]) -> list[Scripted]:
    """Read a ``POST /_emulator/queue`` body: ``{"items": [...], "route": ...}``.

    ``route`` (for every item, or on an item itself) mirrors ``queue(route=...)``.

    Args:
        body: The parsed JSON body.
        routes: The route names the emulator serves.

    Returns:
        The items with their routes, in order.

    Raises:
        ControlError: Naming the first field that is wrong (nothing is queued then).
    """
    if not isinstance(body, dict):
        raise ControlError("body", f'must be an object {{"items": [...]}}; got {_show(body)}')
    _refuse_unknown(body, ["items", "route"], "body")
    if "items" not in body:
        raise ControlError("items", "required: a list of {reply: ...} or {fault: ...}")
    items = body["items"]
    if not isinstance(items, list):
        raise ControlError("items", f"must be a list; got {_show(items)}")
    default = _route(body.get("route"), "route", routes)
    scripted: list[Scripted] = []
    for index, value in enumerate(items):
        where = f"items[{index}]"
        item = item_from_json(value, where)
        route = _route(value.get("route"), f"{where}.route", routes) if "route" in value else None
        scripted.append((item, route or default))
    return scripted


def _route(value: Any, where: str, routes: Collection[str]) -> str | None:
    """A route name the emulator serves, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in routes:
        raise ControlError(
            where, f"unknown route {_show(value)}; known: {', '.join(sorted(routes))}"
        )
    return value


def _masked(name: str, value: str, secrets: Collection[str]) -> str:
    """A header value with any credential in it masked."""
    if name in _SECRET_HEADERS:
        scheme, space, _ = value.partition(" ")
        return f"{scheme} {MASK}" if space and scheme.lower() in _AUTH_SCHEMES else MASK
    for secret in secrets:
        if secret and secret in value:
            value = value.replace(secret, MASK)
    return value


def request_to_json(request: RecordedRequest, secrets: Collection[str] = ()) -> dict[str, Any]:
    """A recorded request as JSON, credentials in headers masked.

    Args:
        request: The record.
        secrets: Values to mask wherever they appear in a header (the emulator's key).

    Returns:
        ``method``, ``path``, ``query``, ``route``, ``headers``, ``json`` (the parsed
        body or null) and ``body`` (the body as UTF-8 text).
    """
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "route": request.route,
        "headers": {k: _masked(k, v, secrets) for k, v in request.headers.items()},
        "json": request.json,
        "body": request.body.decode("utf-8", errors="replace"),
    }


def request_from_json(value: Mapping[str, Any]) -> RecordedRequest:
    """The :class:`RecordedRequest` a ``GET /_emulator/requests`` entry describes.

    Args:
        value: One entry.

    Returns:
        The record (headers as served: credentials masked).
    """
    return RecordedRequest(
        method=value["method"],
        path=value["path"],
        route=value["route"],
        headers=dict(value["headers"]),
        json=value["json"],
        body=str(value["body"]).encode("utf-8"),
        query=value["query"],
    )


# -------------------------------------------------------------------- the server


class ScriptedEmulator(Protocol):
    """What the control API reads and scripts: an :class:`Emulator`'s state."""

    api_key: str

    @property
    def url(self) -> str:
        """The server root."""
        ...

    @property
    def base_urls(self) -> dict[str, str]:
        """Every base URL, keyed by environment variable."""
        ...

    @property
    def route_names(self) -> frozenset[str]:
        """The route names ``queue(route=...)`` takes."""
        ...

    @property
    def known_models(self) -> dict[str, list[str]]:
        """The model ids each provider accepts."""
        ...

    @property
    def pending(self) -> int:
        """How many queued items are left."""
        ...

    @property
    def queued(self) -> list[Scripted]:
        """The items left and their routes."""
        ...

    @property
    def requests(self) -> list[RecordedRequest]:
        """The request log."""
        ...

    def queue(self, *items: Reply | Fault, route: str | None = None) -> None:
        """Script the next answers."""
        ...

    def reset(self) -> None:
        """Clear the queue and the request log."""
        ...


class ControlAPI:
    """Answers ``/_emulator/...`` requests on an emulator's own port.

    ``POST queue``, ``GET queue`` (what is left), ``GET pending``, ``GET requests``,
    ``POST reset`` and ``GET info`` (the base URLs, key, routes and model ids).
    """

    def __init__(self, emulator: ScriptedEmulator) -> None:
        """Serve one emulator's state.

        Args:
            emulator: The emulator scripted through this API.
        """
        self._emu = emulator
        self._endpoints: dict[str, dict[str, Callable[[Any], Any]]] = {
            "/queue": {"POST": self._queue, "GET": self._queued},
            "/pending": {"GET": self._pending},
            "/requests": {"GET": self._requests},
            "/reset": {"POST": self._reset},
            "/info": {"GET": self._info},
        }

    async def handle(self, request: HttpRequest, writer: ResponseWriter) -> None:
        """Answer one control request (never recorded, never delayed).

        Args:
            request: A request whose path is under ``/_emulator``.
            writer: Where the answer goes.
        """
        name = request.path[len(CONTROL_PREFIX) :]
        methods = self._endpoints.get(name)
        if methods is None:
            known = ", ".join(CONTROL_PREFIX + path for path in self._endpoints)
            await _send(
                writer, 404, {"error": f"no control endpoint {request.path}; known: {known}"}
            )
            return
        action = methods.get(request.method)
        if action is None:
            allow = ", ".join(sorted(methods))
            await _send(writer, 405, {"error": f"use {allow}"}, {"allow": allow})
            return
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:
            await _send(writer, 400, {"error": "body: not valid JSON", "field": "body"})
            return
        try:
            answer = action(body)
        except ControlError as exc:
            await _send(writer, 400, {"error": str(exc), "field": exc.field})
            return
        await _send(writer, 200, answer)

    def _queue(self, body: Any) -> dict[str, Any]:
        """``POST /_emulator/queue``: script items (all or none)."""
        for item, route in queue_from_json(body, self._emu.route_names):
            self._emu.queue(item, route=route)
        return {"pending": self._emu.pending}

    def _queued(self, body: Any) -> dict[str, Any]:
        """``GET /_emulator/queue``: the items not yet consumed."""
        del body
        return {
            "items": [{**item_to_json(item), "route": route} for item, route in self._emu.queued]
        }

    def _pending(self, body: Any) -> dict[str, Any]:
        """``GET /_emulator/pending``: how many items are left."""
        del body
        return {"pending": self._emu.pending}

    def _requests(self, body: Any) -> dict[str, Any]:
        """``GET /_emulator/requests``: the request log, credentials masked."""
        del body
        secrets = (self._emu.api_key,)
        return {"requests": [request_to_json(r, secrets) for r in self._emu.requests]}

    def _reset(self, body: Any) -> dict[str, Any]:
        """``POST /_emulator/reset``: clear the queue and the request log."""
        del body
        self._emu.reset()
        return {"pending": 0, "requests": 0}

    def _info(self, body: Any) -> dict[str, Any]:
        """``GET /_emulator/info``: what a client needs to point at this emulator."""
        del body
        emu = self._emu
        return {
            "url": emu.url,
            "api_key": emu.api_key,
            "base_urls": emu.base_urls,
            "routes": sorted(emu.route_names),
            "known_models": emu.known_models,
        }


async def _send(
    writer: ResponseWriter,
    status: int,
    value: Any,
    headers: dict[str, str] | None = None,
) -> None:
    """Send a JSON answer."""
    await writer.send(status, json_bytes(value), "application/json", headers)

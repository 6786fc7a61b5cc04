"""The settings every provider class shares, and what LangChain derives from them.

Provider settings classes declare their class variables (env var names, the
default URL) and their request fields; from those this module derives, once for
all seven classes: credentials from the environment, key cleaning, the base URL
rule, the transport (a private attribute built once per configuration),
``_identifying_params``, ``invocation_params``, LangSmith params, ``lc_secrets``
and serialization. A fix here reaches FFM, Friendli and MonsterAPI at once.
"""

from __future__ import annotations

import difflib
import functools
import os
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal, TypeVar

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.utils.utils import _build_model_kwargs
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    model_validator,
)

from langchain_ffm_friendli._secrets import (
    MASK,
    api_key_problem,
    basic_auth_token,
    clean_api_key,
    header_problem,
    redact_url,
    split_userinfo,
)
from langchain_ffm_friendli._transport import (
    REQUEST_ID_HEADERS,
    Exchange,
    HTTPRequest,
    RetryPolicy,
    Transport,
    to_timeout,
    url_problem,
)
from langchain_ffm_friendli.errors import AuthenticationError, InvalidParameterError

__all__ = [
    "SHARED_CALL_KWARGS",
    "ProviderSettings",
    "Wire",
    "checked_headers",
    "placed",
    "unknown_name",
    "with_headers",
]

R = TypeVar("R")

#: Per-call kwargs every class accepts besides its own fields, by where they come from.
#: None of them is copied into the body as it is, except the ``tools`` ones a chat
#: class has no field for (``parallel_tool_calls`` on FFM), sent under their OpenAI name.
SHARED_CALL_KWARGS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        # LangChain hands these to every model: ``stop``, the standard tests' ``model``,
        # ``stream``, the run manager and the tracing-only structured-output markers.
        "langchain": frozenset(
            {
                "stop",
                "run_manager",
                "model",
                "stream",
                "ls_structured_output_format",
                "structured_output_format",
            }
        ),
        # This package's options for one call.
        "options": frozenset(
            {"extra_body", "extra_headers", "total_timeout", "stream_chunk_timeout"}
        ),
        # From bind_tools, with_structured_output and agents (create_agent's
        # strategies, model_settings): chat classes only.
        "tools": frozenset(
            {"tools", "tool_choice", "response_format", "strict", "parallel_tool_calls"}
        ),
    }
)
#: Never sent as they are: read by the shared code or by LangChain.
_READ_BY_THE_PACKAGE: Final = (
    SHARED_CALL_KWARGS["langchain"] | SHARED_CALL_KWARGS["options"] | {"strict"}
)
#: The providers' credential headers: private (masked in errors, kept to their origin).
_CREDENTIAL_HEADERS: Final = frozenset({"authorization", "x-api-key"})


@dataclass(frozen=True, slots=True)
class Wire:
    """How a request field travels: its name in the body and the object it goes in.

    Declared once, beside the field (``Annotated[float | None, Wire()]``);
    from it the package derives what a call sends, which per-call kwargs a
    class accepts (and the suggestion for a misspelled one), the invocation
    and LangSmith params and the docs' parameter tables. A field declared
    with a ``Wire`` on a subclass is sent like any other.

    Attributes:
        name: the name on the wire ("" when it is the field's own name).
        place: the key of the nested object it goes in ("" for the top level of
            the body; FFM puts its sampling fields in ``parameters``).
    """

    name: str = ""
    place: str = ""

    def path(self, field: str) -> str:
        """Where the field is sent, as the docs show it (``parameters.max_new_tokens``)."""
        name = self.name or field
        return f"{self.place}.{name}" if self.place else name


def placed(values: Mapping[str, Any], wires: Mapping[str, Wire]) -> dict[str, Any]:
    """The body fragment carrying ``values`` (unset ones omitted) where their ``Wire`` says."""
    body: dict[str, Any] = {}
    for field, value in values.items():
        wire = wires.get(field)
        if value is None or wire is None:
            continue
        target = body.setdefault(wire.place, {}) if wire.place else body
        target[wire.name or field] = value
    return body


_ESCAPE_HATCH = (
    "A provider field this class does not declare can be sent verbatim with "
    "extra_body={...} (or model_kwargs={...} at init)"
)


def checked_headers(headers: Any, *, field: str, provider: str) -> dict[str, str]:
    """``headers`` if every name and value can be sent, else an error naming ``field``.

    The error names the header, never its value: header values are often
    credentials (a gateway key), and the HTTP stack would quote them.
    """
    if not isinstance(headers, Mapping):
        raise InvalidParameterError(
            field,
            f"must be a dict of header names to values; got {type(headers).__name__}",
            provider=provider,
        )
    for name, value in headers.items():
        problem = header_problem(name, value)
        if problem:
            raise InvalidParameterError(field, problem, provider=provider)
    return dict(headers)


def with_headers(request: HTTPRequest, headers: Mapping[str, str] | None) -> HTTPRequest:
    """``request`` with one call's ``extra_headers`` over its own; they are private too."""
    if not headers:
        return request
    return replace(
        request,
        headers={**request.headers, **headers},
        private=request.private | {name.lower() for name in headers},
    )


def unknown_name(
    name: str, known: Iterable[str], *, owner: str, kind: str, provider: str
) -> InvalidParameterError:
    """The error for a misspelled or unknown argument, naming the nearest known one."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    return InvalidParameterError(
        name, f"unknown {kind} of {owner}. {hint}{_ESCAPE_HATCH}", provider=provider
    )


class _InvocationParams(dict[str, Any]):
    """LangChain's ``invocation_params`` for callbacks and traces.

    LangChain writes the per-call ``stop`` over the model's params, None when
    the call passed none; the stop the request actually carries is then the
    instance's, so that one is kept.
    """

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "stop" and not value:
            return
        super().__setitem__(key, value)


class ProviderSettings(BaseModel):
    """Init arguments shared by every class, with the names every LangChain chat model uses.

    Subclasses set the class variables that say where credentials and the base
    URL come from; the validator fills them from the environment when they are
    not given, and refuses a missing model id with a message naming ``model``.
    """

    # hide_input_in_errors: pydantic would otherwise quote the init arguments,
    # api_key among them, in every validation error.
    model_config = ConfigDict(
        populate_by_name=True,
        arbitrary_types_allowed=True,
        defer_build=True,
        hide_input_in_errors=True,
    )

    provider_name: ClassVar[str] = ""
    read_per_call: ClassVar[frozenset[str]] = frozenset()
    """Per-call kwargs the class reads itself, besides its wire fields (never sent as they are)."""
    api_key_env: ClassVar[str] = ""
    base_url_env: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    api_key_required: ClassVar[bool] = True
    request_id_headers: ClassVar[tuple[str, ...]] = REQUEST_ID_HEADERS
    """Response headers that may carry the server's request id (a provider may add its own)."""
    default_timeout: ClassVar[httpx.Timeout] = httpx.Timeout(120.0, connect=10.0)

    model: str = Field(validation_alias=AliasChoices("model", "model_name"))
    """Provider model id (alias ``model_name``)."""
    api_key: SecretStr | None = None
    """API key; read from the provider's env var when not given."""
    base_url: str = ""
    """API base URL; read from the provider's env var, else the public default."""
    timeout: float | httpx.Timeout | None = None
    """Seconds (or an ``httpx.Timeout``); None means the provider's default."""
    max_retries: int = Field(default=2, ge=0)
    """Retries on connect errors, 408, 409, 429 and 5xx."""
    total_timeout: float | None = Field(default=None, ge=0)
    """Seconds for a whole call, retries, backoff and the whole body or stream included.

    None or 0: no bound beyond ``timeout`` (which bounds each connect and read).
    On expiry the call raises :class:`~langchain_ffm_friendli.errors.DeadlineExceededError`
    (also a ``TimeoutError``) and closes its connection. Also accepted per call.
    """
    default_headers: dict[str, str] | None = Field(default=None, exclude=True)
    """Extra headers sent with every request (a ``User-Agent`` here replaces ours).

    Their values are treated as credentials: masked in reprs and errors, never
    sent to another origin after a redirect, and never serialized (``dumps``,
    ``model_dump``): pass them again after loading, as ``http_client``.
    """
    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """Your own ``httpx.Client`` (the shared pooled client otherwise)."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)
    """Your own ``httpx.AsyncClient`` (the shared pooled client otherwise)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra payload fields sent verbatim (the escape hatch, kept for compatibility)."""
    extra_body: dict[str, Any] | None = None
    """Fields merged into every request body verbatim (like ChatOpenAI's ``extra_body``).

    Use it for a provider field this class does not declare (e.g. a new Friendli
    parameter). A per-call ``extra_body={...}`` is merged over it. Misspelled
    init or per-call arguments are refused instead of being sent.
    """

    _transport: Transport | None = PrivateAttr(default=None)
    _transport_for: tuple[Any, ...] = PrivateAttr(default=())

    def __init__(self, **data: Any) -> None:
        """Refuse unknown init arguments (as InvalidParameterError), then validate.

        ``base_url`` and ``default_headers`` are checked here too, as the HTTP
        stack will check them, so a URL or header that cannot be sent fails now
        with an error naming the field, not at the first call.
        """
        self._check_init_names(data)
        super().__init__(**data)
        problem = url_problem(self.base_url)
        if problem:
            raise InvalidParameterError(
                "base_url",
                f"{redact_url(self.base_url)} {problem}",
                provider=self.provider_name,
            )
        if self.default_headers is not None:
            checked_headers(
                self.default_headers, field="default_headers", provider=self.provider_name
            )

    @classmethod
    def _check_init_names(cls, values: dict[str, Any]) -> None:
        known = cls.all_field_names()
        for name in values:
            if name not in known:
                raise unknown_name(
                    name,
                    known,
                    owner=cls.__name__,
                    kind="init argument",
                    provider=cls.provider_name,
                )

    @model_validator(mode="before")
    @classmethod
    def _settings_from_environment(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        cls._check_init_names(values)
        values = dict(values)
        if not values.get("model") and not values.get("model_name"):
            msg = (
                f"model: required; pass the {cls.provider_name} model id, "
                f"e.g. {cls.__name__}(model=...)"
            )
            raise ValueError(msg)
        key, source = values.get("api_key"), "api_key"
        if key is None and cls.api_key_env:
            key, source = os.environ.get(cls.api_key_env) or None, cls.api_key_env
        values["api_key"] = cls._checked_key(key, source)
        if not values.get("base_url"):
            values["base_url"] = (
                os.environ.get(cls.base_url_env) or cls.default_base_url
                if cls.base_url_env
                else cls.default_base_url
            )
        values["base_url"] = cls.normalize_base_url(str(values["base_url"]))
        if values.get("stop") == []:
            values["stop"] = None
        return _build_model_kwargs(values, set(cls.all_field_names()))

    @classmethod
    def _checked_key(cls, key: str | SecretStr | None, source: str) -> SecretStr | None:
        """The key without surrounding whitespace, or an error naming where it came from."""
        if key is None:
            return None
        raw = key.get_secret_value() if isinstance(key, SecretStr) else str(key)
        cleaned = clean_api_key(raw)
        if not cleaned:
            return None
        problem = api_key_problem(cleaned)
        if problem:
            where = f"the {source} environment variable" if source != "api_key" else "api_key"
            hint = f" (or the {cls.api_key_env} environment variable)" if cls.api_key_env else ""
            raise InvalidParameterError(
                "api_key",
                f"the key from {where} {problem}; keys are printable ASCII. "
                f"Check the value passed as api_key{hint}",
                provider=cls.provider_name,
            )
        return key if cleaned == raw and isinstance(key, SecretStr) else SecretStr(cleaned)

    def __repr_args__(self) -> Any:
        """Fields for ``repr``: a password in ``base_url`` and header values masked."""
        for name, value in super().__repr_args__():
            if name == "base_url":
                yield name, redact_url(value)
            elif name == "default_headers" and value:
                yield name, _masked_headers(value)
            else:
                yield name, value

    @field_serializer("base_url")
    def _dump_base_url(self, url: str) -> str:
        """``model_dump`` masks a password in ``base_url`` (``dumps`` references its env var)."""
        return redact_url(url)

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """LangChain's loader namespace: the defining module's import path."""
        return cls.__module__.split(".")

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Serializable with ``dumpd``; secrets become references to env vars."""
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        """The key, and a ``base_url`` holding a password, serialize as env var references."""
        secrets = {"api_key": self.api_key_env} if self.api_key_env else {}
        if self.base_url_env and split_userinfo(self.base_url)[1]:
            secrets["base_url"] = self.base_url_env
        return secrets

    # ------------------------------------------------------------ request fields

    @classmethod
    @functools.cache
    def wire_fields(cls) -> Mapping[str, Wire]:
        """The fields sent in requests (overridable per call), from their ``Wire`` declarations."""
        return MappingProxyType(
            {
                name: wire
                for name, info in cls.model_fields.items()
                for wire in info.metadata
                if isinstance(wire, Wire)
            }
        )

    def field_values(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The wire fields' values, with one call's overrides applied (unset ones are None)."""
        wires = self.wire_fields()
        values = {name: getattr(self, name) for name in wires}
        if overrides:
            values.update({k: v for k, v in overrides.items() if k in wires})
        return values

    def _model_for(self, kwargs: Mapping[str, Any]) -> str:
        """The model id of one call: a per-call ``model`` wins."""
        return kwargs.get("model") or self.model

    @classmethod
    @functools.cache
    def call_kwarg_names(cls) -> frozenset[str]:
        """Every per-call kwarg this class accepts (LangChain's own included)."""
        names = set(cls.wire_fields()) | cls.read_per_call
        names |= SHARED_CALL_KWARGS["langchain"] | SHARED_CALL_KWARGS["options"]
        if issubclass(cls, BaseChatModel):
            names |= SHARED_CALL_KWARGS["tools"]
        return frozenset(names | cls._call_aliases().keys())

    @classmethod
    @functools.cache
    def _call_aliases(cls) -> Mapping[str, str]:
        """Init aliases of wire fields (``max_new_tokens``), accepted per call too."""
        aliases: dict[str, str] = {}
        for name in cls.wire_fields():
            choices = getattr(cls.model_fields[name].validation_alias, "choices", None)
            for choice in choices or ():
                if isinstance(choice, str) and choice != name:
                    aliases[choice] = name
        return MappingProxyType(aliases)

    def _call_kwargs(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """One call's kwargs, checked: an unknown name fails here, before any request.

        Aliases become the field name; ``extra_body`` must be a dict,
        ``extra_headers`` sendable, the deadlines seconds.
        """
        known = self.call_kwarg_names()
        aliases = self._call_aliases()
        checked: dict[str, Any] = {}
        for name, value in kwargs.items():
            if name not in known:
                raise unknown_name(
                    name,
                    known - {"run_manager", "structured_output_format"},
                    owner=type(self).__name__,
                    kind="per-call argument",
                    provider=self.provider_name,
                )
            checked[aliases.get(name, name)] = value
        if checked.get("extra_headers") is not None:
            checked["extra_headers"] = checked_headers(
                checked["extra_headers"], field="extra_headers", provider=self.provider_name
            )
        for name in ("total_timeout", "stream_chunk_timeout"):
            if name in checked:
                checked[name] = _seconds(checked[name], name, self.provider_name)
        extra_body = checked.get("extra_body")
        if extra_body is not None and not isinstance(extra_body, dict):
            raise InvalidParameterError(
                "extra_body",
                f"must be a dict of body fields; got {type(extra_body).__name__}",
                provider=self.provider_name,
            )
        return checked

    def verbatim_fields(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Body fields sent as they are: ``model_kwargs``, ``extra_body``, a call's ``extra_body``.

        Per-call kwargs this class neither declares nor reads (``parallel_tool_calls``
        from an agent, on FFM and MonsterAPI) are passed on under their own name too.
        """
        verbatim = dict(self.model_kwargs)
        verbatim.update(self.extra_body or {})
        skip = self.wire_fields().keys() | self.read_per_call | _READ_BY_THE_PACKAGE
        verbatim.update({k: v for k, v in kwargs.items() if k not in skip})
        verbatim.update(kwargs.get("extra_body") or {})
        return verbatim

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """Model, base URL (password masked) and the request fields that are set."""
        params: dict[str, Any] = {"model": self.model, "base_url": redact_url(self.base_url)}
        params.update({k: v for k, v in self.field_values().items() if v is not None})
        return params

    def _dict_for_compat(self) -> dict[str, Any]:
        """What LangChain reports as ``invocation_params``: what the request carries."""
        params = _InvocationParams(self._identifying_params)
        params["_type"] = getattr(self, "_llm_type", self.provider_name)
        return params

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """``invocation_params`` of one chat call: per-call values win; unset ones are omitted."""
        params = self._dict_for_compat()
        params["stop"] = stop
        params.update({k: v for k, v in kwargs.items() if v is not None})
        return dict(params)

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        """LangSmith params; the per-call ``model`` override is honoured."""
        model_type: Literal["chat", "llm"] = "chat" if isinstance(self, BaseChatModel) else "llm"
        return self._ls_base(model_type, stop, **kwargs)

    @classmethod
    @functools.cache
    def all_field_names(cls) -> frozenset[str]:
        """Every accepted init name, aliases included (computed once per class)."""
        names: set[str] = set()
        for name, info in cls.model_fields.items():
            names.add(name)
            if info.alias:
                names.add(info.alias)
            choices = getattr(info.validation_alias, "choices", None)
            if choices:
                names.update(c for c in choices if isinstance(c, str))
        return frozenset(names)

    @classmethod
    def normalize_base_url(cls, url: str) -> str:
        """Strip trailing slashes; providers refine this (e.g. FFM's ``/models``)."""
        return url.rstrip("/")

    # ------------------------------------------------------------------ transport

    def _new_transport(self) -> Transport:
        userinfo = split_userinfo(self.base_url)[1]
        secrets = (
            self.api_key.get_secret_value() if self.api_key else "",
            userinfo[1] if userinfo else "",
            basic_auth_token(*userinfo) if userinfo else "",
        )
        return Transport(
            provider=self.provider_name,
            timeout=to_timeout(self.timeout, self.default_timeout),
            retry=RetryPolicy(max_retries=self.max_retries),
            http_client=self.http_client,
            http_async_client=self.http_async_client,
            secrets=tuple(s for s in secrets if s),
        )

    def _transport_inputs(self) -> tuple[Any, ...]:
        return (
            self.api_key,
            self.base_url,
            self.timeout,
            self.max_retries,
            self.http_client,
            self.http_async_client,
        )

    @property
    def transport(self) -> Transport:
        """The transport for this configuration: built once, rebuilt if a setting changes."""
        inputs = self._transport_inputs()
        built = self._transport
        if built is None or any(
            a is not b for a, b in zip(inputs, self._transport_for, strict=True)
        ):
            built = self._transport = self._new_transport()
            self._transport_for = inputs
        return built

    def _secret(self) -> str:
        """The API key, or a clear error naming ``api_key`` before any request."""
        if self.api_key is None:
            if not self.api_key_required:
                return ""
            msg = f"api_key: missing; pass api_key=... or set {self.api_key_env} in the environment"
            raise AuthenticationError(msg, provider=self.provider_name)
        key = self.api_key.get_secret_value()
        if not (key.isascii() and key.isprintable()):  # assigned after init
            checked = self._checked_key(self.api_key, "api_key")
            return checked.get_secret_value() if checked else ""
        return key

    @abstractmethod
    def _auth_headers(self) -> dict[str, str]:
        """The provider's credential headers (the key checked first)."""

    def _request(self, path: str, body: dict[str, Any], *, url: str = "") -> HTTPRequest:
        """A POST of ``body`` to ``{base_url}/{path}`` (or ``url``) with every header.

        The provider's key header and the user's headers are private: masked in
        errors, never sent to another origin.
        """
        headers = self._auth_headers()
        private = {name.lower() for name in headers} & _CREDENTIAL_HEADERS
        if self.default_headers:
            headers.update(self.default_headers)
            private.update(name.lower() for name in self.default_headers)
        return HTTPRequest(
            url=url or f"{self.base_url}/{path}",
            headers=headers,
            body=body,
            private=frozenset(private),
            request_id_headers=self.request_id_headers,
        )

    def _post(
        self,
        request: HTTPRequest,
        parse: Callable[[dict[str, Any]], R],
        exchange: Exchange | None = None,
    ) -> R:
        """POST ``request`` and parse the answer; any error finished by the transport's guard.

        ``exchange`` (the call's bounds; it receives the server's request id)
        defaults to one bounded by ``total_timeout``.
        """
        transport = self.transport
        exchange = exchange or Exchange(total_timeout=self.total_timeout)
        with transport.guard(request, exchange):
            return parse(transport.post(request, exchange))

    async def _apost(
        self,
        request: HTTPRequest,
        parse: Callable[[dict[str, Any]], R],
        exchange: Exchange | None = None,
    ) -> R:
        """Async :meth:`_post`."""
        transport = self.transport
        exchange = exchange or Exchange(total_timeout=self.total_timeout)
        with transport.guard(request, exchange):
            return parse(await transport.apost(request, exchange))

    def _ls_base(
        self, model_type: Literal["chat", "llm"], stop: list[str] | None, **kwargs: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "ls_provider": self.provider_name,
            "ls_model_name": self._model_for(kwargs),
            "ls_model_type": model_type,
        }
        temperature = kwargs.get("temperature", getattr(self, "temperature", None))
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", getattr(self, "max_tokens", None))
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stops = stop or kwargs.get("stop") or getattr(self, "stop", None)
        if stops:
            params["ls_stop"] = [stops] if isinstance(stops, str) else list(stops)
        return params


def _seconds(value: Any, field: str, provider: str) -> float | None:
    """A per-call bound in seconds (None or 0: unbounded), or an error naming ``field``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidParameterError(
            field, f"must be a number of seconds >= 0, or None; got {value!r}", provider=provider
        )
    return float(value) or None


def _masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return dict.fromkeys(headers, MASK)

"""What every provider class shares: settings, credentials, transport, LangChain plumbing.

That is: ls params, ``bind_tools`` helpers and ``with_structured_output``.

Provider classes inherit from :class:`ProviderSettings` (and a LangChain base
class) and add only what is theirs: env var names, URLs, headers, payloads and
response parsing. Keeping this in one place is what lets a fix to retries or key
handling reach FFM, Friendli and MonsterAPI at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import httpx
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from langchain_core.runnables import (
    Runnable,
    RunnableMap,
    RunnablePassthrough,
)
from langchain_core.utils.function_calling import (
    convert_to_json_schema,
    convert_to_openai_tool,
)
from langchain_core.utils.pydantic import is_basemodel_subclass
from langchain_core.utils.utils import _build_model_kwargs
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    model_validator,
)

from langchain_ffm_friendli._secrets import (
    api_key_problem,
    clean_api_key,
    redact_url,
    split_userinfo,
)
from langchain_ffm_friendli._transport import RetryPolicy, Transport, to_timeout
from langchain_ffm_friendli.errors import AuthenticationError, InvalidParameterError

__all__ = [
    "ProviderSettings",
    "StructuredOutputMixin",
    "build_structured_output",
    "join_chunks",
    "llm_result",
]


class ProviderSettings(BaseModel):
    """Init arguments shared by every class, with the names DESIGN.md fixes.

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
    api_key_env: ClassVar[str] = ""
    base_url_env: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    api_key_required: ClassVar[bool] = True
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
    default_headers: dict[str, str] | None = None
    """Extra headers sent with every request."""
    http_client: httpx.Client | None = Field(default=None, exclude=True)
    """Your own ``httpx.Client`` (the shared pooled client otherwise)."""
    http_async_client: httpx.AsyncClient | None = Field(default=None, exclude=True)
    """Your own ``httpx.AsyncClient`` (the shared pooled client otherwise)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra payload fields sent verbatim (the escape hatch)."""

    _transport: Transport | None = PrivateAttr(default=None)
    _transport_for: tuple[Any, ...] = PrivateAttr(default=())

    @model_validator(mode="before")
    @classmethod
    def _fill_settings(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
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
        return _build_model_kwargs(values, cls.all_field_names())

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
        """Fields for ``repr``, with a password in ``base_url`` masked."""
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "base_url" else value

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        """LangChain's loader namespace: the defining module's import path."""
        return cls.__module__.split(".")

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        """LangSmith params; the per-call ``model`` override is honoured."""
        model_type: Literal["chat", "llm"] = "chat" if isinstance(self, BaseChatModel) else "llm"
        return self._ls_base(model_type, stop, **kwargs)

    @classmethod
    def all_field_names(cls) -> set[str]:
        """Every accepted init name, aliases included."""
        names: set[str] = set()
        for name, info in cls.model_fields.items():
            names.add(name)
            if info.alias:
                names.add(info.alias)
            choices = getattr(info.validation_alias, "choices", None)
            if choices:
                names.update(c for c in choices if isinstance(c, str))
        return names

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

    def _request_headers(self, auth: dict[str, str]) -> dict[str, str]:
        headers = dict(auth)
        if self.default_headers:
            headers.update(self.default_headers)
        return headers

    def _ls_base(
        self, model_type: Literal["chat", "llm"], stop: list[str] | None, **kwargs: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "ls_provider": self.provider_name,
            "ls_model_name": kwargs.get("model") or self.model,
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


def _json_schema_response_format(schema: Any, strict: bool | None) -> dict[str, Any]:
    json_schema = convert_to_json_schema(schema)
    name = json_schema.get("title") or "response"
    spec: dict[str, Any] = {"name": name, "schema": json_schema}
    if json_schema.get("description"):
        spec["description"] = json_schema["description"]
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def build_structured_output(
    model: Any,
    schema: Any,
    *,
    method: Literal["function_calling", "json_mode", "json_schema"],
    include_raw: bool,
    strict: bool | None,
    bind_tools: Callable[..., Runnable[LanguageModelInput, AIMessage]],
) -> Runnable[LanguageModelInput, Any]:
    """The one ``with_structured_output`` implementation every chat model uses.

    ``function_calling`` forces a tool shaped like the schema; ``json_mode`` and
    ``json_schema`` bind an OpenAI-style ``response_format``, which each provider
    honours in its own way (natively, or as an instruction for APIs without one).
    The output is parsed and validated here, so the result is the same whatever
    the provider did.
    """
    if schema is None and method != "json_mode":
        msg = f"schema: required for method={method!r}"
        raise ValueError(msg)
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    format_kwargs: dict[str, Any] = {"method": method}
    if strict is not None:
        format_kwargs["strict"] = strict
    ls_format = {"kwargs": format_kwargs, "schema": schema}
    parser: Runnable[Any, Any]
    if method == "function_calling":
        tool = convert_to_openai_tool(schema, strict=strict)
        name = tool["function"]["name"]
        llm = bind_tools([tool], tool_choice=name, ls_structured_output_format=ls_format)
        parser = (
            PydanticToolsParser(tools=[schema], first_tool_only=True)
            if is_pydantic
            else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        )
    elif method in ("json_mode", "json_schema"):
        response_format = (
            {"type": "json_object"}
            if method == "json_mode"
            else _json_schema_response_format(schema, strict)
        )
        llm = model.bind(
            response_format=response_format,
            ls_structured_output_format={**ls_format, "schema": schema},
        )
        parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
    else:
        msg = f"method: {method!r} is not one of 'function_calling', 'json_mode', 'json_schema'"
        raise ValueError(msg)

    if not include_raw:
        return llm | parser
    parser_assign = RunnablePassthrough.assign(
        parsed=lambda x: parser.invoke(x["raw"]), parsing_error=lambda _: None
    )
    parser_none = RunnablePassthrough.assign(parsed=lambda _: None)
    parser_with_fallback = parser_assign.with_fallbacks(
        [parser_none], exception_key="parsing_error"
    )
    return RunnableMap(raw=llm) | parser_with_fallback


class StructuredOutputMixin:
    """``with_structured_output`` for every chat model, with the same signature."""

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] = "function_calling",
        include_raw: bool = False,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Return a runnable whose output matches ``schema``.

        ``function_calling`` forces a tool shaped like the schema; ``json_schema``
        and ``json_mode`` ask for JSON through ``response_format``, which each
        provider honours its own way (see the class docstring). The output is
        parsed and validated client-side, and ``include_raw`` keeps the raw
        message and any parsing error.
        """
        if kwargs:
            msg = f"with_structured_output: unexpected arguments {sorted(kwargs)}"
            raise ValueError(msg)
        return build_structured_output(
            self,
            schema,
            method=method,
            include_raw=include_raw,
            strict=strict,
            bind_tools=self.bind_tools,  # type: ignore[attr-defined]
        )


def join_chunks(chunks: Sequence[GenerationChunk]) -> Generation:
    """One Generation from a text stream (generation_info merged, as LangChain does)."""
    if not chunks:
        return Generation(text="")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return Generation(text=total.text, generation_info=total.generation_info)


def llm_result(
    generations: list[list[Generation]], usages: Sequence[Mapping[str, Any] | None], model: str
) -> LLMResult:
    """An LLMResult whose ``llm_output`` sums OpenAI-style token usage over the prompts."""
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for counts in usages:
        for key in usage:
            usage[key] += int((counts or {}).get(key) or 0)
    return LLMResult(
        generations=generations, llm_output={"token_usage": usage, "model_name": model}
    )

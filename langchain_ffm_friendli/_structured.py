"""``with_structured_output`` once for every chat model.

``function_calling`` forces a tool shaped like the schema; ``json_mode`` and
``json_schema`` bind an OpenAI-style ``response_format``, which each provider
honours its own way (natively, or as an instruction for APIs without one). The
output is parsed and validated here, so the result is the same whatever the
provider did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
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

__all__ = ["StructuredOutputMixin", "build_structured_output"]


def _json_schema_response_format(schema: Any, *, strict: bool | None) -> dict[str, Any]:
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
            else _json_schema_response_format(schema, strict=strict)
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

"""FFM settings shared by ChatFFM, FFMLLM and FFMEmbeddings.

Credentials, the base URL rule and FFM's headers live in :class:`FFMClientSettings`;
the sampling parameters, with FFM's own names and ranges, in
:class:`FFMSamplingSettings`. Each class inherits what it needs, so a parameter
or header rule is written once for all three.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, model_validator

from langchain_ffm_friendli._base import ProviderSettings, Wire, placed
from langchain_ffm_friendli.ffm import _protocol as proto

__all__ = ["FFMClientSettings", "FFMSamplingSettings"]

IN_PARAMETERS = Wire(place="parameters")
"""FFM sends its sampling fields in the body's ``parameters`` object."""


class FFMClientSettings(ProviderSettings):
    """Where and how to reach FFM: ``FFM_API_KEY``, ``FFM_BASE_URL``, ``X-API-HOST``."""

    provider_name = proto.PROVIDER
    api_key_env = "FFM_API_KEY"
    base_url_env = "FFM_BASE_URL"
    default_base_url = "https://api-ams.twcc.ai/api"

    api_host: str | None = "afs-inference"
    """Value of the ``X-API-HOST`` header (needed by the public endpoint; None omits it)."""

    @classmethod
    def normalize_base_url(cls, url: str) -> str:
        """Accept ``.../api`` and a pasted ``.../api/models`` alike."""
        return proto.normalize_base_url(url)

    def _auth_headers(self) -> dict[str, str]:
        """``X-API-KEY``, and ``X-API-HOST`` unless set to None."""
        auth = {"X-API-KEY": self._secret()}
        if self.api_host:
            auth["X-API-HOST"] = self.api_host
        return auth


class FFMSamplingSettings(FFMClientSettings):
    """FFM's ``parameters``, validated against FFM's documented ranges at init."""

    read_per_call = frozenset({"tools", "tool_choice", "response_format"})

    temperature: Annotated[float | None, IN_PARAMETERS] = None
    """>= 0; 0 is sent as temperature 0.01 with top_k 1 (FFM refuses 0)."""
    max_tokens: Annotated[int | None, Wire("max_new_tokens", "parameters")] = Field(
        default=None, validation_alias=AliasChoices("max_tokens", "max_new_tokens")
    )
    """A positive integer (alias ``max_new_tokens``)."""
    top_p: Annotated[float | None, IN_PARAMETERS] = None
    """In (0, 1]."""
    top_k: Annotated[int | None, IN_PARAMETERS] = None
    """In 1..100."""
    frequence_penalty: Annotated[float | None, IN_PARAMETERS] = None
    """FFM's multiplicative repetition penalty, > 0 (1.0 is off)."""
    stop: Annotated[list[str] | None, Wire("stop_sequences", "parameters")] = Field(
        default=None, validation_alias=AliasChoices("stop", "stop_sequences")
    )
    """At most 4 (alias ``stop_sequences``)."""
    seed: Annotated[int | None, IN_PARAMETERS] = None
    """>= 0."""

    @model_validator(mode="after")
    def _check_ranges(self) -> FFMSamplingSettings:
        proto.validate_parameters(self.field_values())
        return self

    def _parameters(self, values: dict[str, Any]) -> dict[str, Any]:
        """One call's FFM ``parameters``, validated, as the fields' ``Wire`` places them."""
        proto.validate_parameters(values)
        return proto.ffm_parameters(placed(values, self.wire_fields()).get("parameters", {}))

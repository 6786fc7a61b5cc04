"""MonsterAPI settings shared by ChatMonsterAPI and MonsterAPILLM."""

from __future__ import annotations

from typing import Any

from langchain_ffm_friendli._base import ProviderSettings
from langchain_ffm_friendli.monsterapi import _protocol as proto

__all__ = ["MonsterAPISettings"]


class MonsterAPISettings(ProviderSettings):
    """Credentials, base URL and vLLM-style sampling fields, validated at init.

    Fields keep the API's (vLLM's) names. ``stop`` is applied client-side on
    ``/generate``, which has no stop parameter: the text is cut at the first
    stop sequence and a stream is closed there.
    """

    provider_name = proto.PROVIDER
    api_key_env = "MONSTER_API_KEY"
    base_url_env = "MONSTER_API_BASE"
    default_base_url = "https://llm.monsterapi.ai/v1"

    max_tokens: int | None = None
    n: int | None = None
    best_of: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    use_beam_search: bool | None = None
    length_penalty: float | None = None
    early_stopping: bool | None = None
    stop: list[str] | None = None
    """Stop sequences (client-side on /generate, native on /chat/completions)."""
    streaming: bool = False
    """If True, ``invoke`` goes through the stream."""

    def model_post_init(self, context: Any, /) -> None:
        """Validate the sampling rules at construction, naming the field."""
        super().model_post_init(context)
        proto.validate_sampling(self._settings())

    @classmethod
    def is_lc_serializable(cls) -> bool:
        """Serializable with ``dumpd``; the key becomes a reference to ``MONSTER_API_KEY``."""
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        """The key is serialized as a reference to ``MONSTER_API_KEY``."""
        return {"api_key": "MONSTER_API_KEY"}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.base_url, **self._settings()}

    def _settings(self, **overrides: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {name: getattr(self, name) for name in proto.SAMPLING_FIELDS}
        settings.update({k: v for k, v in overrides.items() if k in settings})
        return settings

    def _stops(self, stop: list[str] | None, kwargs: dict[str, Any]) -> list[str]:
        stops = stop if stop is not None else kwargs.get("stop", self.stop)
        return [s for s in stops or [] if s]

    def _monster_headers(self) -> dict[str, str]:
        return self._request_headers({"Authorization": f"Bearer {self._secret()}"})

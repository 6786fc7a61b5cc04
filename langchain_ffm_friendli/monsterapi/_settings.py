"""MonsterAPI settings shared by ChatMonsterAPI and MonsterAPILLM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from langchain_ffm_friendli._base import ProviderSettings
from langchain_ffm_friendli._openai_format import messages_to_dicts
from langchain_ffm_friendli._shell import Call, Plan, check_streamable
from langchain_ffm_friendli._wire import NulFraming
from langchain_ffm_friendli.monsterapi import _protocol as proto

__all__ = ["MonsterAPISettings"]

R = TypeVar("R")
PROVIDER = proto.PROVIDER


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
    request_fields = (*proto.SAMPLING_FIELDS, "stop")

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

    def model_post_init(self, context: Any, /) -> None:
        """Validate the sampling rules at construction, naming the field."""
        super().model_post_init(context)
        proto.validate_sampling(self._settings())

    def _checked_settings(self, kwargs: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        """The sampling settings of one call, checked before any request."""
        settings = self._settings(**kwargs)
        proto.validate_sampling(settings)
        if stream:
            check_streamable(settings.get("n"), proto.PROVIDER)
        return settings

    def _generate_plan(
        self, call: Call[Any], stops: list[str], parse: Callable[[Any], R]
    ) -> Plan[R]:
        """A ``/generate`` call: a prompt (LLM) or messages (chat), NUL-framed when streamed.

        ``stop`` is applied client-side (``/generate`` has none); beam search
        buffers the streamed text until the end, where the beams are final.
        """
        kwargs = call.kwargs
        settings = self._checked_settings(kwargs, stream=call.stream)
        prompt = call.input if isinstance(call.input, str) else None
        model = self._model_for(kwargs)
        body = proto.generate_payload(
            model=model,
            prompt=prompt,
            messages=None
            if prompt is not None
            else messages_to_dicts(call.input, provider=PROVIDER),
            settings=settings,
            stream=call.stream,
            extra=self._extra(kwargs),
        )
        buffered = bool(kwargs.get("use_beam_search", self.use_beam_search))
        return Plan(
            self._request("generate", body),
            NulFraming,
            lambda: proto.CumulativeStream(
                model=model, prompt=prompt, stop=stops, buffered=buffered
            ),
            parse,
        )

    def _stops(self, stop: list[str] | None, kwargs: dict[str, Any]) -> list[str]:
        stops = stop if stop is not None else kwargs.get("stop", self.stop)
        return [s for s in stops or [] if s]

    def _auth_headers(self) -> dict[str, str]:
        """MonsterAPI's Bearer token."""
        return {"Authorization": f"Bearer {self._secret()}"}

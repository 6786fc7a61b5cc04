"""MonsterAPI settings shared by ChatMonsterAPI and MonsterAPILLM."""

from __future__ import annotations

from typing import Annotated, Any

from langchain_ffm_friendli._base import ProviderSettings, Wire, placed
from langchain_ffm_friendli._openai.messages import messages_to_dicts
from langchain_ffm_friendli._planned import Call
from langchain_ffm_friendli.monsterapi import _protocol as proto

__all__ = ["MonsterAPISettings"]

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

    max_tokens: Annotated[int | None, Wire()] = None
    n: Annotated[int | None, Wire()] = None
    best_of: Annotated[int | None, Wire()] = None
    presence_penalty: Annotated[float | None, Wire()] = None
    frequency_penalty: Annotated[float | None, Wire()] = None
    repetition_penalty: Annotated[float | None, Wire()] = None
    temperature: Annotated[float | None, Wire()] = None
    top_p: Annotated[float | None, Wire()] = None
    top_k: Annotated[int | None, Wire()] = None
    min_p: Annotated[float | None, Wire()] = None
    use_beam_search: Annotated[bool | None, Wire()] = None
    length_penalty: Annotated[float | None, Wire()] = None
    early_stopping: Annotated[bool | None, Wire()] = None
    stop: Annotated[list[str] | None, Wire()] = None
    """Stop sequences (client-side on /generate, native on /chat/completions)."""

    def model_post_init(self, context: Any, /) -> None:
        """Validate the sampling rules at construction, naming the field."""
        super().model_post_init(context)
        proto.validate_sampling(self.field_values())

    def _generate_body(self, call: Call[Any]) -> dict[str, Any]:
        """The ``/generate`` body of a call: a prompt (LLM) or messages (chat)."""
        proto.validate_sampling(call.values)
        prompt = call.input if isinstance(call.input, str) else None
        return proto.generate_payload(
            model=self._model_for(call.kwargs),
            prompt=prompt,
            messages=None
            if prompt is not None
            else messages_to_dicts(call.input, provider=PROVIDER),
            fields=placed(call.values, self.wire_fields()),
            stream=call.stream,
            extra=self.verbatim_fields(call.kwargs),
        )

    def _generate_stream(self, call: Call[Any]) -> proto.CumulativeStream:
        """The decoder of a ``/generate`` stream: ``stop`` applied client-side, beams buffered.

        Beam search rewrites earlier text until the end, so it streams nothing before.
        """
        return proto.CumulativeStream(
            model=self._model_for(call.kwargs),
            prompt=call.input if isinstance(call.input, str) else None,
            stop=call.stop,
            buffered=bool(call.values.get("use_beam_search")),
        )

    def _auth_headers(self) -> dict[str, str]:
        """MonsterAPI's Bearer token."""
        return {"Authorization": f"Bearer {self._secret()}"}

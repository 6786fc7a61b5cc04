"""MonsterAPILLM: LangChain text-generation model for MonsterAPI's ``/v1/generate`` (prompt)."""

from __future__ import annotations

from typing import Any

from langchain_core.outputs import Generation

from langchain_ffm_friendli._planned import Call, Plan, PlannedLLM, TextResult
from langchain_ffm_friendli._wire import NulFraming
from langchain_ffm_friendli.monsterapi import _protocol as proto
from langchain_ffm_friendli.monsterapi._settings import MonsterAPISettings

__all__ = ["MonsterAPILLM"]


class MonsterAPILLM(MonsterAPISettings, PlannedLLM):
    """MonsterAPI text generation: ``POST {base_url}/generate`` with a ``prompt``.

    The prompt goes to the model verbatim (apply the model's chat template
    yourself, or use :class:`~langchain_ffm_friendli.ChatMonsterAPI`). The prompt
    that the server echoes at the start of the output is removed. ``n`` > 1
    returns n generations per prompt. Same fields and sampling rules as
    ChatMonsterAPI.

    Setup:
        Install the package (``pip install .`` from a checkout; ``pip install
        langchain-ffm-friendli`` once released) and ``export MONSTER_API_KEY=...``.

    Key init args:
        model, max_tokens, n, best_of, temperature, top_p, top_k, min_p,
        presence_penalty, frequency_penalty, repetition_penalty, use_beam_search,
        length_penalty, early_stopping, stop (applied client-side), api_key,
        base_url (``MONSTER_API_BASE``), timeout, max_retries.

    Unknown parameters:
        As ChatMonsterAPI: ``InvalidParameterError`` with the nearest field for a typo;
        ``extra_body={...}`` for fields the class does not declare.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import MonsterAPILLM

            # Mistral's own template: the prompt goes to the model verbatim
            llm = MonsterAPILLM(model="mistralai/Mistral-7B-Instruct-v0.2", max_tokens=128)

    Invoke:
        .. code-block:: python

            text = llm.invoke("[INST] Name three mountains in Taiwan. [/INST]")
            # the prompt the server echoes is already gone from ``text``

    Stream:
        The cumulative NUL-delimited records arrive as deltas; a ``stop`` string
        closes the stream as soon as it appears:

        .. code-block:: python

            for piece in llm.stream("[INST] Count to ten. [/INST]", stop=["7"]):
                print(piece, end="")

    Async:
        .. code-block:: python

            texts = await llm.abatch(["[INST] Hi [/INST]", "[INST] Bye [/INST]"])

    Token usage:
        .. code-block:: python

            result = llm.generate(["..."])
            result.llm_output["token_usage"]  # from response.token_counts
            result.generations[0][0].generation_info["credits_consumed"]
    """

    @property
    def _llm_type(self) -> str:
        return "monsterapi-llm"

    def _plan(self, call: Call[str]) -> Plan[TextResult]:
        """Validate and build one request before any I/O happens."""
        return Plan(
            self._request("generate", self._generate_body(call)),
            NulFraming,
            lambda: self._generate_stream(call),
            lambda payload: _result(payload, call.input, call.stop),
        )


def _result(payload: Any, prompt: str, stops: list[str]) -> TextResult:
    result = proto.parse_generate(payload, prompt=prompt, stop=stops)
    info: dict[str, Any] = {}
    if result.credits_consumed is not None:
        info["credits_consumed"] = result.credits_consumed
    if result.usage is not None:
        info["token_counts"] = {
            "input": result.usage["input_tokens"],
            "output": result.usage["output_tokens"],
        }
    generations = [Generation(text=t, generation_info=info or None) for t in result.texts]
    return TextResult(generations, result.usage)

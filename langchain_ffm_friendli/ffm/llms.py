"""FFMLLM: LangChain text-completion model for FFM's Generate API."""

from __future__ import annotations

from typing import Any

from langchain_core.outputs import Generation

from langchain_ffm_friendli._planned import Call, Plan, PlannedLLM, TextResult
from langchain_ffm_friendli._wire import SSEFraming
from langchain_ffm_friendli.ffm import _protocol as proto
from langchain_ffm_friendli.ffm._settings import FFMSamplingSettings

__all__ = ["FFMLLM"]


class FFMLLM(FFMSamplingSettings, PlannedLLM):
    r"""FFM text completion (``POST {base_url}/models/generate``).

    The prompt is sent verbatim as ``inputs``: FFM applies no chat template, so
    for chat behaviour prefer :class:`~langchain_ffm_friendli.ChatFFM`. Same
    fields, ranges and validation as ChatFFM.

    Setup:
        Install the package (``pip install .`` from a checkout; ``pip install
        langchain-ffm-friendli`` once released) and ``export FFM_API_KEY=...``.

    Key init args:
        model, temperature (0 means greedy), max_tokens (alias max_new_tokens),
        top_p, top_k, frequence_penalty, stop (alias stop_sequences), seed,
        api_key, base_url, api_host, timeout, max_retries, streaming.

    Unknown parameters:
        As ChatFFM: a typo is an ``InvalidParameterError`` with the nearest name, and
        ``extra_body={...}`` carries what the class does not declare.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import FFMLLM

            llm = FFMLLM(model="llama3-ffm-8b-chat", max_tokens=64, stop=["\n\n"])

    Invoke:
        .. code-block:: python

            llm.invoke("台灣最高的山是")  # "玉山，海拔 3952 公尺。"

    Stream:
        FFM's keep-alive pings are skipped; a stop string FFM echoes at the end
        is held back and never emitted:

        .. code-block:: python

            for piece in llm.stream("台灣最高的山是", stop=["。"]):
                print(piece, end="", flush=True)

    Async:
        .. code-block:: python

            async for piece in llm.astream("台灣最長的河是"):
                print(piece, end="")
            answers = await llm.abatch(["台灣最高的山是", "台灣最長的河是"])  # concurrent

    Token usage:
        .. code-block:: python

            result = llm.generate(["台灣最高的山是"])
            result.llm_output["token_usage"]
            # {"prompt_tokens": ..., "completion_tokens": ..., "total_tokens": ...}
            result.generations[0][0].generation_info  # finish_reason and FFM's counts

    A stop string that FFM echoes at the end of the text is removed.
    """

    @property
    def _llm_type(self) -> str:
        return "ffm-llm"

    def _plan(self, call: Call[str]) -> Plan[TextResult]:
        """Validate and build one request before any I/O happens."""
        parameters, stops = self._parameters(call.values), call.stop
        model = self._model_for(call.kwargs)
        body = proto.generate_payload(
            model=model,
            prompt=call.input,
            parameters=parameters,
            stream=call.stream,
            extra=self.verbatim_fields(call.kwargs),
        )
        return Plan(
            self._request("models/generate", body),
            SSEFraming,
            lambda: proto.FFMStream(model=model, stop=stops),
            lambda payload: _result(payload, stops),
        )


def _result(payload: dict[str, Any], stop: list[str]) -> TextResult:
    text, info, usage = proto.parse_generate(payload, stop)
    return TextResult([Generation(text=text, generation_info=info)], usage)

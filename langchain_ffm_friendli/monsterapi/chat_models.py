"""ChatMonsterAPI: LangChain chat model for MonsterAPI's ``/v1/generate`` (and its tools route)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_ffm_friendli._base import placed
from langchain_ffm_friendli._openai.chat import OpenAIChatStream, chat_result, openai_chat_body
from langchain_ffm_friendli._openai.messages import messages_to_dicts
from langchain_ffm_friendli._openai.tools import tool_choice_to_openai, tool_names
from langchain_ffm_friendli._planned import Call, Plan, PlannedChatModel
from langchain_ffm_friendli._wire import NulFraming, SSEFraming
from langchain_ffm_friendli.errors import InvalidParameterError
from langchain_ffm_friendli.monsterapi import _protocol as proto
from langchain_ffm_friendli.monsterapi._settings import MonsterAPISettings

__all__ = ["ChatMonsterAPI"]


class ChatMonsterAPI(MonsterAPISettings, PlannedChatModel):
    r"""MonsterAPI chat model over ``POST {base_url}/generate`` with ``messages``.

    The server applies the model's chat template. Tool calling and structured
    output go to MonsterAPI's OpenAI-compatible ``{base_url}/chat/completions``
    (``/generate`` has no tools or JSON mode); plain chat stays on ``/generate``.

    Setup:
        Install the package (``pip install .`` from a checkout; ``pip install
        langchain-ffm-friendli`` once released) and ``export MONSTER_API_KEY=...``
        (``MONSTER_API_BASE`` overrides ``https://llm.monsterapi.ai/v1``).

    Key init args — completion params (vLLM ``SamplingParams`` names):
        model, max_tokens, n, best_of, temperature, top_p, top_k (-1 is off),
        min_p, presence_penalty, frequency_penalty, repetition_penalty,
        use_beam_search, length_penalty, early_stopping, stop.
        The sampling rules are checked before any request: best_of >= n >= 1;
        beam search needs best_of >= 2, temperature 0, top_p 1 and top_k -1;
        without it length_penalty must be 1.0 and early_stopping False; greedy
        (temperature 0) needs best_of 1. Unknown model ids are allowed.

    Key init args — client params:
        api_key, base_url, timeout, max_retries (504 is common and retried).

    Unknown parameters:
        An unknown name is an ``InvalidParameterError`` naming the closest field, raised
        before sending; pass vLLM options this class lacks as ``extra_body={...}``.

        ``strict`` is sent where OpenAI's schema puts it, on the OpenAI-compatible
        route: ``tools[i].function.strict`` and ``response_format.json_schema.strict``.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import ChatMonsterAPI

            llm = ChatMonsterAPI(model="meta-llama/Meta-Llama-3.1-8B-Instruct", max_tokens=256)

    Invoke:
        .. code-block:: python

            msg = llm.invoke("Do you have mayonnaise recipes?")
            msg.response_metadata["credits_consumed"]

    Stream:
        .. code-block:: python

            for chunk in llm.stream("Tell me a story"):
                print(chunk.content, end="")

        The NUL-delimited, cumulative stream is turned into deltas. With beam
        search the text arrives in one piece at the end (beams are re-ranked
        until then). ``stop`` is applied client-side and ends the stream early.

    Async:
        .. code-block:: python

            await llm.ainvoke("Hello")

    Tool calling:
        .. code-block:: python

            llm.bind_tools([get_weather]).invoke("Weather in Taipei?")

    Structured output:
        .. code-block:: python

            llm.with_structured_output(MySchema, method="json_schema").invoke("...")

    Token usage:
        .. code-block:: python

            msg.usage_metadata  # from response.token_counts (input / output)

        ``/generate`` streams carry no token counts, so streamed messages have
        usage only when the server sends it.

    Response metadata:
        ``model_name``, ``model_provider`` ("monsterapi"), ``credits_consumed``.
    """

    read_per_call = frozenset({"tools", "tool_choice", "response_format", "stream_options"})

    @property
    def _llm_type(self) -> str:
        return "monsterapi-chat"

    @staticmethod
    def _uses_chat_route(messages: list[BaseMessage], kwargs: dict[str, Any]) -> bool:
        """Tools, JSON output and tool-call histories need the OpenAI-compatible route."""
        if kwargs.get("tools") or kwargs.get("response_format"):
            return True
        return any(
            isinstance(m, ToolMessage) or (isinstance(m, AIMessage) and m.tool_calls)
            for m in messages
        )

    def _plan(self, call: Call[list[BaseMessage]]) -> Plan[ChatResult]:
        """Validate everything and build the request before any I/O happens."""
        kwargs = call.kwargs
        model = self._model_for(kwargs)
        if not self._uses_chat_route(call.input, kwargs):
            return Plan(
                self._request("generate", self._generate_body(call)),
                NulFraming,
                lambda: self._generate_stream(call),
                lambda payload: _generate_result(payload, model, call.stop),
            )
        proto.validate_sampling(call.values)
        tools, response_format = self._tools_and_format(kwargs)
        choice = kwargs.get("tool_choice")
        body = openai_chat_body(
            model=model,
            messages=messages_to_dicts(call.input, provider=proto.PROVIDER),
            params=placed(call.values, self.wire_fields()),
            stream=call.stream,
            tools=tools,
            tool_choice=tool_choice_to_openai(choice, tool_names(tools), provider=proto.PROVIDER)
            if tools
            else None,
            response_format=response_format,
            stream_options={"include_usage": True} if call.stream else None,
            extra=self.verbatim_fields(kwargs),
        )
        return Plan(
            self._request("chat/completions", body),
            SSEFraming,
            lambda: OpenAIChatStream(model=model, provider=proto.PROVIDER),
            lambda payload: chat_result(payload, model=model, provider=proto.PROVIDER),
        )

    # ------------------------------------------------------------------ tools

    def _check_tools(self, tools: list[dict[str, Any]], tool_choice: Any) -> None:
        """Function tools only; they go to the OpenAI-compatible chat route."""
        for tool in tools:
            if tool.get("type") != "function":
                raise InvalidParameterError(
                    "tools",
                    f"MonsterAPI supports function tools only; got {tool.get('type')!r}",
                    provider=proto.PROVIDER,
                )
        tool_choice_to_openai(tool_choice, tool_names(tools), provider=proto.PROVIDER)


def _generate_result(payload: Any, model: str, stops: list[str]) -> ChatResult:
    result = proto.parse_generate(payload, prompt=None, stop=stops)
    model = result.model or model
    meta: dict[str, Any] = {"model_name": model, "model_provider": proto.PROVIDER}
    if result.credits_consumed is not None:
        meta["credits_consumed"] = result.credits_consumed
    generations = [
        ChatGeneration(
            message=AIMessage(
                content=text,
                usage_metadata=result.usage if i == 0 else None,
                response_metadata=dict(meta),
            )
        )
        for i, text in enumerate(result.texts)
    ]
    return ChatResult(
        generations=generations, llm_output={"model_name": model, "token_usage": result.usage}
    )

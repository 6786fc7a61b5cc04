"""ChatMonsterAPI: LangChain chat model for MonsterAPI's ``/v1/generate`` (and its tools route)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import aclosing
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import (
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from langchain_ffm_friendli._base import StructuredOutputMixin
from langchain_ffm_friendli._openai_format import (
    OpenAIChatStream,
    chat_result,
    format_tools,
    messages_to_dicts,
    openai_chat_body,
    tool_choice_to_openai,
    tool_names,
)
from langchain_ffm_friendli._streaming import SSEChatSteps, adrive, drive
from langchain_ffm_friendli._transport import HTTPRequest
from langchain_ffm_friendli.errors import InvalidParameterError
from langchain_ffm_friendli.monsterapi import _protocol as proto
from langchain_ffm_friendli.monsterapi._settings import MonsterAPISettings

__all__ = ["ChatMonsterAPI"]

_CALL_ONLY = frozenset(
    {"model", "tools", "tool_choice", "response_format", "stream", "stream_options", "stop"}
)


class ChatMonsterAPI(StructuredOutputMixin, MonsterAPISettings, BaseChatModel):
    r"""MonsterAPI chat model over ``POST {base_url}/generate`` with ``messages``.

    The server applies the model's chat template. Tool calling and structured
    output go to MonsterAPI's OpenAI-compatible ``{base_url}/chat/completions``
    (``/generate`` has no tools or JSON mode); plain chat stays on ``/generate``.

    Setup:
        ``pip install langchain-ffm-friendli`` and ``export MONSTER_API_KEY=...``
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

    @property
    def _llm_type(self) -> str:
        return "monsterapi-chat"

    # ------------------------------------------------------------------ requests

    @staticmethod
    def _uses_chat_route(messages: list[BaseMessage], kwargs: dict[str, Any]) -> bool:
        """Tools, JSON output and tool-call histories need the OpenAI-compatible route."""
        if kwargs.get("tools") or kwargs.get("response_format"):
            return True
        return any(
            isinstance(m, ToolMessage) or (isinstance(m, AIMessage) and m.tool_calls)
            for m in messages
        )

    def _extra(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.model_kwargs,
            **{
                k: v
                for k, v in kwargs.items()
                if k not in proto.SAMPLING_FIELDS and k not in _CALL_ONLY
            },
        }

    def _generate_request(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        stream: bool,
        kwargs: dict[str, Any],
    ) -> tuple[HTTPRequest, list[str]]:
        settings = self._settings(**kwargs)
        proto.validate_sampling(settings)
        if stream and (settings.get("n") or 1) > 1:
            raise InvalidParameterError(
                "n",
                "must be 1 when streaming (LangChain streams one generation)",
                provider=proto.PROVIDER,
            )
        body = proto.generate_payload(
            model=kwargs.get("model") or self.model,
            messages=messages_to_dicts(messages, provider=proto.PROVIDER),
            settings=settings,
            stream=stream,
            extra=self._extra(kwargs),
        )
        request = HTTPRequest(
            url=f"{self.base_url}/generate", headers=self._monster_headers(), body=body
        )
        return request, self._stops(stop, kwargs)

    def _chat_request(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        stream: bool,
        kwargs: dict[str, Any],
    ) -> tuple[HTTPRequest, OpenAIChatStream]:
        settings = self._settings(**kwargs)
        proto.validate_sampling(settings)
        tools = kwargs.get("tools") or None
        stops = self._stops(stop, kwargs)
        body = openai_chat_body(
            model=kwargs.get("model") or self.model,
            messages=messages_to_dicts(messages, provider=proto.PROVIDER),
            params={**settings, "stop": stops or None},
            stream=stream,
            tools=tools,
            tool_choice=tool_choice_to_openai(
                kwargs.get("tool_choice"), tool_names(tools or []), provider=proto.PROVIDER
            )
            if tools
            else None,
            response_format=kwargs.get("response_format"),
            stream_options={"include_usage": True} if stream else None,
            extra=self._extra(kwargs),
        )
        request = HTTPRequest(
            url=f"{self.base_url}/chat/completions", headers=self._monster_headers(), body=body
        )
        return request, OpenAIChatStream(model=body["model"], provider=proto.PROVIDER)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
        if self._uses_chat_route(messages, kwargs):
            request, decoder = self._chat_request(messages, stop, False, kwargs)
            return chat_result(
                self.transport.post(request), model=decoder.model, provider=proto.PROVIDER
            )
        request, stops = self._generate_request(messages, stop, False, kwargs)
        return self._generate_result(self.transport.post(request), stops, kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.streaming:
            return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))
        if self._uses_chat_route(messages, kwargs):
            request, decoder = self._chat_request(messages, stop, False, kwargs)
            return chat_result(
                await self.transport.apost(request), model=decoder.model, provider=proto.PROVIDER
            )
        request, stops = self._generate_request(messages, stop, False, kwargs)
        return self._generate_result(await self.transport.apost(request), stops, kwargs)

    def _generate_result(
        self, payload: dict[str, Any], stops: list[str], kwargs: dict[str, Any]
    ) -> ChatResult:
        result = proto.parse_generate(payload, prompt=None, stop=stops)
        model = result.model or kwargs.get("model") or self.model
        meta = _metadata(model, result.credits_consumed)
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

    # ------------------------------------------------------------------ streams

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        if self._uses_chat_route(messages, kwargs):
            request, chat = self._chat_request(messages, stop, True, kwargs)
            steps: Any = SSEChatSteps(chat, proto.PROVIDER)
            yield from drive(self.transport.stream_events(request), steps, run_manager)
            return
        request, stops = self._generate_request(messages, stop, True, kwargs)
        steps = self._nul_steps(stops, kwargs)
        yield from drive(self.transport.stream_bytes(request), steps, run_manager)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        steps: Any
        items: AsyncIterator[Any]
        if self._uses_chat_route(messages, kwargs):
            request, chat = self._chat_request(messages, stop, True, kwargs)
            steps, items = (
                SSEChatSteps(chat, proto.PROVIDER),
                self.transport.astream_events(request),
            )
        else:
            request, stops = self._generate_request(messages, stop, True, kwargs)
            steps, items = self._nul_steps(stops, kwargs), self.transport.astream_bytes(request)
        async with aclosing(adrive(items, steps, run_manager)) as chunks:
            async for chunk in chunks:
                yield chunk

    def _nul_steps(
        self, stops: list[str], kwargs: dict[str, Any]
    ) -> proto.NulSteps[ChatGenerationChunk]:
        model = kwargs.get("model") or self.model

        def final(decoder: proto.CumulativeStream) -> ChatGenerationChunk:
            meta = _metadata(model, decoder.credits_consumed)
            if decoder.stopped:
                meta["finish_reason"] = "stop"
            message = AIMessageChunk(
                content="",
                usage_metadata=decoder.usage,
                response_metadata=meta,
                chunk_position="last",
            )
            return ChatGenerationChunk(message=message)

        return proto.NulSteps(
            self._cumulative(stops, kwargs),
            lambda text: ChatGenerationChunk(message=AIMessageChunk(content=text)),
            final,
        )

    def _cumulative(self, stops: list[str], kwargs: dict[str, Any]) -> proto.CumulativeStream:
        beam = kwargs.get("use_beam_search", self.use_beam_search)
        return proto.CumulativeStream(stop=stops, buffered=bool(beam))

    # ------------------------------------------------------------------ tools

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools; requests with tools go to the OpenAI-compatible chat route."""
        formatted = format_tools(tools)
        for tool in formatted:
            if tool.get("type") != "function":
                raise InvalidParameterError(
                    "tools",
                    f"MonsterAPI supports function tools only; got {tool.get('type')!r}",
                    provider=proto.PROVIDER,
                )
        tool_choice_to_openai(tool_choice, tool_names(formatted), provider=proto.PROVIDER)
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return super().bind(tools=formatted, **kwargs)


def _metadata(model: str, credits: float | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"model_name": model, "model_provider": proto.PROVIDER}
    if credits is not None:
        meta["credits_consumed"] = credits
    return meta

"""The LangChain method skeleton, written once for every chat and text model.

A provider class supplies a :class:`Plan` for one call (the request, its stream
framing, a decoder factory and the non-stream parser); :class:`PlannedChatModel` and
:class:`PlannedLLM` do the rest the same way for all of them: ``_generate``,
``_agenerate``, ``_stream``, ``_astream``, the per-prompt LLM loop (prompts run
concurrently in async), ``streaming=True``, and the ``llm_output`` sums.
"""

from __future__ import annotations

import asyncio
import functools
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Generic, TypeVar

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, BaseLLM, LanguageModelInput
from langchain_core.language_models.chat_models import (
    agenerate_from_stream,
    generate_from_stream,
)
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import (
    ChatGenerationChunk,
    ChatResult,
    Generation,
    GenerationChunk,
    LLMResult,
)
from langchain_core.runnables import Runnable
from langchain_core.runnables.config import ContextThreadPoolExecutor
from langchain_core.tools import BaseTool
from pydantic import Field

from langchain_ffm_friendli._base import ProviderSettings, with_headers
from langchain_ffm_friendli._deltas import (
    Delta,
    TextResult,
    chat_chunk,
    text_chunk,
    with_request_id,
)
from langchain_ffm_friendli._openai.tools import StrictPlace, format_tools, place_strict
from langchain_ffm_friendli._profiles import model_profile
from langchain_ffm_friendli._streaming import Decoder, StreamRun, adrive, drive
from langchain_ffm_friendli._structured import StructuredOutputMixin
from langchain_ffm_friendli._tokens import estimate_message_tokens, estimate_tokens
from langchain_ffm_friendli._transport import Exchange, HTTPRequest
from langchain_ffm_friendli._wire import Framing
from langchain_ffm_friendli.errors import InvalidParameterError

__all__ = [
    "Call",
    "Plan",
    "PlannedChatModel",
    "PlannedLLM",
    "TextResult",
    "TokenEstimates",
    "join_chunks",
    "llm_result",
    "stop_sequences",
]

R = TypeVar("R")
In = TypeVar("In")


@dataclass(frozen=True, slots=True)
class Call(Generic[In]):
    """One call, checked before any request.

    Attributes:
        input: the messages (chat) or the prompt (text).
        kwargs: its per-call kwargs, checked, aliases resolved to field names.
        values: every wire field's value for this call: the instance's, with the
            call's overrides, and ``stop`` resolved once for every provider
            (LangChain's ``stop`` argument, else the per-call kwarg, else the
            instance's; empty strings dropped; None when there is none).
        stream: whether it streams.
    """

    input: In
    kwargs: dict[str, Any]
    values: dict[str, Any]
    stream: bool

    @property
    def stop(self) -> list[str]:
        """The call's stop sequences (empty when there are none)."""
        stops: list[str] = self.values.get("stop") or []
        return stops


@dataclass(frozen=True, slots=True)
class Plan(Generic[R]):
    """Everything one call needs, decided (and validated) before any I/O.

    Attributes:
        request: what to send.
        framing: the stream framing class (``SSEFraming`` or ``NulFraming``).
        decoder: builds a fresh stream decoder.
        parse: turns a non-stream response body into the result; None when the
            route only streams (Friendli's tool-assisted chat).
    """

    request: HTTPRequest
    framing: Callable[[str], Framing]
    decoder: Callable[[], Decoder]
    parse: Callable[[Any], R] | None = None


def stop_sequences(stop: str | Sequence[str] | None) -> list[str] | None:
    """Stop sequences as a list without empty strings (one would match at once); None if none."""
    stops = [stop] if isinstance(stop, str) else list(stop or ())
    return [s for s in stops if s] or None


def join_chunks(chunks: Sequence[GenerationChunk]) -> Generation:
    """One Generation from a text stream (generation_info merged, as LangChain does)."""
    if not chunks:
        return Generation(text="")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return Generation(text=total.text, generation_info=total.generation_info)


def llm_result(outputs: Sequence[TextResult], model: str) -> LLMResult:
    """An LLMResult whose ``llm_output`` sums OpenAI-style token usage over the prompts."""
    total = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for output in outputs:
        usage: Mapping[str, Any] = output.usage or {}
        total["prompt_tokens"] += int(usage.get("input_tokens") or 0)
        total["completion_tokens"] += int(usage.get("output_tokens") or 0)
        total["total_tokens"] += int(usage.get("total_tokens") or 0)
    return LLMResult(
        generations=[o.generations for o in outputs],
        llm_output={"token_usage": total, "model_name": model},
    )


class _TextChunksKeepingUsage:
    """Makes text chunks while keeping the usage a stream reports (LLM usage sums)."""

    __slots__ = ("usage",)

    def __init__(self) -> None:
        self.usage: UsageMetadata | None = None

    def __call__(self, delta: Delta) -> GenerationChunk:
        if delta.usage is not None:
            self.usage = delta.usage
        return text_chunk(delta)


class TokenEstimates:
    """Token counts without a tokenizer, for every chat and text model.

    LangChain's defaults (``get_num_tokens`` -> ``get_token_ids``) load GPT-2 from
    ``transformers``, which is not one of our dependencies and would count the wrong
    vocabulary anyway. These use :mod:`langchain_ffm_friendli._tokens` instead: a
    CJK-aware **approximation** (about one token per CJK character, four Latin
    letters per token, plus a per-message charge for the chat template), with no I/O.
    Friendli overrides :meth:`get_num_tokens` with its ``tokenize`` endpoint.
    """

    def get_num_tokens(self, text: str) -> int:
        """Estimate the tokens of ``text`` (an approximation, see the class docstring).

        Args:
            text: Any text.

        Returns:
            The estimate; 0 for an empty text.
        """
        return estimate_tokens(text)

    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[Any] | None = None,
    ) -> int:
        """Estimate the prompt tokens of ``messages`` and the ``tools`` schemas sent with them.

        An approximation with no I/O (also on Friendli), so it is cheap enough for
        ``trim_messages(token_counter=model)`` and
        ``SummarizationMiddleware(token_counter=model.get_num_tokens_from_messages)``.

        Args:
            messages: The conversation.
            tools: Tool schemas (dicts, pydantic models, functions or tools).

        Returns:
            The estimate, template overhead per message included.
        """
        return estimate_message_tokens(messages, tools=tools)


class CallSettings(ProviderSettings):
    """What every chat and text model adds for its calls: streaming and the chunk deadline."""

    streaming: bool = False
    """If True, ``invoke`` goes through the stream."""
    stream_chunk_timeout: float | None = Field(default=120.0, ge=0)
    """Seconds a stream may wait for content (keep-alive pings do not count); None or 0: no bound.

    On expiry the stream raises :class:`~langchain_ffm_friendli.errors.DeadlineExceededError`
    (also a ``TimeoutError``) with the text received so far, and closes its connection.
    Also accepted per call.
    """

    def _call(
        self, input: In, stop: list[str] | None, kwargs: Mapping[str, Any], *, stream: bool
    ) -> Call[In]:
        """One call checked before any request, with the rules every provider shares.

        ``stop`` is resolved here (see :attr:`Call.values`), and ``n`` > 1 is
        refused when streaming: LangChain streams one generation.
        """
        checked = self._call_kwargs(kwargs)
        values = self.field_values(checked)
        if "stop" in values:
            values["stop"] = stop_sequences(stop if stop is not None else values["stop"])
        if stream and (values.get("n") or 1) > 1:
            raise InvalidParameterError(
                "n",
                "must be 1 when streaming (LangChain streams one generation)",
                provider=self.provider_name,
            )
        return Call(input, checked, values, stream)

    def _prepared(self, plan: Plan[R], call: Call[Any]) -> tuple[Plan[R], Exchange]:
        """A provider's plan with the call's ``extra_headers``, and the call's exchange."""
        kwargs = call.kwargs
        headers = kwargs.get("extra_headers")
        if headers:
            plan = replace(plan, request=with_headers(plan.request, headers))
        exchange = Exchange(
            chunk_timeout=kwargs.get("stream_chunk_timeout", self.stream_chunk_timeout),
            total_timeout=kwargs.get("total_timeout", self.total_timeout),
        )
        return plan, exchange


class PlannedChatModel(TokenEstimates, StructuredOutputMixin, CallSettings, BaseChatModel):
    """``BaseChatModel`` methods for a provider that supplies ``_plan``."""

    def _planned(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: Any, *, stream: bool
    ) -> tuple[Plan[ChatResult], Exchange]:
        call = self._call(messages, stop, kwargs, stream=stream)
        return self._prepared(self._plan(call), call)

    def _resolve_model_profile(self) -> ModelProfile | None:
        """The profile of ``model`` (``_profiles.model_profile``); a given ``profile=`` wins.

        LangChain calls this once, at construction, only when no ``profile`` was passed.
        Unknown ids get the provider's conservative default.
        """
        return model_profile(self.provider_name, self.model)

    @abstractmethod
    def _plan(self, call: Call[list[BaseMessage]]) -> Plan[ChatResult]:
        """The provider's plan for one chat call."""

    @abstractmethod
    def _check_tools(self, tools: list[dict[str, Any]], tool_choice: Any) -> None:
        """The provider's checks of bound tools and ``tool_choice``."""

    strict_handling: ClassVar[tuple[StrictPlace, StrictPlace]] = ("sent", "sent")
    """What the provider's schema does with ``strict`` on function tools and on a JSON schema."""

    def _tools_and_format(
        self, kwargs: dict[str, Any], response_format: Any = None
    ) -> tuple[list[dict[str, Any]] | None, dict[str, Any] | None]:
        """One call's tools and response_format, ``strict`` placed per :attr:`strict_handling`."""
        tools_place, schema_place = self.strict_handling
        return place_strict(
            kwargs.get("tools") or None,
            response_format if response_format is not None else kwargs.get("response_format"),
            strict=kwargs.get("strict"),
            provider=self.provider_name,
            tools_place=tools_place,
            schema_place=schema_place,
        )

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (functions, BaseTools, pydantic models or OpenAI tool dicts).

        ``tool_choice``: "auto", "none", "any"/"required"/True (a tool must be
        called) or a tool name. Tools and choice are checked now, so a typo fails
        before any request. ``strict`` goes where the provider's schema puts it,
        or is refused (see the class docstring).
        """
        formatted = format_tools(tools, strict=strict)
        self._check_tools(formatted, tool_choice)
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if not self.streaming:
            plan, exchange = self._planned(messages, stop, kwargs, stream=False)
            if plan.parse is not None:
                return _post(self, plan, exchange)
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if not self.streaming:
            plan, exchange = self._planned(messages, stop, kwargs, stream=False)
            if plan.parse is not None:
                return await _apost(self, plan, exchange)
        return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # The driver itself, not a generator around it: one frame less per chunk.
        plan, exchange = self._planned(messages, stop, kwargs, stream=True)
        return _stream_plan(self, plan, exchange, run_manager, chat_chunk)

    def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        plan, exchange = self._planned(messages, stop, kwargs, stream=True)
        return _astream_plan(self, plan, exchange, run_manager, chat_chunk)


# generate()'s own keyword arguments, not sent to the provider.
_GENERATE_OWN_KWARGS = frozenset({"stop", "callbacks", "tags", "metadata", "run_name", "run_id"})


def _without_generate_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in _GENERATE_OWN_KWARGS}


# BaseLLM.generate reports invocation_params without the per-call kwargs (its
# stream() includes them); PlannedLLM hands them over through this.
_LLM_CALL_KWARGS: ContextVar[dict[str, Any] | None] = ContextVar(
    "langchain_ffm_friendli_call_kwargs", default=None
)


class PlannedLLM(TokenEstimates, CallSettings, BaseLLM):
    """``BaseLLM`` methods for a provider that supplies ``_plan``."""

    def _planned(
        self, prompt: str, stop: list[str] | None, kwargs: Any, *, stream: bool
    ) -> tuple[Plan[TextResult], Exchange]:
        call = self._call(prompt, stop, kwargs, stream=stream)
        return self._prepared(self._plan(call), call)

    def _dict_for_compat(self) -> dict[str, Any]:
        """``invocation_params``, per-call values included (LangChain's generate omits them)."""
        params = super()._dict_for_compat()
        params.update({k: v for k, v in (_LLM_CALL_KWARGS.get() or {}).items() if v is not None})
        return params

    def generate(self, prompts: list[str], *args: Any, **kwargs: Any) -> LLMResult:
        """LangChain's ``generate``, with the per-call kwargs in ``invocation_params``."""
        token = _LLM_CALL_KWARGS.set(_without_generate_options(kwargs))
        try:
            return super().generate(prompts, *args, **kwargs)
        finally:
            _LLM_CALL_KWARGS.reset(token)

    async def agenerate(self, prompts: list[str], *args: Any, **kwargs: Any) -> LLMResult:
        """Async :meth:`generate`."""
        token = _LLM_CALL_KWARGS.set(_without_generate_options(kwargs))
        try:
            return await super().agenerate(prompts, *args, **kwargs)
        finally:
            _LLM_CALL_KWARGS.reset(token)

    @abstractmethod
    def _plan(self, call: Call[str]) -> Plan[TextResult]:
        """The provider's plan for one prompt."""

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        """Every prompt, concurrently (threads), as ``_agenerate`` does with tasks.

        ``batch(..., config={"max_concurrency": n})`` hands over ``n`` prompts at
        a time, so that bounds the calls in flight; results keep the input order
        and the first failure fails the call.
        """
        if len(prompts) == 1:
            outputs = [self._one(prompts[0], stop, run_manager, kwargs)]
        else:
            with ContextThreadPoolExecutor(max_workers=min(len(prompts), _MAX_THREADS)) as pool:
                futures = [pool.submit(self._one, p, stop, run_manager, kwargs) for p in prompts]
                try:
                    outputs = [future.result() for future in futures]
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
        return llm_result(outputs, self._model_for(kwargs))

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        outputs = await asyncio.gather(*(self._aone(p, stop, run_manager, kwargs) for p in prompts))
        return llm_result(outputs, self._model_for(kwargs))

    def _one(
        self,
        prompt: str,
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
    ) -> TextResult:
        if not self.streaming:
            plan, exchange = self._planned(prompt, stop, kwargs, stream=False)
            if plan.parse is not None:
                return _post(self, plan, exchange)
        tap = _TextChunksKeepingUsage()
        plan, exchange = self._planned(prompt, stop, kwargs, stream=True)
        chunks = list(_stream_plan(self, plan, exchange, run_manager, tap))
        return TextResult([join_chunks(chunks)], tap.usage)

    async def _aone(
        self,
        prompt: str,
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
    ) -> TextResult:
        if not self.streaming:
            plan, exchange = self._planned(prompt, stop, kwargs, stream=False)
            if plan.parse is not None:
                return await _apost(self, plan, exchange)
        tap = _TextChunksKeepingUsage()
        plan, exchange = self._planned(prompt, stop, kwargs, stream=True)
        async with aclosing(_astream_plan(self, plan, exchange, run_manager, tap)) as stream:
            chunks = [chunk async for chunk in stream]
        return TextResult([join_chunks(chunks)], tap.usage)

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        # The driver itself, not a generator around it: one frame less per chunk.
        plan, exchange = self._planned(prompt, stop, kwargs, stream=True)
        return _stream_plan(self, plan, exchange, run_manager, text_chunk)

    def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        plan, exchange = self._planned(prompt, stop, kwargs, stream=True)
        return _astream_plan(self, plan, exchange, run_manager, text_chunk)


C = TypeVar("C", ChatGenerationChunk, GenerationChunk)

# Threads for the prompts of one sync ``generate`` (``batch`` hands over at most
# ``max_concurrency`` prompts at a time; without it, all of them).
_MAX_THREADS = 64


def _result_with_request_id(result: R, request_id: str | None) -> R:
    generations = result.generations if isinstance(result, ChatResult | TextResult) else []
    with_request_id(generations, request_id)
    return result


def _post(model: ProviderSettings, plan: Plan[R], exchange: Exchange) -> R:
    """One non-stream call, with the server's request id on its answer."""
    assert plan.parse is not None
    result = model._post(plan.request, plan.parse, exchange)
    return _result_with_request_id(result, exchange.request_id)


async def _apost(model: ProviderSettings, plan: Plan[R], exchange: Exchange) -> R:
    """Async :func:`_post`."""
    assert plan.parse is not None
    result = await model._apost(plan.request, plan.parse, exchange)
    return _result_with_request_id(result, exchange.request_id)


def _stream_plan(
    model: ProviderSettings,
    plan: Plan[Any],
    exchange: Exchange,
    run_manager: CallbackManagerForLLMRun | None,
    make: Callable[[Delta], C],
) -> Iterator[C]:
    provider, transport = model.provider_name, model.transport
    framing = plan.framing(provider)
    items = transport.stream_bytes(plan.request, exchange)
    run = StreamRun(framing, plan.decoder(), make, exchange, provider)
    return drive(
        items, run, run_manager, functools.partial(transport.guard, plan.request, exchange)
    )


def _astream_plan(
    model: ProviderSettings,
    plan: Plan[Any],
    exchange: Exchange,
    run_manager: AsyncCallbackManagerForLLMRun | None,
    make: Callable[[Delta], C],
) -> AsyncGenerator[C, None]:
    provider, transport = model.provider_name, model.transport
    framing = plan.framing(provider)
    items = transport.astream_bytes(plan.request, exchange)
    run = StreamRun(framing, plan.decoder(), make, exchange, provider)
    return adrive(
        items, run, run_manager, functools.partial(transport.guard, plan.request, exchange)
    )

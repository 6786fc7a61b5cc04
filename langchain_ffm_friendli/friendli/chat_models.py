"""ChatFriendli: LangChain chat model for Friendli chat completions and tool-assisted chat."""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from langchain_ffm_friendli._base import Wire
from langchain_ffm_friendli._events import CustomEventsMixin
from langchain_ffm_friendli._openai.chat import chat_result, openai_chat_body
from langchain_ffm_friendli._openai.messages import messages_to_dicts
from langchain_ffm_friendli._openai.tools import tool_names
from langchain_ffm_friendli._planned import Call, Plan, PlannedChatModel
from langchain_ffm_friendli._wire import SSEFraming
from langchain_ffm_friendli.friendli import _protocol as proto
from langchain_ffm_friendli.friendli._settings import FriendliClientSettings

__all__ = ["ChatFriendli"]


class ChatFriendli(CustomEventsMixin, FriendliClientSettings, PlannedChatModel):
    r"""FriendliAI chat model: chat completions and tool-assisted chat with built-in tools.

    OpenAI-compatible chat over httpx (sync and async), plus Friendli's own
    sampling knobs, its endpoints (serverless, dedicated, container) and its
    built-in tools, which the server runs itself while streaming
    ``tool_status`` events.

    Setup:
        Install the package (``pip install .`` from a checkout; ``pip install
        langchain-ffm-friendli`` once released) and ``export FRIENDLI_TOKEN=flp_...``
        (optionally ``FRIENDLI_TEAM``).

    Key init args — completion params:
        model: model code (serverless), endpoint id (dedicated) or adapter route.
        temperature, max_tokens, top_p, top_k, min_p, n, seed (int or one per n),
        stop, frequency_penalty, presence_penalty, repetition_penalty, logit_bias,
        logprobs, top_logprobs, eos_token, min_tokens, chat_template_kwargs,
        parallel_tool_calls, response_format (json_object, json_schema, regex),
        resume_generation (tool-assisted chat), reasoning_effort, reasoning_budget,
        parse_reasoning, include_reasoning. Every one is also a per-call kwarg.

    Key init args — client params:
        api_key (from ``FRIENDLI_TOKEN``), team_id (``X-Friendli-Team``, from
        ``FRIENDLI_TEAM``), endpoint ("serverless", "dedicated", "container"),
        base_url (from ``FRIENDLI_BASE_URL``), timeout, max_retries, stream_usage.

    Unknown parameters:
        Misspelled names fail before any request with ``InvalidParameterError`` and the
        nearest known name. A Friendli field newer than this class is sent verbatim
        with ``extra_body={...}`` (per call, merged last) or ``model_kwargs``.

        ``strict=True`` on function tools is refused with ``InvalidParameterError``
        naming ``strict`` (Friendli's chat function tool has no strict flag); with
        ``method="json_schema"`` it is accepted and not sent, since Friendli always
        decodes under the schema's grammar. ``strict=False`` is not sent.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import ChatFriendli

            llm = ChatFriendli(model="meta-llama-3.1-8b-instruct", temperature=0)
            dedicated = ChatFriendli(model="my-endpoint-id", endpoint="dedicated")
            container = ChatFriendli(model="adapter", base_url="http://gpu:8000/v1")

    Invoke:
        .. code-block:: python

            msg = llm.invoke("What is the capital of Taiwan?")
            msg.content, msg.response_metadata["finish_reason"]

    Stream:
        The last chunk carries the usage (``stream_usage=True`` asks for it):

        .. code-block:: python

            full = None
            for chunk in llm.stream("Tell me a story"):
                full = chunk if full is None else full + chunk
            full.usage_metadata

    Async:
        .. code-block:: python

            await llm.ainvoke("Hello")

    Tool calling:
        .. code-block:: python

            def get_weather(city: str) -> str:
                \"\"\"Get the weather.\"\"\"
                return "sunny"

            llm.bind_tools([get_weather], tool_choice="any").invoke("Weather in Taipei?")

    Built-in tools (tool-assisted chat):
        .. code-block:: python

            calc = llm.bind_tools([{"type": "math:calculator"}])
            msg = calc.invoke("What is 3 + 6?")
            msg.content  # "3 + 6 = 9."
            msg.additional_kwargs["tool_status"]
            # [{"status": "STARTED", ...}, {"status": "ENDED", "result": ...}]
            [b["type"] for b in msg.content_blocks]
            # ["server_tool_call", "server_tool_result", "text"]

        Any built-in tool routes the request to the tool-assisted endpoint (which
        is always streamed under the hood). Its ``tool_status`` events are kept,
        in order, in ``additional_kwargs["tool_status"]``, dispatched as
        LangChain custom events named ``"tool_status"`` (see ``astream_events``)
        and, inside a LangGraph node, written to the graph's
        ``stream_mode="custom"`` stream as ``{"tool_status": status}``.
        ``content_blocks`` (and ``content`` with ``output_version="v1"``) shows
        them as ``server_tool_call`` / ``server_tool_result`` blocks.
        Built-in tools never appear in ``tool_calls``: the server runs them.

    Image input:
        .. code-block:: python

            from langchain_core.messages import HumanMessage

            vision = ChatFriendli(model="google/gemma-4-31B-it")
            vision.invoke([HumanMessage(content=[
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image", "url": "https://example.com/cat.png"},
                # or {"type": "image", "base64": "...", "mime_type": "image/png"}
            ])])

        LangChain image/audio/video blocks (and OpenAI-style ``image_url`` parts) in
        user messages become Friendli's ``image_url`` / ``audio_url`` / ``video_url``
        parts; base64 data is sent as a ``data:`` URL. A documented model without
        that input (its profile's ``image_inputs``, ...) is refused before sending;
        dedicated endpoints, adapters and containers are not checked.

    Reasoning:
        .. code-block:: python

            thinker = ChatFriendli(
                model="deepseek-ai/DeepSeek-R1-0528", reasoning_effort="high"
            )
            msg = thinker.invoke("6*7?")
            msg.additional_kwargs["reasoning_content"]  # also a reasoning content block

        ``reasoning_effort``, ``reasoning_budget``, ``parse_reasoning`` and
        ``include_reasoning`` are checked at init and per call. An assistant turn's
        reasoning in the history is sent back as ``reasoning_content``.

    Structured output:
        .. code-block:: python

            llm.with_structured_output(MySchema, method="json_schema").invoke("...")

        ``function_calling`` (default), ``json_schema`` and ``json_mode``. Friendli
        refuses ``response_format`` together with tools, so each method sends one
        or the other; the JSON methods also instruct the model to answer in JSON.

    Token usage:
        .. code-block:: python

            msg.usage_metadata  # input_tokens, output_tokens, total_tokens

        Streams ask for ``stream_options.include_usage`` (``stream_usage=True``).

    Response metadata:
        ``model_name``, ``model_provider`` ("friendli"), ``finish_reason``, ``id``,
        and ``logprobs`` when requested.
    """

    read_per_call = frozenset({"tools", "tool_choice", "stream_options"})
    strict_handling = ("none", "implied")

    temperature: Annotated[float | None, Wire()] = None
    max_tokens: Annotated[int | None, Wire()] = None
    top_p: Annotated[float | None, Wire()] = None
    top_k: Annotated[int | None, Wire()] = None
    min_p: Annotated[float | None, Wire()] = None
    n: Annotated[int | None, Wire()] = None
    seed: Annotated[int | list[int] | None, Wire()] = None
    stop: Annotated[list[str] | None, Wire()] = None
    frequency_penalty: Annotated[float | None, Wire()] = None
    presence_penalty: Annotated[float | None, Wire()] = None
    repetition_penalty: Annotated[float | None, Wire()] = None
    logit_bias: Annotated[dict[str, float] | None, Wire()] = None
    logprobs: Annotated[bool | None, Wire()] = None
    top_logprobs: Annotated[int | None, Wire()] = None
    eos_token: Annotated[list[int] | None, Wire()] = None
    min_tokens: Annotated[int | None, Wire()] = None
    chat_template_kwargs: Annotated[dict[str, Any] | None, Wire()] = None
    parallel_tool_calls: Annotated[bool | None, Wire()] = None
    response_format: Annotated[dict[str, Any] | None, Wire()] = None
    resume_generation: Annotated[bool | None, Wire()] = None
    """Tool-assisted chat: keep generating after a tool error."""
    reasoning_effort: Annotated[proto.ReasoningEffort | None, Wire()] = None
    """How much a reasoning model thinks before answering: "minimal", "low", "medium",
    "high", "xhigh", "max" or "ultracode" (the SDK's enum; which a model honours
    depends on the model, see its profile's ``reasoning_effort_levels``)."""
    reasoning_budget: Annotated[int | None, Wire()] = None
    """A positive cap on the tokens a reasoning model spends on reasoning."""
    parse_reasoning: Annotated[bool | None, Wire()] = None
    """Split the reasoning into ``reasoning_content`` (the answer stays in ``content``);
    the default depends on the endpoint."""
    include_reasoning: Annotated[bool | None, Wire()] = None
    """With parsed reasoning, whether ``reasoning_content`` is returned (Friendli: true)."""
    stream_usage: bool = True
    """Ask for the final usage chunk when streaming."""

    def model_post_init(self, context: Any, /) -> None:
        """Validate ranges and combinations at construction, naming the field."""
        super().model_post_init(context)
        proto.validate_chat(self.field_values())

    @property
    def _llm_type(self) -> str:
        return "friendli-chat"

    def _plan(self, call: Call[list[BaseMessage]]) -> Plan[ChatResult]:
        """Validate everything and build the request before any I/O happens.

        Built-in tools go to the tool-assisted route, which only streams.
        """
        kwargs = call.kwargs
        settings = dict(call.values)
        tools, response_format = self._tools_and_format(
            kwargs, settings.pop("response_format", None)
        )
        proto.validate_chat({**settings, "tools": tools, "response_format": response_format})
        assisted = bool(proto.builtin_tools(tools))
        url = proto.builtin_tools_url(self.endpoint, self.base_url) if assisted else ""
        if not assisted and settings.get("resume_generation") is not None:
            raise proto.InvalidParameterError(
                "resume_generation",
                "applies only to tool-assisted chat (bind a built-in tool)",
                provider=proto.PROVIDER,
            )
        stream_options = kwargs.get("stream_options")
        if call.stream and stream_options is None and self.stream_usage:
            stream_options = {"include_usage": True}
        choice = kwargs.get("tool_choice")
        model = self._model_for(kwargs)
        # Friendli takes media parts in user turns and reasoning_content on assistant turns.
        messages = messages_to_dicts(
            call.input, provider=proto.PROVIDER, media=True, reasoning=True
        )
        proto.check_media(messages, model)
        body = openai_chat_body(
            model=model,
            messages=messages,
            params=settings,
            stream=call.stream,
            tools=tools,
            tool_choice=proto.friendli_tool_choice(choice, tool_names(tools)) if tools else None,
            response_format=proto.wire_response_format(response_format)
            if response_format
            else None,
            stream_options=stream_options,
            extra=self.verbatim_fields(kwargs),
        )
        return Plan(
            self._request("chat/completions", body, url=url),
            SSEFraming,
            lambda: proto.ChatStream(model=model, provider=proto.PROVIDER),
            None
            if assisted
            else lambda payload: chat_result(payload, model=model, provider=proto.PROVIDER),
        )

    # ------------------------------------------------------------------ tools

    def _check_tools(self, tools: list[dict[str, Any]], tool_choice: Any) -> None:
        """Function tools and built-ins (``{"type": "math:calculator"}``, serverless only)."""
        if proto.builtin_tools(tools):
            proto.builtin_tools_url(self.endpoint, self.base_url)
        proto.friendli_tool_choice(tool_choice, tool_names(tools))

"""ChatFFM: LangChain chat model for FFM's Conversation API."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from langchain_ffm_friendli._openai.messages import messages_to_dicts
from langchain_ffm_friendli._openai.tools import tool_names
from langchain_ffm_friendli._planned import Call, Plan, PlannedChatModel
from langchain_ffm_friendli._wire import SSEFraming
from langchain_ffm_friendli.ffm import _protocol as proto
from langchain_ffm_friendli.ffm._settings import FFMSamplingSettings

__all__ = ["ChatFFM"]


class ChatFFM(FFMSamplingSettings, PlannedChatModel):
    r"""FFM (Formosa Foundation Model on TWCC/TWSC AFS) chat model.

    Talks to FFM's native Conversation API (``POST {base_url}/models/conversation``)
    over httpx, sync and async, with streaming that skips FFM's keep-alive pings,
    token usage, tool calling and structured output.

    Setup:
        Install the package and set your key::

            pip install .   # from a checkout; `pip install langchain-ffm-friendli` once released
            export FFM_API_KEY="your-key"
            export FFM_BASE_URL="https://api-ams.twcc.ai/api"   # optional

    Key init args — completion params:
        model (alias model_name): FFM model id, e.g. ``llama3.3-ffm-70b-32k-chat``.
        temperature: >= 0. FFM refuses 0, so 0 is sent as its closest equivalent,
            ``temperature=0.01`` with ``top_k=1`` (greedy), which is what LangChain
            users mean by 0.
        max_tokens (alias max_new_tokens): sent as ``parameters.max_new_tokens``.
        top_p: in (0, 1]. top_k: 1..100. seed: >= 0.
        frequence_penalty: FFM's (multiplicative) repetition penalty, > 0; 1.0 is off.
            Spelled as FFM spells it; OpenAI's additive ``frequency_penalty`` is a
            different knob and is not translated.
        stop (alias stop_sequences): at most 4, sent as ``parameters.stop_sequences``;
            an echoed trailing stop string is removed from the answer.

    Key init args — client params:
        api_key: ``SecretStr``, from ``FFM_API_KEY`` when not given.
        base_url: from ``FFM_BASE_URL``, default ``https://api-ams.twcc.ai/api``
            (a pasted ``.../api/models`` is accepted).
        api_host: ``X-API-HOST`` header, ``afs-inference`` by default (needed by
            the public endpoint); None to omit it.
        timeout, max_retries, default_headers, http_client, http_async_client.

    Unknown parameters:
        ``ChatFFM(temprature=0.5)`` raises ``InvalidParameterError`` ("did you mean
        'temperature'?") before any request; an FFM field not declared here goes in
        ``extra_body={...}`` (a ``parameters`` dict there merges into FFM's).

        ``strict=True`` (``bind_tools``, ``with_structured_output``) is refused
        with ``InvalidParameterError`` naming ``strict``: FFM's tool schema and
        its instruction-based JSON have no strict flag. ``strict=False`` is not sent.

    Instantiate:
        .. code-block:: python

            from langchain_ffm_friendli import ChatFFM

            llm = ChatFFM(model="llama3.3-ffm-70b-32k-chat", temperature=0.5)

    Invoke:
        .. code-block:: python

            msg = llm.invoke([("system", "你是一個有幫助的助理"), ("human", "人口最多的國家是?")])
            print(msg.content)

    Stream:
        .. code-block:: python

            for chunk in llm.stream("主要宗教為?"):
                print(chunk.content, end="", flush=True)

    Async:
        .. code-block:: python

            msg = await llm.ainvoke("Hello")
            async for chunk in llm.astream("Hello"):
                ...

    Tool calling:
        .. code-block:: python

            def get_weather(city: str) -> str:
                \"\"\"Get the weather of a city.\"\"\"
                return "sunny"

            ai_msg = llm.bind_tools([get_weather]).invoke("台北天氣如何?")
            ai_msg.tool_calls  # [{"name": "get_weather", "args": {"city": "台北"}, ...}]

        ``tool_choice`` accepts "auto", "none", "any"/"required"/True or a tool
        name. Calls that the model writes as ``<function=NAME>{...}</function>``
        text are recognised too; malformed arguments land in
        ``invalid_tool_calls`` rather than raising.

    Structured output:
        .. code-block:: python

            from pydantic import BaseModel

            class Answer(BaseModel):
                country: str
                religion: str

            llm.with_structured_output(Answer).invoke("印度的主要宗教?")

        Methods: ``function_calling`` (default; a forced tool call),
        ``json_schema`` and ``json_mode``. FFM has no JSON mode on the wire, so the
        JSON methods instruct the model through the system prompt and the reply is
        parsed and validated client-side.

    Token usage:
        .. code-block:: python

            msg.usage_metadata  # {"input_tokens": 45, "output_tokens": 5, "total_tokens": 50}

        Streaming puts usage on the final chunk only.

    Response metadata:
        .. code-block:: python

            msg.response_metadata
            # {"model_name": "...", "model_provider": "ffm", "finish_reason": "eos_token",
            #  "total_time_taken": "0.13 sec"}

        ``finish_reason`` is FFM's raw value (``eos_token``, ``stop_sequence``,
        ``length``, ``tool_calls``).
    """

    strict_handling = ("none", "none")

    @property
    def _llm_type(self) -> str:
        return "ffm-chat"

    def _plan(self, call: Call[list[BaseMessage]]) -> Plan[ChatResult]:
        """Validate everything and build the request before any I/O happens."""
        kwargs = call.kwargs
        parameters, stops = self._parameters(call.values), call.stop
        tools, response_format = self._tools_and_format(kwargs)
        choice = proto.ffm_tool_choice(kwargs.get("tool_choice"), tool_names(tools or []))
        messages = messages_to_dicts(call.input, provider=proto.PROVIDER)
        model = self._model_for(kwargs)
        body = proto.conversation_payload(
            model=model,
            messages=proto.inject_response_format(messages, response_format),
            parameters=parameters,
            stream=call.stream,
            tools=tools,
            tool_choice=choice if tools else None,
            extra=self.verbatim_fields(kwargs),
        )
        bound = bool(tools)
        return Plan(
            self._request("models/conversation", body),
            SSEFraming,
            lambda: proto.FFMStream(model=model, tools_bound=bound, stop=stops),
            lambda payload: _result(payload, model, tools_bound=bound, stop=stops),
        )

    # ------------------------------------------------------------------ tools

    def _check_tools(self, tools: list[dict[str, Any]], tool_choice: Any) -> None:
        """Function tools only; a lone forced tool is sent by name ("required" is undocumented)."""
        proto.ffm_tool_choice(tool_choice, tool_names(tools))
        proto.conversation_payload(
            model=self.model, messages=[], parameters={}, stream=False, tools=tools
        )


def _result(
    payload: dict[str, Any], model: str, *, tools_bound: bool, stop: list[str]
) -> ChatResult:
    message = proto.parse_conversation(payload, model=model, tools_bound=tools_bound, stop=stop)
    info = {"finish_reason": message.response_metadata.get("finish_reason")}
    return ChatResult(
        generations=[ChatGeneration(message=message, generation_info=info)],
        llm_output={"model_name": model, "token_usage": message.usage_metadata},
    )

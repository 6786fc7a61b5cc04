"""Friendli (FriendliAI) endpoints of the emulator, under ``/friendli``.

Speaks the wire format documented in ``protocols/friendli.md``; the emulator exists to
prove clients against it, so it is never bent to suit one.

Routes (route names in parentheses):

* ``POST /friendli/{serverless,dedicated,container}/v1/chat/completions``
  (``friendli.chat``): OpenAI-compatible chat, see :mod:`._openai_chat`.
* ``POST /friendli/serverless/tools/v1/chat/completions`` (``friendli.tools_chat``):
  tool-assisted chat (Beta) whose built-in tools the server runs itself.
* ``POST /friendli/{serverless,dedicated,container}/v1/completions``
  (``friendli.completions``): text completions.
* ``POST /friendli/{serverless,dedicated,container}/v1/tokenize`` (``friendli.tokenize``):
  ``{"model", "prompt"}`` -> ``{"tokens": [ids...]}`` (protocols/friendli.md §1.1; SDK
  ``*TokenizationBody`` / ``*TokenizationSuccess``), with the emulator's pseudo tokenizer
  (a word with its leading space, or one CJK character, as its token counts everywhere).
  Queued faults apply (a queued ``Reply`` does not: it is for a generating route).

Auth: serverless, dedicated and tool-assisted paths need ``Authorization: Bearer <key>``
and answer 401 ``{"detail": "Unauthorized. Please provide a valid credential."}``
otherwise; container paths take no credentials at all (and ``model`` is optional there).
The emulator's auth hook only sees headers, so :meth:`FriendliProvider.authenticate`
remembers the accepted key and lets everything through, and each route checks the key
itself. ``X-Friendli-Team`` is accepted and only recorded. Errors are
``{"detail": "..."}``; validation failures are HTTP 422 with a message naming the field.

Tool-assisted chat: ``tools`` mixes the built-in tools (``math:calculator``,
``math:statistics``, ``math:calendar``, ``web:search``, ``web:url``,
``code:python-interpreter``, ``file:text`` with ``files: [one file id]``,
``linkup:search``) with ordinary function tools; ``resume_generation`` is accepted. The
default model runs a built-in tool when the last user message calls for it:

* ``math:calculator`` -- an arithmetic expression in the message (``+ - * / ** ^ × ÷``,
  parentheses, decimals, unary minus; also "plus", "minus", "times", "divided by") is
  really evaluated by a small exact parser (no ``eval``); division by zero is ERRORED.
  The result is double-encoded JSON text, as in Friendli's example: the JSON string
  of the JSON text ``{"result": "3 + 6=9"}``.
* ``math:statistics`` -- "mean", "average", "median", "standard deviation"... with
  numbers: count, mean, median, sample stdev, variance, min, max and sum, as JSON text.
* ``math:calendar`` -- "what day", "weekday", "date", "today", "how many days"...: the
  weekday of a date in the message, the days between two dates, or today's date, as
  JSON text (an impossible date is ERRORED).
* ``web:search``, ``linkup:search``, ``web:url``, ``code:python-interpreter``,
  ``file:text`` -- plain text ``[emulator canned result for <tool>] ...`` when the
  message asks to search/look up, contains a URL, mentions code/Python, or a
  file/document; these also send an ``UPDATING`` status.

Each run streams ``event: tool_status`` events before the answer: ``STARTED``, then
``UPDATING`` (canned tools), then ``ENDED`` with ``result`` or ``ERRORED`` with
``error: {"type": "INVALID_PARAMETER", "msg": ...}``; data fields are ``tool_call_id``,
``name``, ``status``, ``parameters`` (``[{"name", "value"}]``, strings), ``result``,
``files``, ``message``, ``error``, ``usage`` (null) and ``timestamp``. The answer states
the results ("3 + 6 = 9."). After an ERRORED run the generation stops (empty answer,
``finish_reason: "stop"``) unless ``resume_generation`` is true, in which case the answer
explains the failure. A user function tool the model picks is streamed as tool-call
deltas after the statuses. A queued ``Reply`` replaces the answer; built-in tools still
run as the prompt asks. The non-streaming body holds only the final answer.

Token chunks of a tool-assisted stream use the three forms clients meet (the spec
declares ``event: token``, examples show bare ``data:`` lines, and ``message`` is the SSE
default): an emulator's first streamed tool-assisted request uses no ``event:`` line, the
second ``event: message``, the third ``event: token``, and so on in turn (``[DONE]`` is
always a bare ``data:`` line). The request header
``X-Emulator-Token-Event: none|message|token`` picks one explicitly.

Text completions: exactly one of ``prompt`` (string or list of strings) and ``tokens``;
the fields of the current spec and of the legacy (beam search) revision are validated
(``beam_search_type`` without ``num_beams`` is ignored, as the legacy docs say).
Choices carry ``seed`` and ``tokens`` (deterministic pseudo token ids); ``logprobs`` is an
integer (alternatives per position). The current stream sends ``data:`` chunks with the
sampled ``token`` id, a finish chunk, a usage chunk when
``stream_options.include_usage`` is true, then ``data: [DONE]``. The legacy stream
(``data: {"event": "token_sampled", "index", "text", "token"}`` lines, then one final
``{"choices": [{"index", "seed", "text", "tokens"}], "usage"}`` record and no ``[DONE]``)
cannot be requested through the API any more, so the emulator sends it when the request
has the header ``X-Emulator-Stream-Format: legacy``. ``timeout_microseconds`` shorter than
the simulated generation time (1 ms per generated token) gives HTTP 429, as the legacy
docs state.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .._exchange import DetailErrorBody, Exchange, Handler, Route
from .._faults import StreamEvent, play_stream
from .._fields import RequestError, read_bool, read_model
from .._model import tokenize
from .._openai_chat import chat_handler, parse_chat_request, read_body, split_item, start_sse
from .._openai_encode import DONE, chunk_records, encode_response, new_id, sse, stream_script
from ._builtin_tools import BUILTIN_TOOLS, plan_runs, tools_completion
from ._completions import PROVIDER, answer_completions, parse_completions_request, token_id

__all__ = ["BUILTIN_TOOLS", "MODELS", "PREFIX", "FriendliProvider"]

#: Serverless model codes in Friendli's docs, SDK and published roster, both naming
#: generations (protocols/friendli.md §8). Dedicated endpoints and container
#: adapters are the user's own, so those routes take any id.
MODELS = frozenset(
    {
        "meta-llama-3.1-8b-instruct",
        "meta-llama-3.3-70b-instruct",
        "meta-llama-3-8b-instruct",
        "llama-2-13b-chat",
        "meta-llama/Llama-3.1-8B-Instruct",
        "meta-llama/Llama-3.3-70B-Instruct",
        "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "LGAI-EXAONE/EXAONE-4.0.1-32B",
        "LGAI-EXAONE/K-EXAONE-236B-A23B",
        "MiniMaxAI/MiniMax-M2.1",
        "MiniMaxAI/MiniMax-M2.5",
        "zai-org/GLM-4.7",
        "zai-org/GLM-5",
        "zai-org/GLM-5.1",
        "zai-org/GLM-5.2",
        "zai-org/GLM-5.3",
        "zai-org/GLM-5.3-Flash",
        "google/gemma-4-31B-it",
        "deepseek-ai/DeepSeek-V3.2",
        "deepseek-ai/DeepSeek-R1-0528",
    }
)

PREFIX = "/friendli"
UNAUTHORIZED = "Unauthorized. Please provide a valid credential."
STREAM_FORMAT_HEADER = "x-emulator-stream-format"
EVENT_FORM_HEADER = "x-emulator-token-event"
_PRODUCTS = ("serverless", "dedicated", "container")
_TOKEN_EVENTS: tuple[str | None, ...] = (None, "message", "token")
_MAX_TOOLS = 128


class FriendliProvider(DetailErrorBody):
    """The Friendli provider: routes, ``{"detail": ...}`` errors and per-route bearer auth."""

    prefix = PREFIX
    name = "friendli"
    models = MODELS
    compact_json = False

    def __init__(self) -> None:
        """Create the provider (one per emulator)."""
        self._api_key: str | None = None
        self._tool_streams = 0

    def routes(self) -> list[Route]:
        """The endpoints served under ``/friendli``.

        Returns:
            The routes.
        """
        routes = []
        for product in _PRODUCTS:
            base = f"{PREFIX}/{product}/v1"
            keyed = product != "container"
            serverless = product == "serverless"
            chat = chat_handler(
                provider=PROVIDER,
                require_model=keyed,
                guard=self._guard if keyed else None,
                check_model=serverless,
            )
            routes.append(Route("POST", f"{base}/chat/completions", "friendli.chat", chat))
            routes.append(
                Route(
                    "POST",
                    f"{base}/completions",
                    "friendli.completions",
                    self._completions_handler(keyed=keyed, check_model=serverless),
                )
            )
            routes.append(
                Route(
                    "POST",
                    f"{base}/tokenize",
                    "friendli.tokenize",
                    self._tokenize_handler(keyed=keyed, check_model=serverless),
                )
            )
        routes.append(
            Route(
                "POST",
                f"{PREFIX}/serverless/tools/v1/chat/completions",
                "friendli.tools_chat",
                self._tools_chat,
            )
        )
        return routes

    def unknown_model(self, route: str, model: str) -> tuple[int, Any]:
        """The serverless API's 404 for a model it does not serve (protocols/friendli.md §5.1).

        Args:
            route: The route name (every serverless route answers alike).
            model: The unknown model id.

        Returns:
            ``(404, {"detail": "Model '<id>' not found."})``.
        """
        del route
        return 404, {"detail": f"Model '{model}' not found."}

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """Remember the accepted key; the routes check it (container routes need none).

        The emulator calls this hook with the headers only, but whether Friendli wants a
        credential depends on the path, so the decision is made by each route.

        Args:
            headers: Request headers (unused here).
            api_key: The key the emulator accepts.

        Returns:
            Always True.
        """
        del headers
        self._api_key = api_key
        return True

    async def _guard(self, exchange: Exchange) -> bool:
        """Answer 401 unless ``Authorization: Bearer <key>`` matches (True when answered)."""
        scheme, _, token = exchange.request.headers.get("authorization", "").partition(" ")
        if self._api_key is not None and scheme.lower() == "bearer" and token == self._api_key:
            return False
        await exchange.send_error(401, UNAUTHORIZED)
        return True

    def _token_event(self, exchange: Exchange) -> str | None:
        """The ``event:`` name of this tool-assisted stream's token chunks."""
        chosen = exchange.request.headers.get(EVENT_FORM_HEADER, "").strip().lower()
        if chosen in ("none", "message", "token"):
            return None if chosen == "none" else chosen
        form = _TOKEN_EVENTS[self._tool_streams % len(_TOKEN_EVENTS)]
        self._tool_streams += 1
        return form

    # ---------------------------------------------------------------- tool-assisted

    async def _tools_chat(self, exchange: Exchange) -> None:
        """``POST /serverless/tools/v1/chat/completions``: built-in tools run server-side."""
        body = await self._admitted_body(exchange, keyed=True)
        if body is None:
            return
        try:
            request = parse_chat_request(body, server_tool_types=BUILTIN_TOOLS, structured=False)
            _check_builtin_tools(body)
            resume = bool(read_bool(body, "resume_generation"))
        except RequestError as exc:
            await exchange.send_request_error(exc)
            return
        if await exchange.reject_unknown_model(request.model):
            return
        stream = request.options.stream
        item = exchange.take(stream=stream)
        if await exchange.apply_http_fault(item, stream=stream):
            return
        fault, reply = split_item(item)
        runs = plan_runs(request, resume=resume)
        completion = tools_completion(request, runs, reply, resume=resume)
        completions = [completion] * request.options.n
        response_id, created = new_id("chatcmpl-"), int(time.time())
        if not stream:
            body = encode_response(request, completions, response_id=response_id, created=created)
            await exchange.send_json(200, body)
            return
        events = [
            StreamEvent(sse(status, "tool_status"))
            for run in runs
            for status in run.status_records(created)
        ]
        token_event = self._token_event(exchange)
        records = chunk_records(request, completions, response_id=response_id, created=created)
        events.extend(StreamEvent(sse(record, token_event)) for record in records)
        events.append(StreamEvent(DONE))
        await start_sse(exchange)
        await play_stream(stream_script(events), exchange.writer, fault)

    async def _admitted_body(self, exchange: Exchange, *, keyed: bool) -> Any:
        """The JSON body once the key is accepted (where the product needs one).

        None when an error response has already been sent (bad key, unreadable body).
        """
        if keyed and await self._guard(exchange):
            return None
        return await read_body(exchange)

    # ------------------------------------------------------------------ completions

    def _completions_handler(self, *, keyed: bool, check_model: bool) -> Handler:
        """The ``/completions`` handler of one product (container: no key, no model)."""

        async def handle(exchange: Exchange) -> None:
            body = await self._admitted_body(exchange, keyed=keyed)
            if body is None:
                return
            try:
                request = parse_completions_request(body, require_model=keyed)
            except RequestError as exc:
                await exchange.send_request_error(exc)
                return
            if check_model and await exchange.reject_unknown_model(request.model):
                return
            legacy = exchange.request.headers.get(STREAM_FORMAT_HEADER, "").lower() == "legacy"
            await answer_completions(exchange, request, legacy=legacy)

        return handle

    # -------------------------------------------------------------------- tokenize

    def _tokenize_handler(self, *, keyed: bool, check_model: bool) -> Handler:
        """The ``/tokenize`` handler of one product (container: no key, ``model`` optional)."""

        async def handle(exchange: Exchange) -> None:
            body = await self._admitted_body(exchange, keyed=keyed)
            if body is None:
                return
            try:
                model = read_model(body, required=keyed)
                prompt = _read_prompt(body)
            except RequestError as exc:
                await exchange.send_request_error(exc)
                return
            if check_model and model is not None and await exchange.reject_unknown_model(model):
                return
            if await exchange.apply_http_fault(
                exchange.take(stream=False, replies=False), stream=False
            ):
                return
            await exchange.send_json(200, {"tokens": [token_id(p) for p in tokenize(prompt)]})

        return handle


def _read_prompt(body: Mapping[str, Any]) -> str:
    """``prompt`` of a tokenize request: a required string."""
    prompt = body.get("prompt")
    if not isinstance(prompt, str):
        raise RequestError("'prompt' is required and must be a string")
    return prompt


def _check_builtin_tools(body: Mapping[str, Any]) -> None:
    """Tool-assisted extras: at most 128 tools, ``file:text`` takes one file id."""
    tools = body.get("tools") or []
    if len(tools) > _MAX_TOOLS:
        raise RequestError(f"'tools' supports at most {_MAX_TOOLS} tools; got {len(tools)}")
    for index, tool in enumerate(tools):
        if tool.get("type") != "file:text":
            continue
        files = tool.get("files")
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise RequestError(f"'tools[{index}].files' is required: a list of file ids")
        if len(files) != 1:
            raise RequestError(
                f"'tools[{index}].files' supports exactly one file currently; got {len(files)}"
            )

"""FFM (Formosa Foundation Model, TWCC/TWSC AFS) endpoints of the emulator.

Speaks the native FFM wire format as documented in ``protocols/ffm.md``, quirks included,
because the emulator exists to prove clients against it: ``X-API-KEY`` auth, nested
``parameters`` validated like the FFM/TGI server (FastAPI ``{"detail": ...}`` errors), flat
responses with ``generated_tokens`` and a string ``total_time_taken``, root-level
``tool_calls``, and sse-starlette streams (CRLF, both ping forms, empty deltas before
multi-byte characters, counts only on the final record, no ``[DONE]``).

Routes (prefix ``/ffm/api``): ``POST /models/conversation`` (``ffm.conversation``),
``POST /models/generate`` (``ffm.generate``) and ``POST /models/embeddings``
(``ffm.embeddings``).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._exchange import DetailErrorBody, Exchange, Route, json_bytes
from ._faults import (
    Fault,
    StreamEvent,
    StreamScript,
    play_stream,
    split_arguments,
    split_at_first_multibyte,
)
from ._fields import RequestError, body_error, lax_float, lax_int, missing, wrong_type
from ._model import (
    Completion,
    ModelRequest,
    Reply,
    complete,
    count_tokens,
    prompt_token_count,
)

__all__ = ["FFMProvider"]

T = TypeVar("T")

PREFIX = "/ffm/api"

#: Ordinary replies end with ``stop_sequence``: every example on FFM's Conversation API
#: page shows it, stream and non-stream (protocols/ffm.md §0.3). TGI's
#: ``eos_token`` exists (§1.5) but FFM's examples never show it; script it with
#: ``Reply(finish_reason="eos_token")``.
_FINISH_REASONS = {
    "stop": "stop_sequence",
    "stop_sequence": "stop_sequence",
    "length": "length",
    "tool_calls": "tool_calls",
}
#: The model strings FFM documents or its clients use (protocols/ffm.md §6.2, §4).
MODELS = frozenset(
    {
        "llama3.3-ffm-70b-32k-chat",
        "llama3.3-ffm-70b-16k-chat",
        "llama3.1-ffm-70b-32k-chat",
        "llama3.1-ffm-8b-32k-chat",
        "llama3-ffm-70b-chat",
        "llama3-ffm-8b-chat",
        "ffm-llama3-70b-chat",
        "ffm-mixtral-8x7b-32k-instruct",
        "ffm-mistral-7b-32k-instruct",
        "taide-lx-7b-chat",
        "ffm-llama2-70b-chat",
        "ffm-llama2-7b-chat-exp",
        "meta-llama2-70b-chat",
        "meta-codellama-34b-instruct",
        "codellama-7b-instruct",
        "codellama-34b-instruct",
        "meta-llama3-70b",
        "ffm-bloomz-7b",
        "ffm-bloomz-176b-chat",
        "ffm-bloom-7b-chat",
        "ffm-embedding",
        "ffm-embedding-v2",
        "ffm-embedding-v2.1",
    }
)
_ROLES = ("system", "user", "human", "assistant", "tool", "function")
_PING_EVENT = b"event: ping\r\ndata: 2024-05-20 06:00:15.123456\r\n\r\n"
_PING_COMMENT = b": ping - 2024-05-20 06:00:15.123456+00:00\r\n"
_DEFAULT_MAX_NEW_TOKENS = 350
_EMBEDDING_DIM = 256


def _missing(loc: list[str | int], data: Any) -> RequestError:
    """A FastAPI/pydantic "Field required" error."""
    return RequestError([missing(loc, data)])


def _wrong_type(loc: list[str | int], kind: str, value: Any) -> RequestError:
    """A FastAPI/pydantic type error (``string_type``, ``list_type``...)."""
    return RequestError([wrong_type(loc, kind, value)])


def _context_size(model: str) -> int:
    """The context window FFM documents for a model family."""
    name = model.lower()
    if "-32k" in name or "-16k" in name:
        return 32768 if "-32k" in name else 16384
    if "llama2" in name or "taide" in name:
        return 4096
    if "llama3" in name or "codellama" in name:
        return 8192
    return 32768


def _number(params: Mapping[str, Any], key: str, *, integer: bool) -> float | None:
    """Read a numeric parameter; None when absent or null (null means default)."""
    errors: list[dict[str, Any]] = []
    read = lax_int if integer else lax_float
    value = read(params, key, errors, ("parameters",))
    if errors:
        raise RequestError(errors)
    return None if value is None else float(value)


def _parameters(body: Mapping[str, Any]) -> tuple[list[str], int]:
    """Validate ``parameters`` like the FFM/TGI server; unknown keys are ignored.

    Returns:
        The stop sequences and the effective ``max_new_tokens``.
    """
    params = body.get("parameters")
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise _wrong_type(["parameters"], "dict", params)
    temperature = _number(params, "temperature", integer=False)
    if temperature is not None and temperature <= 0:
        raise RequestError("`temperature` must be strictly positive")
    top_p = _number(params, "top_p", integer=False)
    if top_p is not None and not 0 < top_p <= 1:
        raise RequestError("`top_p` must be > 0.0 and <= 1.0")
    top_k = _number(params, "top_k", integer=True)
    if top_k is not None and not 1 <= top_k <= 100:
        raise RequestError("`top_k` must be between 1 and 100")
    penalty = _number(params, "frequence_penalty", integer=False)
    if penalty is not None and penalty <= 0:
        raise RequestError("`frequence_penalty` must be strictly positive")
    seed = _number(params, "seed", integer=True)
    if seed is not None and seed < 0:
        raise RequestError("`seed` must be >= 0")
    max_new = _number(params, "max_new_tokens", integer=True)
    if max_new is not None and max_new <= 0:
        raise RequestError("`max_new_tokens` must be strictly positive")
    stops = params.get("stop_sequences")
    if stops is None:
        stops = []
    if not isinstance(stops, list):
        raise _wrong_type(["parameters", "stop_sequences"], "list", stops)
    for index, stop in enumerate(stops):
        if not isinstance(stop, str):
            raise _wrong_type(["parameters", "stop_sequences", index], "string", stop)
    if len(stops) > 4:
        raise RequestError(f"`stop_sequences` must have at most 4 entries; given: {len(stops)}")
    return stops, int(max_new) if max_new is not None else _DEFAULT_MAX_NEW_TOKENS


def _require_model(body: Any) -> str:
    """The body must be an object with a string ``model``."""
    if not isinstance(body, Mapping):
        raise _wrong_type([], "dict", body)
    if "model" not in body:
        raise _missing(["model"], body)
    model = body["model"]
    if not isinstance(model, str):
        raise _wrong_type(["model"], "string", model)
    return model


def _messages(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Validate ``messages`` and convert them to OpenAI style (``human`` -> ``user``)."""
    if "messages" not in body:
        raise _missing(["messages"], body)
    raw = body["messages"]
    if not isinstance(raw, list):
        raise _wrong_type(["messages"], "list", raw)
    if not raw:
        raise RequestError(
            [
                {
                    "type": "too_short",
                    "loc": ["body", "messages"],
                    "msg": "List should have at least 1 item after validation, not 0",
                    "input": raw,
                }
            ]
        )
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(raw):
        if not isinstance(message, Mapping):
            raise _wrong_type(["messages", index], "dict", message)
        if "role" not in message:
            raise _missing(["messages", index, "role"], message)
        role = message["role"]
        if role not in _ROLES:
            raise RequestError(
                [
                    {
                        "type": "enum",
                        "loc": ["body", "messages", index, "role"],
                        "msg": "Input should be " + ", ".join(f"'{r}'" for r in _ROLES),
                        "input": role,
                    }
                ]
            )
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise _wrong_type(["messages", index, "content"], "string", content)
        if role == "tool" and not isinstance(message.get("tool_call_id"), str):
            raise _missing(["messages", index, "tool_call_id"], message)
        calls = message.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            raise _wrong_type(["messages", index, "tool_calls"], "list", calls)
        converted = dict(message)
        converted["role"] = "user" if role == "human" else role
        messages.append(converted)
    return messages


def _tools(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    """Validate ``tools`` (OpenAI style) and ``tool_choice``."""
    tools = body.get("tools")
    if tools is None:
        tools = []
    if not isinstance(tools, list):
        raise _wrong_type(["tools"], "list", tools)
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise _wrong_type(["tools", index], "dict", tool)
        function = tool.get("function")
        if not isinstance(function, Mapping):
            raise _missing(["tools", index, "function"], tool)
        if not isinstance(function.get("name"), str):
            raise _missing(["tools", index, "function", "name"], function)
    choice = body.get("tool_choice")
    if choice is not None and not isinstance(choice, str | Mapping):
        raise _wrong_type(["tool_choice"], "string", choice)
    return list(tools), choice


def _check_context(model: str, prompt_tokens: int, max_new_tokens: int) -> None:
    """Reject prompts that do not fit the model context (TGI's message)."""
    limit = _context_size(model)
    if prompt_tokens + max_new_tokens > limit:
        raise RequestError(
            f"Input validation error: `inputs` tokens + `max_new_tokens` must be <= "
            f"{limit}. Given: {prompt_tokens} `inputs` tokens and {max_new_tokens} "
            f"`max_new_tokens`"
        )


# ------------------------------------------------------------------------- encoding


def _finish_reason(completion: Completion) -> str:
    """FFM's (TGI's) spelling of the finish reason."""
    if completion.finish_reason_override is not None:
        return completion.finish_reason_override
    return _FINISH_REASONS[completion.finish_reason]


def _time_taken(completion: Completion) -> str:
    """A deterministic ``total_time_taken`` string such as ``"0.12 sec"``."""
    return f"{0.05 + 0.01 * completion.completion_tokens:.2f} sec"


def _tool_call_json(completion: Completion) -> list[dict[str, Any]]:
    """Root-level ``tool_calls`` items of a non-streaming response."""
    items: list[dict[str, Any]] = []
    for call in completion.tool_calls:
        item: dict[str, Any] = {}
        if call.id is not None:
            item["id"] = call.id
        item["type"] = "function"
        item["function"] = {"name": call.name, "arguments": call.arguments}
        items.append(item)
    return items


def _summary_fields(completion: Completion) -> dict[str, Any]:
    """What the response and a stream's final record say after ``generated_text``."""
    return {
        "details": None,
        "total_time_taken": _time_taken(completion),
        "prompt_tokens": completion.prompt_tokens,
        "generated_tokens": completion.completion_tokens,
        "total_tokens": completion.total_tokens,
        "finish_reason": _finish_reason(completion),
    }


def encode_response(completion: Completion) -> dict[str, Any]:
    """The flat non-streaming FFM response for a completion.

    Args:
        completion: What the model produced.

    Returns:
        The JSON object.
    """
    body: dict[str, Any] = {
        "generated_text": completion.text,
        **_summary_fields(completion),
        "function_call": None,
    }
    if completion.tool_calls:
        body["tool_calls"] = _tool_call_json(completion)
    return body


def _delta(text: str) -> dict[str, Any]:
    """An intermediate stream record: only the delta, details and a null reason."""
    return {"generated_text": text, "details": None, "finish_reason": None}


def _tool_fragment(fragment: dict[str, Any]) -> dict[str, Any]:
    """An intermediate stream record carrying one root-level tool call fragment."""
    return {"tool_calls": [fragment], **_delta("")}


def stream_records(completion: Completion) -> list[dict[str, Any]]:
    """The data records of an FFM stream for a completion.

    The first record has an empty delta; each token containing non-ASCII characters
    is preceded by one empty record per such character (the partial-UTF-8 quirk);
    tool calls arrive as root-level fragments; the final record has an empty delta,
    the finish reason, the token counts and ``total_time_taken``.

    Args:
        completion: What the model produced.

    Returns:
        The records, in order.
    """
    records: list[dict[str, Any]] = []
    if completion.tokens or not completion.tool_calls:
        records.append(_delta(""))
    for token in completion.tokens:
        records.extend(_delta("") for char in token if ord(char) > 0x7F)
        records.append(_delta(token))
    for index, call in enumerate(completion.tool_calls):
        head: dict[str, Any] = {"index": index}
        if call.id is not None:
            head["id"] = call.id
        head["type"] = "function"
        head["function"] = {"name": call.name, "arguments": ""}
        records.append(_tool_fragment(head))
        records.extend(
            _tool_fragment({"index": index, "function": {"arguments": piece}})
            for piece in split_arguments(call.arguments)
        )
    records.append({"generated_text": "", **_summary_fields(completion)})
    return records


def _frame(record: Any) -> bytes:
    """Frame a record as sse-starlette does: ``data: {json}`` and CRLF CRLF."""
    return b"data: " + json_bytes(record) + b"\r\n\r\n"


def _error_event(message: str, status_code: int, *, as_event: bool) -> bytes:
    """An in-stream error record (optionally as ``event: error``)."""
    data = _frame({"error": message, "status_code": status_code})
    return b"event: error\r\n" + data if as_event else data


def stream_script(completion: Completion) -> StreamScript:
    """Frame a completion as the FFM SSE stream, with both ping forms placed early.

    Args:
        completion: What the model produced.

    Returns:
        The stream script for :func:`play_stream`.
    """
    events = [StreamEvent(_frame(r)) for r in stream_records(completion)]
    count = len(events)
    # ``event: ping`` before record 3 and ``: ping`` before record 4 (or before
    # the final record of a short stream); insert the later one first.
    events.insert(min(3, count - 1), StreamEvent(_PING_COMMENT, is_record=False))
    events.insert(min(2, count - 1), StreamEvent(_PING_EVENT, is_record=False))
    return StreamScript(
        events=events,
        pings=(_PING_EVENT, _PING_COMMENT),
        malformed=b"data: {not json\r\n\r\n",
        error_record=_error_event,
        split=split_at_first_multibyte,
    )


# --------------------------------------------------------------------------- routes


class FFMProvider(DetailErrorBody):
    """The FFM provider: routes, FastAPI-style errors and ``X-API-KEY`` auth."""

    prefix = PREFIX
    name = "ffm"
    models = MODELS
    compact_json = False

    def routes(self) -> list[Route]:
        """The FFM endpoints served under ``/ffm/api``.

        Returns:
            The routes.
        """
        return [
            Route("POST", f"{PREFIX}/models/conversation", "ffm.conversation", _conversation),
            Route("POST", f"{PREFIX}/models/generate", "ffm.generate", _generate),
            Route("POST", f"{PREFIX}/models/embeddings", "ffm.embeddings", _embeddings),
        ]

    def unknown_model(self, route: str, model: str) -> tuple[int, Any]:
        """FastAPI's 404 for a model the service does not serve (protocols/ffm.md §1.7).

        Args:
            route: The route name (unused: every FFM route answers alike).
            model: The unknown model id (not echoed: FFM's body is the bare 404).

        Returns:
            ``(404, {"detail": "Not Found"})``.
        """
        del route, model
        return 404, {"detail": "Not Found"}

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """FFM authenticates with the ``X-API-KEY`` header.

        Args:
            headers: Request headers (lower-case names).
            api_key: The key the emulator accepts.

        Returns:
            Whether the header matches.
        """
        return headers.get("x-api-key") == api_key


async def _answer(exchange: Exchange, request: ModelRequest, *, stream: bool) -> None:
    """Dequeue, apply faults, run the model and send a JSON or streamed answer."""
    item = exchange.take(stream=stream)
    if await exchange.apply_http_fault(item, stream=stream):
        return
    fault = item if isinstance(item, Fault) else None
    reply: Reply | None = item if isinstance(item, Reply) else None
    if fault is not None:
        reply = fault.reply
    completion = complete(request, reply, provider="FFM")
    if not stream:
        await exchange.send_json(200, encode_response(completion))
        return
    await exchange.writer.start_stream(
        200,
        "text/event-stream; charset=utf-8",
        {"cache-control": "no-store", "connection": "keep-alive", "x-accel-buffering": "no"},
    )
    await play_stream(stream_script(completion), exchange.writer, fault)


async def _validated(exchange: Exchange) -> Mapping[str, Any] | None:
    """The JSON body, or None after answering 422 for a body that is not a JSON object."""
    body = exchange.json
    if body is None:
        await exchange.send_request_error(RequestError([body_error(exchange.request.body)]))
        return None
    if not isinstance(body, Mapping):
        await exchange.send_request_error(_wrong_type([], "dict", body))
        return None
    return body


async def _accepted(
    exchange: Exchange, parse: Callable[[Mapping[str, Any]], tuple[str, T]]
) -> tuple[Mapping[str, Any], T] | None:
    """The body and what ``parse`` makes of it, or None once a 422 or 404 is sent.

    The checks run in FastAPI's order: a body that is not a JSON object, then the
    fields (``parse`` raises :class:`RequestError`), then an unknown model id (the
    first item ``parse`` returns).
    """
    body = await _validated(exchange)
    if body is None:
        return None
    try:
        model, parsed = parse(body)
    except RequestError as exc:
        await exchange.send_request_error(exc)
        return None
    if await exchange.reject_unknown_model(model):
        return None
    return body, parsed


def _required_inputs(body: Mapping[str, Any]) -> Any:
    """The ``inputs`` field, which generate and embeddings require."""
    if "inputs" not in body:
        raise _missing(["inputs"], body)
    return body["inputs"]


def _conversation_request(body: Mapping[str, Any]) -> tuple[str, ModelRequest]:
    """The model id and the chat request of a conversation body."""
    model = _require_model(body)
    messages = _messages(body)
    stops, max_new = _parameters(body)
    tools, choice = _tools(body)
    request = ModelRequest(
        messages=messages,
        tools=tools,
        tool_choice=choice,
        stop=stops,
        max_tokens=max_new,
    )
    _check_context(model, prompt_token_count(messages), max_new)
    return model, request


def _generate_request(body: Mapping[str, Any]) -> tuple[str, ModelRequest]:
    """The model id and the request of a generate body (``inputs`` is one string)."""
    model = _require_model(body)
    inputs = _required_inputs(body)
    if not isinstance(inputs, str):
        raise _wrong_type(["inputs"], "string", inputs)
    stops, max_new = _parameters(body)
    request = ModelRequest(
        messages=[{"role": "user", "content": inputs}],
        stop=stops,
        max_tokens=max_new,
    )
    _check_context(model, count_tokens(inputs), max_new)
    return model, request


async def _conversation(exchange: Exchange) -> None:
    """``POST /models/conversation``: chat, tools, streaming."""
    accepted = await _accepted(exchange, _conversation_request)
    if accepted is not None:
        body, request = accepted
        await _answer(exchange, request, stream=body.get("stream") is True)


async def _generate(exchange: Exchange) -> None:
    """``POST /models/generate``: raw prompt completion (``inputs`` is one string)."""
    accepted = await _accepted(exchange, _generate_request)
    if accepted is not None:
        body, request = accepted
        await _answer(exchange, request, stream=body.get("stream") is True)


#: Documented limits (tokens per text, tokens per request) of the embedding models.
EMBEDDING_LIMITS = {
    "ffm-embedding": (2048, 2048),
    "ffm-embedding-v2": (131072, 131072),
    "ffm-embedding-v2.1": (131072, 131072),
}


def _check_embedding_limits(model: str, inputs: list[str]) -> None:
    """Refuse a text or a request over the model's documented token limits.

    The wording follows Hugging Face text-embeddings-inference, the usual server
    behind such endpoints.
    """
    per_text, per_request = EMBEDDING_LIMITS.get(model, EMBEDDING_LIMITS["ffm-embedding"])
    total = 0
    for text in inputs:
        count = count_tokens(text)
        total += count
        if count > per_text:
            raise RequestError(
                f"Input validation error: `inputs` must have less than {per_text} tokens. "
                f"Given: {count}"
            )
    if total > per_request:
        raise RequestError(
            f"Input validation error: the batch must have less than {per_request} tokens "
            f"in total. Given: {total}"
        )


def embedding(text: str) -> list[float]:
    """A deterministic unit vector for a text (same text, same vector).

    Args:
        text: The input text.

    Returns:
        A normalised vector of dimension 256.
    """
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)  # noqa: S311 - deterministic fake vectors, not crypto
    vector = [rng.gauss(0.0, 1.0) for _ in range(_EMBEDDING_DIM)]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / norm, 6) for v in vector]


def _embedding_inputs(body: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The model id and the texts of an embeddings body."""
    model = _require_model(body)
    inputs = _required_inputs(body)
    if not isinstance(inputs, list):
        raise _wrong_type(["inputs"], "list", inputs)
    for index, text in enumerate(inputs):
        if not isinstance(text, str):
            raise _wrong_type(["inputs", index], "string", text)
    _check_embedding_limits(model, inputs)
    return model, inputs


async def _embeddings(exchange: Exchange) -> None:
    """``POST /models/embeddings``: ``{"model", "inputs": [...]}`` -> ``data[i]``."""
    accepted = await _accepted(exchange, _embedding_inputs)
    if accepted is None:
        return
    _, inputs = accepted
    item = exchange.take(stream=False, replies=False)
    if await exchange.apply_http_fault(item, stream=False):
        return
    tokens = sum(count_tokens(text) for text in inputs)
    data = [
        {"embedding": embedding(text), "index": index, "object": "embedding"}
        for index, text in enumerate(inputs)
    ]
    # The documented contract is the ``index`` field, not the list order: shuffle
    # (deterministically) so clients that rely on order are caught.
    random.Random(len(inputs)).shuffle(data)  # noqa: S311 - not crypto
    await exchange.send_json(
        200,
        {
            "data": data,
            "total_time_taken": f"{0.02 + 0.001 * tokens:.2f} sec",
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        },
    )

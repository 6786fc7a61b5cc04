"""OpenAI-compatible chat completions: the route handler and the answer.

Several providers expose an OpenAI-compatible ``/chat/completions`` (Friendli's serverless,
dedicated and container endpoints and its tool-assisted chat; MonsterAPI's
``/v1/chat/completions``), so the provider-neutral part lives in this package once and
provider packages add their routes, auth and quirks around it: :func:`chat_handler`
builds a complete route handler, :func:`send_chat` sends an answer the provider computed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from .._exchange import Exchange, Handler
from .._faults import Fault, StreamEvent
from .._fields import openai_body
from .._model import Completion
from .models import generate
from .requests import ChatRequest, parse_chat_request
from .responses import chat_events, encode_response, new_id, sse_stream

__all__ = ["Guard", "chat_handler", "send_chat"]

#: Answers the request itself (e.g. a 401) and returns True, or returns False to go on.
Guard = Callable[[Exchange], Awaitable[bool]]


async def send_chat(
    exchange: Exchange,
    request: ChatRequest,
    completions: Sequence[Completion],
    fault: Fault | None,
    *,
    created: int | None = None,
    preamble: Sequence[StreamEvent] = (),
    token_event: str | None = None,
) -> None:
    """Send the ``chat.completion`` body, or the chunk stream when the request streams.

    Args:
        exchange: The request.
        request: The validated request.
        completions: One completion per generation.
        fault: The stream fault to apply, or None.
        created: The Unix seconds the answer reports (now when None).
        preamble: Events streamed before the chunks (Friendli's ``tool_status``).
        token_event: The ``event:`` name of the chunks, None for none.
    """
    response_id = new_id("chatcmpl-")
    created = int(time.time()) if created is None else created
    if not request.stream:
        body = encode_response(request, completions, response_id=response_id, created=created)
        await exchange.send_json(200, body)
        return
    chunks = chat_events(
        request, completions, response_id=response_id, created=created, event=token_event
    )
    await exchange.send_stream(sse_stream([*preamble, *chunks]), fault)


def chat_handler(
    *,
    provider: str,
    require_model: bool = True,
    guard: Guard | None = None,
    check_model: bool = True,
) -> Handler:
    """Build the handler of an OpenAI-compatible ``/chat/completions`` route.

    Args:
        provider: Provider display name (``"Hello! This is the <provider> emulator..."``).
        require_model: Whether ``model`` is required.
        check_model: Whether an unknown model id gets the provider's error (False where
            ``model`` names a user's own endpoint or adapter).
        guard: Runs first; when it returns True it has answered (e.g. 401) and the
            handler stops.

    Returns:
        The route handler.
    """
    parse = partial(parse_chat_request, require_model=require_model)

    async def handle(exchange: Exchange) -> None:
        if guard is not None and await guard(exchange):
            return
        admitted = await exchange.admit(openai_body, parse, check_model=check_model)
        if admitted is None:
            return
        request, scripted = admitted
        completions = [generate(request, scripted.reply, provider=provider)] * request.options.n
        await send_chat(exchange, request, completions, scripted.fault)

    return handle

"""Friendli's routes: the provider (URL table, errors, per-route bearer auth), its handlers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from .._exchange import Exchange, Provider, Route
from .._fields import openai_body
from .._openai_compatible.responses import new_id, sse_stream
from .._openai_compatible.routes import chat_handler, send_chat
from .builtin_tools import plan_runs
from .models import (
    MODELS,
    PROVIDER,
    generate_choices,
    generation_microseconds,
    tools_completion,
)
from .requests import parse_completions_request, parse_tokenize_request, parse_tools_chat_request
from .responses import completion_events, encode_completions, encode_tokens, tool_status_events

__all__ = ["PREFIX", "FriendliProvider"]

PREFIX = "/friendli"
UNAUTHORIZED = "Unauthorized. Please provide a valid credential."
STREAM_FORMAT_HEADER = "x-emulator-stream-format"
EVENT_FORM_HEADER = "x-emulator-token-event"
_TOKEN_EVENTS: tuple[str | None, ...] = (None, "message", "token")


@dataclass(frozen=True)
class _Product:
    """One Friendli product's API: serverless, dedicated or container."""

    name: str

    @property
    def keyed(self) -> bool:
        """Whether it needs ``Authorization: Bearer <key>`` and a ``model``."""
        return self.name != "container"

    @property
    def checks_model(self) -> bool:
        """Whether it refuses model ids it does not serve (the others serve the user's own)."""
        return self.name == "serverless"


_SERVERLESS = _Product("serverless")
_PRODUCTS = (_SERVERLESS, _Product("dedicated"), _Product("container"))


class FriendliProvider(Provider, name="friendli", prefix=PREFIX, models=MODELS):
    """The Friendli provider: routes, ``{"detail": ...}`` errors and per-route bearer auth."""

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
            base = f"{PREFIX}/{product.name}/v1"
            chat = chat_handler(
                provider=PROVIDER,
                require_model=product.keyed,
                guard=partial(self._refused, product=product),
                check_model=product.checks_model,
            )
            completions = partial(self._completions, product=product)
            tokenize_text = partial(self._tokenize, product=product)
            routes += [
                Route("POST", f"{base}/chat/completions", "friendli.chat", chat),
                Route("POST", f"{base}/completions", "friendli.completions", completions),
                Route("POST", f"{base}/tokenize", "friendli.tokenize", tokenize_text),
            ]
        tools_chat = f"{PREFIX}/serverless/tools/v1/chat/completions"
        routes.append(Route("POST", tools_chat, "friendli.tools_chat", self._tools_chat))
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

    async def _refused(self, exchange: Exchange, *, product: _Product) -> bool:
        """Answer 401 unless the request carries the key the product needs.

        Serverless and dedicated need ``Authorization: Bearer <key>``; container
        needs nothing.

        Returns:
            True when the 401 has been sent.
        """
        if not product.keyed:
            return False
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

    async def _tools_chat(self, exchange: Exchange) -> None:
        """``POST /serverless/tools/v1/chat/completions``: built-in tools run server-side."""
        if await self._refused(exchange, product=_SERVERLESS):
            return
        admitted = await exchange.admit(openai_body, parse_tools_chat_request)
        if admitted is None:
            return
        request, scripted = admitted
        chat = request.chat
        runs = plan_runs(chat, resume=request.resume)
        completion = tools_completion(chat, runs, scripted.reply, resume=request.resume)
        created = int(time.time())
        await send_chat(
            exchange,
            chat,
            [completion] * chat.options.n,
            scripted.fault,
            created=created,
            preamble=tool_status_events(runs, created),
            token_event=self._token_event(exchange) if chat.stream else None,
        )

    async def _completions(self, exchange: Exchange, *, product: _Product) -> None:
        """``POST /v1/completions`` of one product (container: no key, no model)."""
        if await self._refused(exchange, product=product):
            return
        parse = partial(parse_completions_request, require_model=product.keyed)
        admitted = await exchange.admit(openai_body, parse, check_model=product.checks_model)
        if admitted is None:
            return
        request, scripted = admitted
        choices = generate_choices(request, scripted.reply)
        timeout = request.timeout_microseconds
        if timeout is not None and timeout < generation_microseconds(choices):
            await exchange.send_error(429, f"Request timed out after {timeout} microseconds")
            return
        response_id = new_id("cmpl-")
        if not request.stream:
            await exchange.send_json(200, encode_completions(request, choices, response_id))
            return
        legacy = exchange.request.headers.get(STREAM_FORMAT_HEADER, "").lower() == "legacy"
        events = completion_events(request, choices, response_id, int(time.time()), legacy=legacy)
        await exchange.send_stream(sse_stream(events), scripted.fault)

    async def _tokenize(self, exchange: Exchange, *, product: _Product) -> None:
        """``POST /v1/tokenize`` of one product: the pseudo tokenizer's ids.

        Queued faults apply (a queued ``Reply`` does not: it is for a generating route).
        """
        if await self._refused(exchange, product=product):
            return
        parse = partial(parse_tokenize_request, require_model=product.keyed)
        request = await exchange.accept(openai_body, parse, check_model=product.checks_model)
        if request is None or await exchange.dequeue(stream=False, replies=False) is None:
            return
        await exchange.send_json(200, encode_tokens(request.prompt))

"""FFM's routes: the provider (URL table, errors, ``X-API-KEY`` auth) and its handlers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from .._exchange import Exchange, Provider, Route
from .._fields import fastapi_body
from .._model import complete
from .models import MODELS, PROVIDER
from .requests import GenerationRequest, parse_conversation, parse_embeddings, parse_generate
from .responses import encode_embeddings, encode_response, stream_script

__all__ = ["PREFIX", "FFMProvider"]

PREFIX = "/ffm/api"


async def _generation(
    exchange: Exchange, *, parse: Callable[[Mapping[str, Any]], GenerationRequest]
) -> None:
    """``POST /models/conversation`` (chat, tools) or ``/models/generate`` (a raw prompt)."""
    admitted = await exchange.admit(fastapi_body, parse)
    if admitted is None:
        return
    request, scripted = admitted
    completion = complete(request.generation, scripted.reply, provider=PROVIDER)
    if not request.stream:
        await exchange.send_json(200, encode_response(completion))
        return
    await exchange.send_stream(stream_script(completion), scripted.fault)


async def _embeddings(exchange: Exchange) -> None:
    """``POST /models/embeddings``: ``{"model", "inputs": [...]}`` -> ``data[i]``."""
    request = await exchange.accept(fastapi_body, parse_embeddings)
    if request is None or await exchange.dequeue(stream=False, replies=False) is None:
        return
    await exchange.send_json(200, encode_embeddings(request.inputs))


class FFMProvider(
    Provider, name="ffm", prefix=PREFIX, models=MODELS, key_header="x-api-key", key_format="{key}"
):
    """The FFM provider: routes, FastAPI-style errors and ``X-API-KEY`` auth."""

    def routes(self) -> list[Route]:
        """The FFM endpoints served under ``/ffm/api``.

        Returns:
            The routes.
        """
        conversation = partial(_generation, parse=parse_conversation)
        generate = partial(_generation, parse=parse_generate)
        return [
            Route("POST", f"{PREFIX}/models/conversation", "ffm.conversation", conversation),
            Route("POST", f"{PREFIX}/models/generate", "ffm.generate", generate),
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

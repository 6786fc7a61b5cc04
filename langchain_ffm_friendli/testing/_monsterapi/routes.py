"""MonsterAPI's routes: the provider (URL table, errors, Bearer auth) and its handlers."""

from __future__ import annotations

from typing import Any

from .._exchange import Exchange, Provider, Route
from .._fields import fastapi_body, pydantic_entry
from .._openai_compatible.routes import chat_handler
from .models import MODELS, PROVIDER, generate
from .requests import parse_generate_request
from .responses import encode_response, error_object, stream_script

__all__ = ["PREFIX", "MonsterAPIProvider"]

PREFIX = "/monsterapi"
_GENERATE = "monsterapi.generate"


async def _generate(exchange: Exchange) -> None:
    """``POST /v1/generate``: validate, dequeue, apply faults, answer or stream."""
    admitted = await exchange.admit(fastapi_body, parse_generate_request)
    if admitted is None:
        return
    request, scripted = admitted
    generation = generate(request, scripted.reply)
    if not request.stream:
        await exchange.send_json(200, encode_response(request, generation))
        return
    mixed = scripted.fault is not None and scripted.fault.kind == "mixed_records"
    await exchange.send_stream(stream_script(generation, mixed=mixed), scripted.fault)


class MonsterAPIProvider(
    Provider, name="monsterapi", prefix=PREFIX, models=MODELS, compact_json=True
):
    """The MonsterAPI provider: ``/v1/generate``, FastAPI-style errors, Bearer auth."""

    def routes(self) -> list[Route]:
        """The endpoints served under ``/monsterapi``.

        Returns:
            The routes.
        """
        return [
            Route("POST", f"{PREFIX}/v1/generate", _GENERATE, _generate),
            # vLLM's OpenAI router: tools, response_format, SSE with [DONE] and usage.
            Route(
                "POST",
                f"{PREFIX}/v1/chat/completions",
                "monsterapi.chat",
                chat_handler(provider=PROVIDER),
            ),
        ]

    def error_body(self, status: int, message: str) -> Any:
        """The error body for a status.

        Args:
            status: The HTTP status.
            message: The error text.

        Returns:
            FastAPI's ``{"detail": message}`` below 500; the error object Portkey's
            MonsterAPI client parses, ``{"error": {"message", "type", "code"}}``,
            for 5xx.
        """
        if status >= 500:
            return error_object(message, status)
        return super().error_body(status, message)

    def unknown_model(self, route: str, model: str) -> tuple[int, Any]:
        """The answer for a model id outside the documented list.

        ``/v1/generate``: the reference page lists ``model`` as a closed set (a FastAPI
        schema enum, the SDK's ``Literal``), so pydantic rejects other ids with 422.
        ``/v1/chat/completions`` is vLLM's OpenAI router, whose model check answers 404.

        Args:
            route: ``monsterapi.generate`` or ``monsterapi.chat``.
            model: The unknown model id.

        Returns:
            The status and the body.
        """
        if route == _GENERATE:
            allowed = sorted(MODELS)
            expected = ", ".join(f"'{m}'" for m in allowed[:-1]) + f" or '{allowed[-1]}'"
            entry = pydantic_entry("enum", ["model"], f"Input should be {expected}", model)
            return 422, {"detail": [{**entry, "ctx": {"expected": expected}}]}
        return 404, {
            "object": "error",
            "message": f"The model `{model}` does not exist.",
            "type": "NotFoundError",
            "param": None,
            "code": 404,
        }

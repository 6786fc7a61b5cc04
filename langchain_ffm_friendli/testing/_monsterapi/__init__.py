r"""MonsterAPI endpoints of the emulator, under ``/monsterapi``.

Speaks the ``POST https://llm.monsterapi.ai/v1/generate`` wire format documented in
``protocols/monsterapi.md``, quirks included, because the emulator exists to prove
clients against it:

* ``Authorization: Bearer <key>``; FastAPI-style errors (``{"detail": ...}`` for 4xx,
  422 ``{"detail": [{"type", "loc", "msg", "input"}]}`` for validation) and, for 5xx, the
  ``{"error": {"message", "type", "code"}}`` object Portkey's MonsterAPI client expects.
* A body with ``model`` (one of the documented ids, else 422 as pydantic rejects a value
  outside the schema's enum; ``Emulator(models=...)`` adds ids), exactly one of
  ``prompt`` (already templated) or ``messages`` (the server applies the model's chat
  template) and vLLM
  ``SamplingParams`` knobs, checked with vLLM's own rules and messages. Unknown fields
  are ignored: the server parses the body into a pydantic model (FastAPI; pydantic's
  default ``extra="ignore"``) and builds ``SamplingParams`` from its fields, it does not
  pass the raw body to ``SamplingParams(**request)`` as vLLM's demo server does (that
  server knows neither ``model`` nor ``messages``).
* Non-streaming answers ``{"model", "response": {"text": [...n...], "token_counts":
  {"input", "output"}, "credits_consumed"}}``. With ``prompt`` every text **echoes the
  prompt** (vLLM demo server: ``prompt + output.text``); with ``messages`` it does not.
* ``"stream": true`` answers ``application/octet-stream`` (chunked): JSON records, each
  followed by ``\0``, each holding the **cumulative** text of all ``n`` sequences, no
  ``[DONE]``, EOF ends it. Every record is exactly what vLLM's ``/generate`` writes:
  ``json.dumps({"text": text_outputs}) + "\0"`` (ASCII escapes, ``", "``). The fault
  ``mixed_records`` rotates the record through the other shapes clients tolerate
  (``{"response": {"text": [...]}}`` and a bare list, raw UTF-8, compact). Every record
  is written in two socket writes, cut inside a multi-byte character when it has one,
  else just before its ``\0`` or in the middle. Beam search streams include a record
  where another beam leads (text that the next record rewrites).

Stream faults on NUL-delimited records: ``malformed`` inserts ``{not json\0``;
``error_record`` sends ``{"error": {"message", "type", "code"}}\0`` then ends cleanly
(``as_event`` has no meaning here and is ignored); ``truncated`` sends ``after`` records
and then only the first half of the next one (no ``\0``) before a clean end, the
detectable truncation of this framing; ``ping_storm`` sends ``count`` empty records (a
lone ``\0``, which clients must skip) before every record, since MonsterAPI documents
no keep-alive; ``disconnect`` and ``stall`` behave as for every provider.

Route (prefix ``/monsterapi``): ``POST /v1/generate`` (``monsterapi.generate``).
"""

from __future__ import annotations

from typing import Any

from .._exchange import Exchange, Route
from .._faults import Fault, play_stream
from .._fields import RequestError, body_error, pydantic_entry
from .._model import Reply
from .._openai_chat import chat_handler
from ._generation import encode_response, fastapi_json, generate, stream_script, truncated_script
from ._request import check_messages, parse_request

__all__ = ["PREFIX", "MonsterAPIProvider"]

PREFIX = "/monsterapi"
ROUTE = "monsterapi.generate"
#: The ``model`` values of the Generate reference page (protocols/monsterapi.md §1.1).
MODELS = frozenset(
    {
        "google/gemma-2-9b-it",
        "mistralai/Mistral-7B-Instruct-v0.2",
        "microsoft/Phi-3-mini-4k-instruct",
        "meta-llama/Meta-Llama-3.1-8B-Instruct",
    }
)

_STREAM_CONTENT_TYPE = "application/octet-stream"


# --------------------------------------------------------------------------- routes


class MonsterAPIProvider:
    """The MonsterAPI provider: ``/v1/generate``, FastAPI-style errors, Bearer auth."""

    prefix = PREFIX
    name = "monsterapi"
    models = MODELS
    compact_json = True

    def routes(self) -> list[Route]:
        """The endpoints served under ``/monsterapi``.

        Returns:
            The routes.
        """
        return [
            Route("POST", f"{PREFIX}/v1/generate", ROUTE, self._generate),
            # vLLM's OpenAI router: tools, response_format, SSE with [DONE] and usage.
            Route(
                "POST",
                f"{PREFIX}/v1/chat/completions",
                "monsterapi.chat",
                chat_handler(provider="MonsterAPI"),
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
            return {"error": {"message": message, "type": "server_error", "code": status}}
        return {"detail": message}

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
        if route == ROUTE:
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

    def authenticate(self, headers: dict[str, str], api_key: str) -> bool:
        """Bearer-token auth.

        Args:
            headers: Request headers (lower-case names).
            api_key: The key the emulator accepts.

        Returns:
            Whether the Authorization header matches.
        """
        return headers.get("authorization") == f"Bearer {api_key}"

    async def _generate(self, exchange: Exchange) -> None:
        """``POST /v1/generate``: validate, dequeue, apply faults, answer or stream."""
        body = exchange.json
        if body is None:
            await exchange.send_request_error(RequestError([body_error(exchange.request.body)]))
            return
        try:
            params = parse_request(body)
            if params.messages is not None:
                check_messages(params.model, params.messages)
        except RequestError as exc:
            await exchange.send_request_error(exc)
            return
        if await exchange.reject_unknown_model(params.model):
            return
        item = exchange.take(stream=params.stream)
        if await exchange.apply_http_fault(item, stream=params.stream):
            return
        fault = item if isinstance(item, Fault) else None
        reply = fault.reply if fault is not None else item if isinstance(item, Reply) else None
        generation = generate(params, reply)
        if not params.stream:
            payload = fastapi_json(encode_response(params, generation))
            await exchange.writer.send(200, payload, "application/json")
            return
        script = stream_script(
            generation, mixed=fault is not None and fault.kind == "mixed_records"
        )
        await exchange.writer.start_stream(200, _STREAM_CONTENT_TYPE)
        if fault is not None and fault.kind == "truncated":
            await play_stream(truncated_script(script, fault.after), exchange.writer, None)
            return
        await play_stream(script, exchange.writer, fault)

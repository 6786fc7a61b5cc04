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

Routes (prefix ``/monsterapi``): ``POST /v1/generate`` (``monsterapi.generate``) and
``POST /v1/chat/completions`` (``monsterapi.chat``, vLLM's OpenAI router: see
:mod:`.._openai_compatible`).

Modules, as in every provider package: ``routes`` (the provider, its URL table and
handlers), ``requests`` (body validation), ``models`` (the model ids, the scripted
generation, the chat templates) and ``responses`` (the JSON body and the stream).
"""

from .routes import MonsterAPIProvider

__all__ = ["MonsterAPIProvider"]

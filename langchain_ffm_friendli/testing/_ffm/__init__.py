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

Modules, as in every provider package: ``routes`` (the provider, its URL table and
handlers), ``requests`` (body validation), ``models`` (the model ids and their limits,
the embedding vectors) and ``responses`` (JSON bodies and the SSE stream).
"""

from .routes import FFMProvider

__all__ = ["FFMProvider"]

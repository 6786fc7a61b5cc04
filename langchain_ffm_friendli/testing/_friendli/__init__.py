"""Friendli (FriendliAI) endpoints of the emulator, under ``/friendli``.

Speaks the wire format documented in ``protocols/friendli.md``; the emulator exists to
prove clients against it, so it is never bent to suit one.

Routes (route names in parentheses):

* ``POST /friendli/{serverless,dedicated,container}/v1/chat/completions``
  (``friendli.chat``): OpenAI-compatible chat, see :mod:`.._openai_compatible`.
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

Modules, as in every provider package: ``routes`` (the provider, its URL table and
handlers), ``requests`` (body validation), ``models`` (the model ids, text completions,
the tool-assisted answer) and ``responses`` (completions bodies and streams,
``tool_status`` events); Friendli's own: ``builtin_tools`` (which built-in tools run)
and ``simulators`` (what each computes).
"""

from .routes import FriendliProvider

__all__ = ["FriendliProvider"]

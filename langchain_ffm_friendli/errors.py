"""Typed exceptions raised by every class in this package.

Each one subclasses both :class:`ProviderError` (which carries the provider's own
words, the HTTP status and the request id) and the matching
``langchain_core.exceptions.Model*Error``, so code that catches LangChain's
provider-neutral types keeps working when it swaps ``ChatOpenAI`` for our classes.
No error text ever contains a secret: the transport masks the secrets of the
call (API key, URL password, header values) in every error before it leaves the
package. Errors keep bounded excerpts of what the server sent (a few KiB), never
a whole body, and survive pickling (Celery, multiprocessing and Ray send
exceptions back by pickle).
"""

from __future__ import annotations

from typing import Any

from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ContextLengthExceededError",
    "DeadlineExceededError",
    "IncompleteStreamError",
    "InvalidParameterError",
    "InvalidRequestError",
    "MalformedRecordError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProviderError",
    "RateLimitError",
    "StreamError",
    "excerpt",
]

# Bounds on what an error keeps of the server's words (characters): at 4 bytes a
# character at most, an error holds under 64 KiB of them whatever the body was.
MESSAGE_LIMIT = 4000
DETAIL_LIMIT = 4000
RAW_RECORD_LIMIT = 8000
REQUEST_ID_LIMIT = 200


def excerpt(text: str, limit: int) -> str:
    """``text``, or its head and tail around a note of what was left out."""
    if len(text) <= limit:
        return text
    note = f" ... [{len(text) - limit} characters omitted] ... "
    keep = max(limit - len(note), 0)
    head = keep * 3 // 4
    return text[:head] + note + text[len(text) - (keep - head) :]


class ProviderError(ModelError):
    """A failure reported by (or on the way to) a provider.

    Attributes:
        provider: "ffm", "friendli" or "monsterapi".
        status_code: HTTP status, or the ``status_code`` of an in-stream error
            record; None when no response was received.
        detail: the provider's own message (``detail``, ``error``, ``message`` or
            the raw body), already scrubbed of secrets.
        request_id: the provider's request id header, when one was sent.
        partial_text: text received before a stream broke (empty otherwise).
        raw_record: the offending raw stream record, when one is to blame.
    """

    server_texts = ("message", "detail", "request_id", "partial_text", "raw_record")
    """The attributes that may hold what a server or the user sent: masked of secrets."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        detail: str | None = None,
        request_id: str | None = None,
        partial_text: str = "",
        raw_record: str | None = None,
    ) -> None:
        message = excerpt(message, MESSAGE_LIMIT)
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.detail = None if detail is None else excerpt(detail, DETAIL_LIMIT)
        self.request_id = None if request_id is None else excerpt(request_id, REQUEST_ID_LIMIT)
        self.partial_text = partial_text
        self.raw_record = None if raw_record is None else excerpt(raw_record, RAW_RECORD_LIMIT)

    def __str__(self) -> str:
        text = self.message
        if self.partial_text:
            text += f" [received {len(self.partial_text)} characters before the error]"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle every error the same way: its class, args and attributes, as they are."""
        return (_rebuild, (type(self), self.args, dict(vars(self))))


def _rebuild(cls: type[ProviderError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """An error of ``cls`` with ``args`` and ``state``, without calling its ``__init__``."""
    error = cls.__new__(cls, *args)
    error.args = args
    vars(error).update(state)
    return error


class AuthenticationError(ProviderError, ModelAuthenticationError):
    """The API key was missing or refused (HTTP 401)."""


class PermissionDeniedError(ProviderError, ModelPermissionDeniedError):
    """The key is valid but not entitled to this model or route (HTTP 403)."""


class NotFoundError(ProviderError, ModelNotFoundError):
    """Unknown model, endpoint or path (HTTP 404)."""


class InvalidRequestError(ProviderError, ModelInvalidRequestError):
    """The provider rejected the request as invalid (HTTP 400, 409, 413, 422)."""


class ContextLengthExceededError(ProviderError, ContextOverflowError):
    """The prompt plus requested output does not fit the model's context."""


class RateLimitError(ProviderError, ModelRateLimitError):
    """Too many requests (HTTP 429); retried automatically before surfacing."""


class APIError(ProviderError, ModelAPIError):
    """The provider failed on its side (HTTP 5xx or an unexpected status)."""


class APIConnectionError(ProviderError, ModelConnectionError):
    """The provider could not be reached, or dropped the connection."""


class APITimeoutError(ProviderError, ModelTimeoutError):
    """The provider did not answer (or stalled mid-stream) within the timeout."""


class DeadlineExceededError(APITimeoutError, TimeoutError):
    """A call passed ``stream_chunk_timeout`` or ``total_timeout``; its connection was closed.

    Also a ``TimeoutError``, so code that bounds calls with ``asyncio.timeout``
    or ``concurrent.futures`` handles both the same way.

    Attributes:
        bound: which one passed: ``"stream_chunk_timeout"`` or ``"total_timeout"``.
        seconds: its value.
        chunks: chunks the caller received before it passed (``partial_text`` holds their text).
    """

    def __init__(
        self, message: str, *, provider: str, bound: str, seconds: float, chunks: int = 0
    ) -> None:
        super().__init__(message, provider=provider)
        self.bound = bound
        self.seconds = seconds
        self.chunks = chunks

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} [{self.chunks} chunks received]" if self.chunks else text


class StreamError(ProviderError, ModelAPIError):
    """A stream that began successfully could not be completed."""


class IncompleteStreamError(StreamError):
    """The stream ended (or the connection dropped) before its final record."""


class MalformedRecordError(StreamError):
    """A stream record could not be decoded; ``raw_record`` holds it verbatim."""


class InvalidParameterError(ProviderError, ModelInvalidRequestError, ValueError):
    """A parameter failed validation before any request was sent.

    It is also a ``ValueError`` so that code written for pydantic-style
    validation failures keeps catching it.
    """

    def __init__(self, field: str, message: str, *, provider: str) -> None:
        super().__init__(f"{field}: {message}", provider=provider)
        self.field = field


_CONTEXT_MARKERS = (
    "context length",
    "context window",
    "maximum context",
    "too long",
    "max_new_tokens` must be <=",
    "tokens + `max_new_tokens`",
    "exceeds the model",
    "prompt is too long",
    "must have less than",
)


def _class_for_status(status: int | None, detail: str) -> type[ProviderError]:
    lowered = detail.lower()
    if status in (400, 413, 422) and any(m in lowered for m in _CONTEXT_MARKERS):
        return ContextLengthExceededError
    mapping: dict[int, type[ProviderError]] = {
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        408: APITimeoutError,
        429: RateLimitError,
    }
    if status in mapping:
        return mapping[status]
    if status is not None and 400 <= status < 500:
        return InvalidRequestError
    return APIError


def error_for_status(
    *,
    provider: str,
    status_code: int | None,
    detail: str,
    request_id: str | None = None,
    raw_record: str | None = None,
    where: str = "",
) -> ProviderError:
    """Build the typed error for an HTTP status (or an in-stream error record).

    The class follows LangChain's convention (401 authentication, 403 permission,
    404 not found, 429 rate limit, other 4xx invalid request, 5xx API error), with
    context-overflow messages singled out so agents can trim history and retry.
    """
    cls = _class_for_status(status_code, detail)
    status = f" {status_code}" if status_code is not None else ""
    rid = f" (request id {request_id})" if request_id else ""
    message = f"{provider} API error{status}{where}: {detail}{rid}"
    return cls(
        message,
        provider=provider,
        status_code=status_code,
        detail=detail,
        request_id=request_id,
        raw_record=raw_record,
    )


def provider_message(payload: Any, raw_text: str) -> str:
    """Extract the provider's own words from an error body.

    Understands FastAPI's ``detail`` (a string or a list of ``{loc, msg}``),
    ``error`` (a string or an object with ``message``) and ``message``; anything
    else falls back to the raw body so nothing the server said is lost.
    """
    if isinstance(payload, dict):
        for key in ("detail", "error", "message"):
            value = payload.get(key)
            if value:
                return _flatten_message(value)
    text = raw_text.strip()
    if not text:
        return "(empty response body)"
    return text if len(text) <= 2000 else text[:2000] + "..."


def _flatten_message(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(_flatten_message(v) for v in value)
    if isinstance(value, dict):
        if "msg" in value:
            loc = value.get("loc")
            where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
            return f"{where}: {value['msg']}" if where else str(value["msg"])
        for key in ("message", "detail", "error"):
            if value.get(key):
                return _flatten_message(value[key])
    return str(value)

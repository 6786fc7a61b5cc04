"""Error mapping: right LangChain type, provider's own words, picklable."""

import pickle

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from langchain_ffm_friendli import errors
from langchain_ffm_friendli.errors import (
    DETAIL_LIMIT,
    RAW_RECORD_LIMIT,
    DeadlineExceededError,
    InvalidParameterError,
    ProviderError,
    error_for_status,
    excerpt,
    provider_message,
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, ModelAuthenticationError),
        (403, ModelPermissionDeniedError),
        (404, ModelNotFoundError),
        (408, ModelTimeoutError),
        (400, ModelInvalidRequestError),
        (422, ModelInvalidRequestError),
        (429, ModelRateLimitError),
        (500, ModelAPIError),
        (503, ModelAPIError),
    ],
)
def test_status_maps_to_langchain_type(status: int, expected: type) -> None:
    error = error_for_status(provider="ffm", status_code=status, detail="why")
    assert isinstance(error, expected)
    assert isinstance(error, ProviderError)
    assert error.status_code == status
    assert "why" in str(error)


def test_context_overflow_is_singled_out() -> None:
    detail = (
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 8192. "
        "Given: 8000 `inputs` tokens and 350 `max_new_tokens`"
    )
    error = error_for_status(provider="ffm", status_code=422, detail=detail)
    assert isinstance(error, ContextOverflowError)


@pytest.mark.parametrize(
    ("payload", "raw", "expected"),
    [
        ({"detail": "Invalid API key"}, "", "Invalid API key"),
        (
            {"detail": [{"loc": ["body", "parameters", "top_k"], "msg": "too big"}]},
            "",
            "body.parameters.top_k: too big",
        ),
        ({"error": {"message": "quota", "type": "x"}}, "", "quota"),
        ({"error": "plain"}, "", "plain"),
        ({"message": "msg"}, "", "msg"),
        (None, "<html>502 Bad Gateway</html>", "<html>502 Bad Gateway</html>"),
        (None, "", "(empty response body)"),
    ],
)
def test_provider_message_shapes(payload: object, raw: str, expected: str) -> None:
    assert provider_message(payload, raw) == expected


def test_errors_pickle_with_their_fields() -> None:
    error = error_for_status(provider="ffm", status_code=429, detail="d", request_id="r1")
    error.partial_text = "abc"
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert (clone.status_code, clone.detail, clone.request_id, clone.partial_text) == (
        429,
        "d",
        "r1",
        "abc",
    )


def _one_of_each() -> list[ProviderError]:
    """One instance of every error class the package defines, every attribute set."""
    made: list[ProviderError] = []
    for name in errors.__all__:
        cls = getattr(errors, name)
        if not (isinstance(cls, type) and issubclass(cls, ProviderError)):
            continue
        if cls is InvalidParameterError:
            error: ProviderError = cls("max_tokens", "must be >= 1", provider="ffm")
        elif cls is DeadlineExceededError:
            error = cls(
                "no content", provider="friendli", bound="stream_chunk_timeout", seconds=2.5
            )
            error.chunks = 7
        else:
            error = cls(
                f"{name} happened",
                provider="monsterapi",
                status_code=503,
                detail="the provider's words",
                request_id="req-1",
                raw_record='{"x": 1}',
            )
        error.partial_text = "你好, partial"
        made.append(error)
    return made


@pytest.mark.parametrize("error", _one_of_each(), ids=lambda e: type(e).__name__)
def test_every_error_survives_pickling_with_its_type_message_and_attributes(
    error: ProviderError,
) -> None:
    """Celery, multiprocessing and Ray send a worker's exception back by pickle."""
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
    assert clone.args == error.args
    assert vars(clone) == vars(error)


def test_every_error_class_is_pickled_by_the_test_above() -> None:
    classes = {type(e) for e in _one_of_each()}
    assert InvalidParameterError in classes
    assert DeadlineExceededError in classes
    assert len(classes) >= 15


def test_a_deadline_error_is_a_timeout_error_naming_its_bound() -> None:
    error = DeadlineExceededError(
        "friendli: no content (stream_chunk_timeout=2)",
        provider="friendli",
        bound="stream_chunk_timeout",
        seconds=2,
        chunks=3,
    )
    assert isinstance(error, TimeoutError)
    assert isinstance(error, ModelTimeoutError)
    assert "stream_chunk_timeout" in str(error)
    assert "3 chunks received" in str(error)


def test_errors_keep_bounded_excerpts_of_huge_bodies() -> None:
    body = "x" * 5_000_000
    error = ProviderError(f"bad: {body}", provider="p", detail=body, raw_record=body)
    assert len(error.detail or "") <= DETAIL_LIMIT
    assert len(error.raw_record or "") <= RAW_RECORD_LIMIT
    kept = len(error.message) + len(error.detail or "") + len(error.raw_record or "")
    assert kept * 4 <= 64 * 1024  # under 64 KiB even at 4 bytes a character
    assert "characters omitted" in (error.raw_record or "")


def test_an_excerpt_keeps_head_and_tail() -> None:
    text = "HEAD" + "." * 1000 + "TAIL"
    cut = excerpt(text, 100)
    assert len(cut) <= 100
    assert cut.startswith("HEAD")
    assert cut.endswith("TAIL")
    assert excerpt("short", 100) == "short"

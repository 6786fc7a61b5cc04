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

from langchain_ffm_friendli.errors import (
    ProviderError,
    attach_partial_text,
    error_for_status,
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


def test_attach_partial_text_stamps_errors_passing_through() -> None:
    seen = ["你好"]
    with pytest.raises(ProviderError) as info, attach_partial_text(lambda: "".join(seen)):
        raise error_for_status(provider="ffm", status_code=500, detail="x")
    assert info.value.partial_text == "你好"
    assert "received 2 characters" in str(info.value)

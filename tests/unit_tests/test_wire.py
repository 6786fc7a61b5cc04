"""SSE record classification: pings skipped, errors typed, nothing silently lost."""

import pytest

from langchain_ffm_friendli._wire import DONE, Record, decode_sse_event
from langchain_ffm_friendli.errors import (
    APIError,
    MalformedRecordError,
    RateLimitError,
)


def decode(event: str = "", data: str = "") -> object:
    return decode_sse_event(event, data, provider="ffm")


def test_plain_data_event_is_a_record() -> None:
    record = decode(data='{"generated_text": "你"}')
    assert isinstance(record, Record)
    assert record.data == {"generated_text": "你"}
    assert record.event == ""


def test_ping_event_with_timestamp_is_skipped() -> None:
    assert decode(event="ping", data="2023-09-26 04:25:08.978531") is None


def test_empty_event_is_skipped_and_done_ends() -> None:
    assert decode(data="") is None
    assert decode(data="[DONE]") is DONE


def test_named_events_keep_their_name() -> None:
    record = decode(event="tool_status", data='{"status": "STARTED"}')
    assert isinstance(record, Record)
    assert record.event == "tool_status"


def test_non_json_data_raises_with_the_raw_record() -> None:
    with pytest.raises(MalformedRecordError) as info:
        decode(data="{not json")
    assert info.value.raw_record == "{not json"


def test_error_record_in_200_stream_maps_status() -> None:
    with pytest.raises(RateLimitError) as info:
        decode(data='{"error": "slow down", "status_code": 429}')
    assert info.value.status_code == 429
    assert "slow down" in str(info.value)
    assert info.value.raw_record is not None


def test_error_event_with_object_error() -> None:
    with pytest.raises(APIError) as info:
        decode(event="error", data='{"error": {"message": "backend exploded"}}')
    assert "backend exploded" in str(info.value)

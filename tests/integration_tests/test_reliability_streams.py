"""Reliability (issue 7), part 3: a broken stream is a typed error, never a short answer.

For every streaming class (the SSE ones and MonsterAPI's NUL-delimited /generate),
sync and async: a disconnect, a malformed record, an in-stream error record and a
stream that ends without its final record each raise a ProviderError subclass that
carries exactly the text the consumer received (a strict, non-empty prefix of the
full answer) and, where a record is to blame, that raw record.
"""

from __future__ import annotations

import pytest

from langchain_ffm_friendli import errors
from langchain_ffm_friendli.testing import Emulator, Fault

from ._reliability import STREAM_CASES, STREAM_OPS, TARGETS, Target, call, make

AFTER = 4


async def _broken(
    emu: Emulator, target: Target, op: str, fault: Fault
) -> tuple[errors.ProviderError, str, str]:
    """Stream once cleanly, then with ``fault``; return the error, what was seen, the full text."""
    obj, waits = make(target, emu)
    full = await call(obj, op)
    emu.reset()
    emu.queue(fault)
    received: list[str] = []
    with pytest.raises(errors.ProviderError) as info:
        await call(obj, op, received)
    seen = "".join(received)
    error = info.value
    assert error.partial_text, "the error must carry the text received so far"
    assert error.partial_text == seen, "partial_text must be exactly what the consumer saw"
    assert full.startswith(seen)
    assert len(seen) < len(full), "the broken stream must not look complete"
    assert len(emu.requests) == 1  # nothing after the first byte is retried
    assert waits.sync == waits.async_ == []
    return error, seen, full


@pytest.mark.parametrize(("target", "op"), STREAM_CASES)
async def test_disconnect_mid_stream(emu: Emulator, target: Target, op: str) -> None:
    error, _, _ = await _broken(emu, target, op, Fault.disconnect(after=AFTER))
    assert isinstance(error, errors.IncompleteStreamError)
    assert "mid-stream" in error.message


@pytest.mark.parametrize(("target", "op"), STREAM_CASES)
async def test_malformed_record(emu: Emulator, target: Target, op: str) -> None:
    error, _, _ = await _broken(emu, target, op, Fault.malformed(after=AFTER))
    assert isinstance(error, errors.MalformedRecordError)
    assert error.raw_record == "{not json"


ERROR_RECORD_CASES = [
    pytest.param(target, op, as_event, id=f"{target.name}-{op}-{'event' if as_event else 'data'}")
    for target in TARGETS
    for op in target.ops
    if op in STREAM_OPS
    # NUL-delimited records have no event names
    for as_event in ((False, True) if target.framing == "sse" else (False,))
]


@pytest.mark.parametrize(("target", "op", "as_event"), ERROR_RECORD_CASES)
async def test_error_record_in_a_200_stream(
    emu: Emulator, target: Target, op: str, *, as_event: bool
) -> None:
    fault = Fault.error_record(
        after=AFTER, message="GPU fell over", status_code=503, as_event=as_event
    )
    error, _, _ = await _broken(emu, target, op, fault)
    assert isinstance(error, errors.APIError)
    assert error.status_code == 503
    assert "GPU fell over" in str(error)
    assert error.raw_record is not None
    assert "GPU fell over" in error.raw_record


@pytest.mark.parametrize(("target", "op"), STREAM_CASES)
async def test_stream_without_its_final_record(emu: Emulator, target: Target, op: str) -> None:
    error, _, _ = await _broken(emu, target, op, Fault.truncated(after=AFTER))
    assert isinstance(error, errors.StreamError)
    if target.framing == "nul":
        # the NUL framing's only detectable truncation: a record cut off at EOF
        assert isinstance(error, errors.MalformedRecordError)
        assert error.raw_record
        assert not error.raw_record.endswith("\0")
    else:
        assert isinstance(error, errors.IncompleteStreamError)


@pytest.mark.parametrize(("target", "op"), STREAM_CASES)
async def test_a_healthy_stream_through_a_ping_storm_is_complete(
    emu: Emulator, target: Target, op: str
) -> None:
    obj, _ = make(target, emu)
    full = await call(obj, op)
    emu.queue(Fault.ping_storm(3))
    assert await call(obj, op) == full

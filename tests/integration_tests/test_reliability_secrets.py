"""Reliability (issue 7), part 6: the API key is sent, and shown nowhere.

For every class: the key is on the wire (recorded request headers), and appears in
no repr, str, model_dump, model_dump_json or dumpd; in no error text (str, repr,
``detail``, ``message``, ``raw_record``) of a refused key (401), of a 401 / 500 whose
body echoes the key, or of an in-stream error record echoing it; in no warning; and
in no log record at DEBUG level (root logger, httpx and httpcore included).
"""

from __future__ import annotations

import json
import logging
import warnings
from typing import Any

import pytest
from langchain_core.load import dumpd

from langchain_ffm_friendli import errors
from langchain_ffm_friendli.testing import Emulator, Fault

from ._reliability import STREAM_OPS, TARGET_PARAMS, Target, call, make

SECRET = "sk-live-Th1s-Is-The-S3cret-Key-0123456789"
WRONG = "sk-live-wrong-key-9876543210"


def _error_texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), error.args.__repr__()]
    if isinstance(error, errors.ProviderError):
        texts += [error.message, error.detail or "", error.raw_record or "", error.partial_text]
    cause = error.__cause__ or error.__context__
    if cause is not None:
        texts += [str(cause), repr(cause)]
    return texts


async def _raises(obj: Any, op: str, typed: type[errors.ProviderError]) -> list[str]:
    with pytest.raises(typed) as info:
        await call(obj, op)
    return _error_texts(info.value)


@pytest.mark.parametrize("target", TARGET_PARAMS)
async def test_the_api_key_is_sent_but_never_shown(
    target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "langchain_ffm_friendli", "hpack", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    texts: list[str] = []
    with warnings.catch_warnings(record=True) as caught, Emulator(api_key=SECRET) as emu:
        warnings.simplefilter("always")
        obj, _ = make(target, emu, max_retries=1)

        # the object itself, in every form
        texts += [
            repr(obj),
            str(obj),
            str(obj.model_dump()),
            obj.model_dump_json(),
            json.dumps(dumpd(obj)),
            repr(obj.transport),  # the transport holds the key to scrub it
        ]

        # successful calls through every entry point: the key is on the wire
        for op in target.ops:
            await call(obj, op)
        assert emu.requests
        for request in emu.requests:
            assert request.headers[target.key_header] == target.sent_key(SECRET)

        op = target.ops[0]
        # a refused key (the emulator's own 401)
        wrong, _ = make(target, emu, api_key=WRONG)
        wrong_texts = await _raises(wrong, op, errors.AuthenticationError)
        assert not [t for t in wrong_texts if WRONG in t]
        texts += wrong_texts
        # a 401 whose body echoes the key
        emu.queue(Fault.status(401, body={"detail": f"key {SECRET} is not valid here"}))
        texts += await _raises(obj, op, errors.AuthenticationError)
        # a 500 whose body echoes the key, retried once (a DEBUG retry log line) then raised
        emu.queue(
            Fault.status(500, body={"detail": f"upstream saw X-API-KEY {SECRET}"}),
            Fault.status(500, body=f"<html>Bearer {SECRET}</html>"),
        )
        texts += await _raises(obj, op, errors.APIError)
        # a connect error: the URL is reported, never the headers
        emu.queue(Fault.disconnect(), Fault.disconnect())
        with pytest.raises(errors.ProviderError) as dropped:
            await call(obj, op)
        texts += _error_texts(dropped.value)
        # an error record inside a 200 stream echoing the key
        for stream_op in (o for o in target.ops if o in STREAM_OPS):
            emu.queue(Fault.error_record(after=2, message=f"bad token {SECRET}"))
            texts += await _raises(obj, stream_op, errors.APIError)

    texts += [str(w.message) for w in caught]
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    leaks = [t for t in texts if SECRET in t]
    assert leaks == [], "\n".join(t[:300] for t in leaks)
    assert any(r.name.startswith("httpx") for r in caplog.records)  # DEBUG really was on
    assert any("retrying" in r.getMessage() for r in caplog.records)

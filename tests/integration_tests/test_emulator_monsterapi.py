"""Wire-level tests of the MonsterAPI emulator (``/v1/generate``), with raw httpx only.

They pin down the bytes a client relies on: the non-streaming shape, the prompt echo,
``n`` outputs, every validation rule, the NUL-delimited cumulative stream (all three
record forms, writes that cut records and characters, beam-search rewrites) and every
fault on that framing.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx
import pytest

from langchain_ffm_friendli.testing import Emulator, Fault, Reply, ToolCall
from tests.integration_tests._shared import undecodable_chunks

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
GREETING = "Hello! This is the MonsterAPI emulator. You said: "
LLAMA_PROMPT = (
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\n台北 weather?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)
BEAM = {"use_beam_search": True, "best_of": 2, "temperature": 0}
FORMS = ["text", "response", "list"]


# ----------------------------------------------------------------------------- helpers


def url(emu: Emulator) -> str:
    return emu.monsterapi_base_url + "/generate"


def auth(emu: Emulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {emu.api_key}"}


def chat(content: str = "Hello!", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}


def completion(prompt: str = "Once upon a time", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "prompt": prompt, **extra}


def post(emu: Emulator, payload: Any, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("timeout", 10)
    return httpx.post(url(emu), json=payload, headers=auth(emu), **kwargs)


def stream_raw(emu: Emulator, payload: dict[str, Any]) -> tuple[httpx.Response, list[bytes]]:
    """POST a streaming request; return the response and its raw network chunks."""
    chunks: list[bytes] = []
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", url(emu), json={**payload, "stream": True}, headers=auth(emu)) as r,
    ):
        chunks.extend(r.iter_raw())
    return r, chunks


def split_records(raw: bytes) -> list[bytes]:
    """The non-empty NUL-delimited records (what ``iter_lines(delimiter=b"\\0")`` gives)."""
    return [record for record in raw.split(b"\0") if record]


def texts_of(record: Any) -> list[str]:
    """The text list of a record in any of the three documented forms."""
    if isinstance(record, list):
        return record
    if "response" in record:
        return record["response"]["text"]
    return record["text"]


def form_of(record: Any) -> str:
    if isinstance(record, list):
        return "list"
    return "response" if "response" in record else "text"


def stream_texts(emu: Emulator, payload: dict[str, Any]) -> list[list[str]]:
    """Every record's cumulative texts, after checking the framing."""
    response, chunks = stream_raw(emu, payload)
    assert response.status_code == 200
    raw = b"".join(chunks)
    assert raw.endswith(b"\0")
    return [texts_of(json.loads(record)) for record in split_records(raw)]


def detail(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    entries = response.json()["detail"]
    assert isinstance(entries, list)
    for entry in entries:
        assert {"type", "loc", "msg"} <= set(entry)
    return entries


# ---------------------------------------------------------------------- non-stream


def test_non_stream_shape(emu: Emulator) -> None:
    response = post(emu, chat("你好, emulator"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "你好".encode() in response.content  # raw UTF-8
    data = response.json()
    assert list(data) == ["model", "response"]
    assert data["model"] == MODEL
    body = data["response"]
    assert list(body) == ["text", "token_counts", "credits_consumed"]
    assert body["text"] == [GREETING + "你好, emulator"]
    counts = body["token_counts"]
    assert set(counts) == {"input", "output"}
    assert counts["output"] > 10
    assert counts["input"] > 20  # the Llama 3.1 template (dated system header) is counted
    assert isinstance(body["credits_consumed"], float)
    assert body["credits_consumed"] > 0
    assert "finish_reason" not in response.text
    (recorded,) = emu.requests
    assert recorded.route == "monsterapi.generate"
    assert recorded.headers["authorization"] == f"Bearer {emu.api_key}"


def test_prompt_is_echoed_and_messages_are_not(emu: Emulator) -> None:
    plain = post(emu, completion("Once upon a time")).json()["response"]
    assert plain["text"] == ["Once upon a time" + GREETING + "Once upon a time"]
    templated = post(emu, completion(LLAMA_PROMPT)).json()["response"]
    assert templated["text"] == [LLAMA_PROMPT + GREETING + "台北 weather?"]
    messages = post(emu, chat("台北 weather?")).json()["response"]
    assert messages["text"] == [GREETING + "台北 weather?"]


def test_input_tokens_follow_the_model_template() -> None:
    with Emulator(models=["some/new-model"]) as emu:
        counts = {
            model: post(emu, {**chat("hi"), "model": model}).json()["response"]["token_counts"]
            for model in (MODEL, "google/gemma-2-9b-it", "some/new-model")
        }
    assert counts[MODEL]["input"] > counts["google/gemma-2-9b-it"]["input"] > 1
    assert counts["some/new-model"]["input"] > 1  # an added id gets a generic template


def test_n_outputs_differ_and_are_deterministic(emu: Emulator) -> None:
    first = post(emu, chat("hi", n=3, best_of=4)).json()["response"]
    texts = first["text"]
    assert len(texts) == 3
    assert len(set(texts)) == 3
    assert texts[0] == GREETING + "hi"
    assert all(text.endswith("You said: hi") for text in texts)
    assert post(emu, chat("hi", n=3, best_of=4)).json()["response"]["text"] == texts
    single = post(emu, chat("hi")).json()["response"]["token_counts"]["output"]
    assert first["token_counts"]["output"] >= 3 * single - 3
    many = post(emu, completion("x", n=7)).json()["response"]["text"]
    assert len(set(many)) == 7
    assert all(text.startswith("x") for text in many)


def test_max_tokens_cuts_every_output(emu: Emulator) -> None:
    data = post(emu, chat("hi", max_tokens=3, n=2)).json()["response"]
    assert data["text"] == ["Hello! This", "Hi! This"]
    assert data["token_counts"]["output"] == 6
    echoed = post(emu, completion("Q:", max_tokens=1)).json()["response"]
    assert echoed["text"] == ["Q:Hello"]
    assert echoed["token_counts"]["output"] == 1


def test_scripted_reply_overrides(emu: Emulator) -> None:
    emu.queue(
        Reply(text="scripted 文字", prompt_tokens=7, completion_tokens=9),
        Reply(text="echo me"),
        Reply(tool_calls=[ToolCall("get_weather", {"city": "台北"})]),
    )
    data = post(emu, chat(n=2)).json()["response"]
    assert data["text"] == ["scripted 文字", "scripted 文字"]
    assert data["token_counts"] == {"input": 7, "output": 9}
    assert post(emu, completion("P: ")).json()["response"]["text"] == ["P: echo me"]
    (text,) = post(emu, chat()).json()["response"]["text"]
    assert text == '<function=get_weather>{"city": "台北"}</function>'
    assert emu.pending == 0


def test_unknown_fields_and_nulls_are_accepted(emu: Emulator) -> None:
    payload = chat(
        "hi",
        best_of=None,
        temperature=None,
        max_tokens=None,
        stop=["x"],
        seed=1,
        mock_response=False,
    )
    response = post(emu, payload)
    assert response.status_code == 200
    assert response.json()["response"]["text"] == [GREETING + "hi"]


# ---------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"n": 0}, "n", "n must be at least 1, got 0."),
        ({"n": 2, "best_of": 1}, "best_of", "best_of must be greater than or equal to n"),
        ({"presence_penalty": 2.5}, "presence_penalty", "in [-2, 2], got 2.5."),
        ({"frequency_penalty": -2.1}, "frequency_penalty", "in [-2, 2], got -2.1."),
        ({"repetition_penalty": 0}, "repetition_penalty", "in (0, 2], got 0.0."),
        ({"repetition_penalty": 2.5}, "repetition_penalty", "in (0, 2]"),
        ({"temperature": -0.1}, "temperature", "temperature must be non-negative"),
        ({"top_p": 0}, "top_p", "top_p must be in (0, 1], got 0.0."),
        ({"top_p": 1.5}, "top_p", "top_p must be in (0, 1]"),
        ({"top_k": 0}, "top_k", "top_k must be -1 (disable), or at least 1, got 0."),
        ({"top_k": -2}, "top_k", "top_k must be -1 (disable), or at least 1"),
        ({"min_p": -0.1}, "min_p", "min_p must be in [0, 1]"),
        ({"min_p": 1.1}, "min_p", "min_p must be in [0, 1]"),
        ({"max_tokens": 0}, "max_tokens", "max_tokens must be at least 1, got 0."),
        # Beam search: best_of >= 2, temperature 0, top_p 1, top_k -1.
        ({"use_beam_search": True, "temperature": 0}, "best_of", "when using beam search"),
        ({**BEAM, "temperature": 0.5}, "temperature", "temperature must be 0 when using beam"),
        ({**BEAM, "top_p": 0.9}, "top_p", "top_p must be 1 when using beam search."),
        ({**BEAM, "top_k": 5}, "top_k", "top_k must be -1 when using beam search."),
        # Without beam search: length_penalty 1.0 and early_stopping false.
        ({"length_penalty": 0.5}, "length_penalty", "must be the default value of 1.0"),
        ({"early_stopping": True}, "early_stopping", "must be False when not using beam"),
        ({"early_stopping": "never"}, "early_stopping", "must be False when not using beam"),
        # Greedy (temperature 0) requires best_of 1.
        ({"temperature": 0, "best_of": 2}, "best_of", "greedy sampling.Got 2."),
        ({"temperature": 0, "n": 2}, "best_of", "best_of must be 1 when using greedy"),
    ],
)
def test_sampling_rules(emu: Emulator, extra: dict[str, Any], field: str, message: str) -> None:
    (entry,) = detail(post(emu, chat(**extra)))
    assert entry["loc"] == ["body", field]
    assert entry["type"] == "value_error"
    assert entry["msg"].startswith("Value error, ")
    assert message in entry["msg"]


@pytest.mark.parametrize(
    "extra",
    [
        BEAM,
        {**BEAM, "n": 2, "length_penalty": 0.7, "early_stopping": True, "top_p": 1, "top_k": -1},
        {**BEAM, "early_stopping": "never"},
        {"temperature": 0},
        {"temperature": 0, "best_of": 1, "top_p": 0.5, "top_k": 5},
        {"n": 2, "best_of": 2, "temperature": 2.0, "top_k": 1, "top_p": 1},
        {"repetition_penalty": 2, "presence_penalty": -2, "frequency_penalty": 2},
        {"min_p": 0, "length_penalty": 1.0, "early_stopping": False},
        {"min_p": 1, "max_tokens": 1, "n": 1.0},
    ],
)
def test_valid_boundaries(emu: Emulator, extra: dict[str, Any]) -> None:
    response = post(emu, chat(**extra))
    assert response.status_code == 200, response.text
    assert len(response.json()["response"]["text"]) == int(extra.get("n", 1))


@pytest.mark.parametrize(
    ("payload", "loc", "kind"),
    [
        ({"model": MODEL}, ["body", "prompt"], "missing"),
        ({"model": MODEL, "prompt": None, "messages": None}, ["body", "prompt"], "missing"),
        (
            {"model": MODEL, "prompt": "p", "messages": [{"role": "user", "content": "m"}]},
            ["body", "messages"],
            "value_error",
        ),
        ({"prompt": "p"}, ["body", "model"], "missing"),
        ({"model": 3, "prompt": "p"}, ["body", "model"], "string_type"),
        ({"model": MODEL, "prompt": ["p"]}, ["body", "prompt"], "string_type"),
        ({"model": MODEL, "prompt": ""}, ["body", "prompt"], "value_error"),
        ({"model": MODEL, "messages": []}, ["body", "messages"], "value_error"),
        ({"model": MODEL, "messages": "hi"}, ["body", "messages"], "list_type"),
        ({"model": MODEL, "messages": ["hi"]}, ["body", "messages", 0], "dict_type"),
        (
            {"model": MODEL, "messages": [{"role": "robot", "content": "hi"}]},
            ["body", "messages", 0, "role"],
            "value_error",
        ),
        (
            {"model": MODEL, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
            ["body", "messages", 0, "content"],
            "value_error",
        ),
        (completion(n="2"), ["body", "n"], "int_type"),
        (completion(n=1.5), ["body", "n"], "int_type"),
        (completion(top_p="high"), ["body", "top_p"], "float_type"),
        (completion(temperature=True), ["body", "temperature"], "float_type"),
        (completion(use_beam_search="yes"), ["body", "use_beam_search"], "bool_type"),
        (completion(stream=1), ["body", "stream"], "bool_type"),
        (completion(early_stopping="always"), ["body", "early_stopping"], "bool_type"),
        (["not", "an", "object"], ["body"], "dict_type"),
    ],
)
def test_schema_validation(emu: Emulator, payload: Any, loc: list[Any], kind: str) -> None:
    entries = detail(post(emu, payload))
    assert entries[0]["loc"] == loc
    assert entries[0]["type"] == kind


def test_type_errors_are_reported_together(emu: Emulator) -> None:
    entries = detail(post(emu, {"prompt": 1, "n": "x", "top_k": 0.5}))
    assert [e["loc"] for e in entries] == [
        ["body", "model"],
        ["body", "prompt"],
        ["body", "n"],
        ["body", "top_k"],
    ]


def test_model_template_rules() -> None:
    # microsoft/phi-2 is from an earlier revision of the reference page (no chat template).
    with Emulator(models=["microsoft/phi-2"]) as emu:
        _check_template_rules(emu)


def _check_template_rules(emu: Emulator) -> None:
    system_first = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    (entry,) = detail(post(emu, {"model": "google/gemma-2-9b-it", "messages": system_first}))
    assert entry["loc"] == ["body", "messages", 0, "role"]
    assert "System role not supported" in entry["msg"]
    twice = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    (entry,) = detail(post(emu, {"model": "google/gemma-2-9b-it", "messages": twice}))
    assert entry["loc"] == ["body", "messages", 1, "role"]
    assert "must alternate" in entry["msg"]
    (entry,) = detail(post(emu, {"model": "microsoft/phi-2", "messages": twice}))
    assert entry["loc"] == ["body", "messages"]
    assert post(emu, {"model": MODEL, "messages": system_first}).status_code == 200
    assert post(emu, {"model": "microsoft/phi-2", "prompt": "x"}).status_code == 200


def test_invalid_json(emu: Emulator) -> None:
    response = httpx.post(
        url(emu),
        content=b"{nope",
        headers={**auth(emu), "content-type": "application/json"},
    )
    (entry,) = detail(response)
    assert entry["type"] == "json_invalid"
    (entry,) = detail(httpx.post(url(emu), headers=auth(emu)))
    assert entry["type"] == "missing"


def test_validation_does_not_consume_the_queue(emu: Emulator) -> None:
    emu.queue(Reply(text="kept"))
    assert post(emu, chat(top_k=0)).status_code == 422
    assert httpx.post(url(emu), json=chat()).status_code == 401
    assert post(emu, chat()).json()["response"]["text"] == ["kept"]


def test_auth(emu: Emulator) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": emu.api_key},
        {"X-API-KEY": emu.api_key},
    ):
        response = httpx.post(url(emu), json=chat(), headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}
    assert post(emu, chat()).status_code == 200


def test_not_found_and_method(emu: Emulator) -> None:
    response = httpx.post(emu.monsterapi_base_url + "/nope", json={}, headers=auth(emu))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert httpx.get(url(emu), headers=auth(emu)).status_code == 405


# -------------------------------------------------------------------------- stream


def test_stream_wire_format(emu: Emulator) -> None:
    response, chunks = stream_raw(emu, chat("台北 weather"))
    raw = b"".join(chunks)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    assert b"[DONE]" not in raw
    assert b"data:" not in raw
    assert raw.endswith(b"\0")
    assert b"\0\0" not in raw  # no empty records in a normal stream
    records = [json.loads(r) for r in split_records(raw)]
    texts = [texts_of(r) for r in records]
    assert all(len(t) == 1 for t in texts)
    # Cumulative: every record extends the previous one; the last is the full text.
    for before, after in itertools.pairwise(texts):
        assert after[0].startswith(before[0])
        assert len(after[0]) > len(before[0])
    final = GREETING + "台北 weather"
    assert texts[-1] == [final]
    assert texts[0] == ["Hello"]
    assert (
        len(records) == post(emu, chat("台北 weather")).json()["response"]["token_counts"]["output"]
    )
    assert post(emu, chat("台北 weather")).json()["response"]["text"] == [final]
    assert not any(isinstance(r, dict) and "token_counts" in str(r) for r in records)


def test_stream_records_are_exactly_vllm_json_dumps_by_default(emu: Emulator) -> None:
    # vLLM's /generate writes every record as (json.dumps({"text": text_outputs}) + "\0").
    for content in ("hi", "台北 天氣"):
        _, chunks = stream_raw(emu, chat(content))
        records = split_records(b"".join(chunks))
        assert len(records) > 2
        for record in records:
            assert record == json.dumps({"text": json.loads(record)["text"]}).encode("ascii")
    emu.queue(Reply(text="x"))
    _, chunks = stream_raw(emu, chat("hi"))
    assert b"".join(chunks) == b'{"text": ["x"]}\0'


def test_mixed_records_fault_rotates_the_tolerated_shapes(emu: Emulator) -> None:
    emu.queue(Fault.mixed_records(reply=Reply(text="台北 天氣 weather")))
    _, chunks = stream_raw(emu, chat())
    records = split_records(b"".join(chunks))
    forms = [form_of(json.loads(r)) for r in records]
    assert forms == [FORMS[i % 3] for i in range(len(forms))]
    assert records[0] == b'{"text": ["\\u53f0"]}'  # json.dumps defaults, as vLLM
    assert records[1] == '{"response":{"text":["台北"]}}'.encode()  # raw UTF-8, compact
    assert records[2] == '["台北 天"]'.encode()  # a bare list, cumulative
    # The fault is spent: the next stream has vLLM's shape again.
    _, chunks = stream_raw(emu, chat())
    assert {form_of(json.loads(r)) for r in split_records(b"".join(chunks))} == {"text"}


def test_stream_writes_split_records_and_characters(emu: Emulator) -> None:
    _, chunks = stream_raw(emu, chat("台北 天氣 weather"))
    raw = b"".join(chunks)
    records = split_records(raw)
    assert len(chunks) >= 2 * len(records)
    # Some chunk ends inside a record (neither empty nor ending at a NUL)...
    assert any(not chunk.endswith(b"\0") for chunk in chunks)
    # ...and some NUL arrives alone, after its record.
    assert b"\0" in chunks
    assert texts_of(json.loads(records[-1])) == [GREETING + "台北 天氣 weather"]
    # Raw UTF-8 records (fault mixed_records) get a multi-byte character cut in two.
    emu.queue(Fault.mixed_records())
    _, chunks = stream_raw(emu, chat("台北 天氣 weather"))
    assert undecodable_chunks(chunks) > 0
    # Splitting on NUL only after buffering everything recovers valid JSON records.
    records = split_records(b"".join(chunks))
    assert texts_of(json.loads(records[-1])) == [GREETING + "台北 天氣 weather"]


def test_stream_prompt_echo_in_every_record(emu: Emulator) -> None:
    texts = stream_texts(emu, completion(LLAMA_PROMPT))
    assert all(t[0].startswith(LLAMA_PROMPT) for t in texts)
    assert texts[0] == [LLAMA_PROMPT + "Hello"]
    assert texts[-1] == [LLAMA_PROMPT + GREETING + "台北 weather?"]


def test_stream_n_outputs(emu: Emulator) -> None:
    texts = stream_texts(emu, chat("hi", n=3, max_tokens=40))
    assert all(len(t) == 3 for t in texts)
    for index in range(3):
        column = [t[index] for t in texts]
        for before, after in itertools.pairwise(column):
            assert after.startswith(before)
    final = post(emu, chat("hi", n=3, max_tokens=40)).json()["response"]["text"]
    assert texts[-1] == final
    # Shorter sequences keep their final text while longer ones go on.
    assert texts[-2][0] == final[0]
    assert texts[-2][2] != final[2]


def test_stream_max_tokens(emu: Emulator) -> None:
    assert stream_texts(emu, chat("hi", max_tokens=2)) == [["Hello"], ["Hello!"]]


def test_beam_search_stream_rewrites_text(emu: Emulator) -> None:
    texts = stream_texts(emu, chat("台北", **{**BEAM, "n": 2, "best_of": 3}))
    final = post(emu, chat("台北", **{**BEAM, "n": 2, "best_of": 3})).json()["response"]["text"]
    assert texts[-1] == final
    assert final[0] == GREETING + "台北"
    for index in range(2):
        column = [t[index] for t in texts]
        rewrites = [
            position
            for position, (before, after) in enumerate(itertools.pairwise(column))
            if not after.startswith(before)
        ]
        assert rewrites, column
    assert texts[:4] == [
        ["Hello", "Hi"],
        ["Hello!", "Hi!"],
        ["Hello? This", "Hi? This"],
        ["Hello! This", "Hi! This"],
    ]


@pytest.mark.parametrize("text", ["one", "two words", "台"])
def test_beam_search_rewrites_short_texts(emu: Emulator, text: str) -> None:
    emu.queue(Reply(text=text))
    texts = stream_texts(emu, completion("P", **BEAM))
    column = [t[0] for t in texts]
    assert column[-1] == "P" + text
    assert any(not b.startswith(a) for a, b in itertools.pairwise(column))


def test_empty_reply_streams_one_record(emu: Emulator) -> None:
    emu.queue(Reply(text=""), Reply(text=""))
    assert stream_texts(emu, chat()) == [[""]]
    assert stream_texts(emu, completion("P")) == [["P"]]


# -------------------------------------------------------------------------- faults


def test_status_fault_504_with_retry_after(emu: Emulator) -> None:
    emu.queue(Fault.status(504, retry_after="2"), Fault.status(504, retry_after="1"))
    response = post(emu, chat())
    assert response.status_code == 504
    assert response.headers["retry-after"] == "2"
    assert response.json() == {
        "error": {"message": "Gateway Timeout", "type": "server_error", "code": 504}
    }
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", url(emu), json=chat(stream=True), headers=auth(emu)) as r,
    ):
        assert r.status_code == 504
        assert r.headers["retry-after"] == "1"
        assert json.loads(r.read())["error"]["code"] == 504
    assert post(emu, chat()).status_code == 200


def test_status_fault_custom_bodies(emu: Emulator) -> None:
    emu.queue(
        Fault.status(504, body="<html>504 Gateway Time-out</html>"),
        Fault.status(429),
        Fault.status(400, body={"detail": "bad"}),
    )
    response = post(emu, chat())
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "<html>504 Gateway Time-out</html>"
    response = post(emu, chat())
    assert response.status_code == 429
    assert isinstance(response.json()["detail"], str)
    assert post(emu, chat()).json() == {"detail": "bad"}


def test_slow_first_byte(emu: Emulator) -> None:
    emu.queue(Fault.slow_first_byte(0.2, reply=Reply(text="late")))
    started = time.monotonic()
    data = post(emu, chat()).json()
    assert time.monotonic() - started >= 0.2
    assert data["response"]["text"] == ["late"]


def test_disconnect_mid_stream(emu: Emulator) -> None:
    emu.queue(Fault.disconnect(after=3))
    received: list[bytes] = []
    with (
        httpx.Client(timeout=10) as client,
        client.stream("POST", url(emu), json=chat(stream=True), headers=auth(emu)) as r,
    ):
        assert r.status_code == 200
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            received.extend(r.iter_raw())
    raw = b"".join(received)
    assert raw.count(b"\0") == 3
    assert [texts_of(json.loads(r)) for r in split_records(raw)] == [
        ["Hello"],
        ["Hello!"],
        ["Hello! This"],
    ]


def test_disconnect_non_stream(emu: Emulator) -> None:
    emu.queue(Fault.disconnect())
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post(emu, chat())
    assert post(emu, chat()).status_code == 200


def test_malformed_record(emu: Emulator) -> None:
    emu.queue(Fault.malformed(after=2))
    _, chunks = stream_raw(emu, chat("hi"))
    raw = b"".join(chunks)
    records = split_records(raw)
    assert records[2] == b"{not json"
    with pytest.raises(ValueError):
        json.loads(records[2])
    assert texts_of(json.loads(records[-1])) == [GREETING + "hi"]  # the stream goes on


def test_error_record(emu: Emulator) -> None:
    emu.queue(Fault.error_record(after=2, message="CUDA out of memory", status_code=503))
    response, chunks = stream_raw(emu, chat("hi"))  # ends cleanly
    assert response.status_code == 200
    raw = b"".join(chunks)
    assert raw.endswith(b"\0")
    records = [json.loads(r) for r in split_records(raw)]
    assert len(records) == 3
    assert records[-1] == {
        "error": {"message": "CUDA out of memory", "type": "server_error", "code": 503}
    }


def test_truncated_stream_ends_inside_a_record(emu: Emulator) -> None:
    emu.queue(Fault.truncated(after=2))
    _, chunks = stream_raw(emu, chat("hi"))  # clean chunked end
    raw = b"".join(chunks)
    *complete, partial = raw.split(b"\0")
    assert len(complete) == 2
    assert partial
    with pytest.raises(ValueError):
        json.loads(partial)
    emu.queue(Fault.truncated(after=10_000))
    _, chunks = stream_raw(emu, chat("hi"))
    raw = b"".join(chunks)
    assert not raw.endswith(b"\0")  # even the final record is cut
    with pytest.raises(ValueError):
        json.loads(raw.rsplit(b"\0", 1)[-1])


def test_stall(emu: Emulator) -> None:
    emu.queue(Fault.stall(after=2, seconds=0.2))
    started = time.monotonic()
    texts = stream_texts(emu, chat("hi"))
    assert time.monotonic() - started >= 0.2
    assert texts[-1] == [GREETING + "hi"]


def test_ping_storm_sends_empty_records(emu: Emulator) -> None:
    emu.queue(Fault.ping_storm(count=2))
    _, chunks = stream_raw(emu, chat("hi"))
    raw = b"".join(chunks)
    records = split_records(raw)
    assert raw.count(b"\0") == 3 * len(records)
    assert raw.startswith(b"\0\0")
    assert texts_of(json.loads(records[-1])) == [GREETING + "hi"]


def test_stream_only_faults_wait_for_a_stream(emu: Emulator) -> None:
    emu.queue(Fault.malformed(after=0), Reply(text="plain"))
    assert post(emu, chat()).json()["response"]["text"] == ["plain"]
    _, chunks = stream_raw(emu, chat())
    assert split_records(b"".join(chunks))[0] == b"{not json"

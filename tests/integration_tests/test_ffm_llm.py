"""FFMLLM over loopback: invoke, stream, async, batch, stop, usage, validation, errors."""

import pytest

from langchain_ffm_friendli import FFMLLM
from langchain_ffm_friendli.errors import (
    AuthenticationError,
    IncompleteStreamError,
    InvalidParameterError,
    RateLimitError,
)
from langchain_ffm_friendli.testing import Emulator, Fault, Reply
from tests.integration_tests._shared import on_emulator

MODEL = "llama3-ffm-8b-chat"


def make(emu: Emulator, **kw: object) -> FFMLLM:
    return on_emulator(FFMLLM, emu, emu.ffm_base_url, MODEL, **kw)


def test_invoke_posts_inputs_with_ffm_parameters(emu: Emulator) -> None:
    llm = make(emu, max_tokens=64, temperature=0.7, top_k=50, top_p=1.0, frequence_penalty=1.05)
    text = llm.invoke("台灣最高的山是")
    assert text == "Hello! This is the FFM emulator. You said: 台灣最高的山是"
    request = emu.requests[-1]
    assert request.path == "/ffm/api/models/generate"
    assert request.json == {
        "model": MODEL,
        "inputs": "台灣最高的山是",
        "parameters": {
            "max_new_tokens": 64,
            "temperature": 0.7,
            "top_k": 50,
            "top_p": 1.0,
            "frequence_penalty": 1.05,
        },
        "stream": False,
    }
    assert request.headers["x-api-key"] == emu.api_key


def test_generation_info_and_llm_output_carry_usage(emu: Emulator) -> None:
    result = make(emu).generate(["a b c", "d e"])
    infos = [g[0].generation_info for g in result.generations]
    assert all(i and i["finish_reason"] == "stop_sequence" for i in infos)
    assert all(i and i["generated_tokens"] > 0 for i in infos)
    assert result.llm_output is not None
    usage = result.llm_output["token_usage"]
    assert usage["prompt_tokens"] == sum(i["prompt_tokens"] for i in infos)  # type: ignore[index]
    assert usage["completion_tokens"] == sum(i["generated_tokens"] for i in infos)  # type: ignore[index]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert result.llm_output["model_name"] == MODEL


def test_ls_params_say_llm(emu: Emulator) -> None:
    params = make(emu, temperature=0.3, max_tokens=9)._get_ls_params(stop=["x"])
    assert params == {
        "ls_provider": "ffm",
        "ls_model_name": MODEL,
        "ls_model_type": "llm",
        "ls_temperature": 0.3,
        "ls_max_tokens": 9,
        "ls_stop": ["x"],
    }


def test_stream_yields_text_pieces_and_a_final_info(emu: Emulator) -> None:
    llm = make(emu)
    pieces = list(llm.stream("人口"))
    assert "".join(pieces) == "Hello! This is the FFM emulator. You said: 人口"
    assert len(pieces) > 5
    assert emu.requests[-1].json["stream"] is True


def test_streaming_flag_aggregates_with_info(emu: Emulator) -> None:
    result = make(emu, streaming=True).generate(["hi"])
    generation = result.generations[0][0]
    assert generation.text == "Hello! This is the FFM emulator. You said: hi"
    assert generation.generation_info is not None
    assert generation.generation_info["finish_reason"] == "stop_sequence"
    assert result.llm_output is not None
    assert result.llm_output["token_usage"]["completion_tokens"] > 0


def test_stop_sequences_are_sent_and_the_echo_removed(emu: Emulator) -> None:
    llm = make(emu)
    assert llm.invoke("hi", stop=["emulator"]) == "Hello! This is the FFM "
    assert emu.requests[-1].json["parameters"]["stop_sequences"] == ["emulator"]
    assert "".join(llm.stream("hi", stop=["emulator"])) == "Hello! This is the FFM "


def test_batch_and_async(emu: Emulator) -> None:
    llm = make(emu)
    assert llm.batch(["a", "b"]) == [
        "Hello! This is the FFM emulator. You said: a",
        "Hello! This is the FFM emulator. You said: b",
    ]


async def test_async_invoke_stream_and_concurrent_batch(emu: Emulator) -> None:
    llm = make(emu)
    assert await llm.ainvoke("x") == "Hello! This is the FFM emulator. You said: x"
    assert (
        "".join([p async for p in llm.astream("y")])
        == "Hello! This is the FFM emulator. You said: y"
    )
    results = await llm.abatch([str(i) for i in range(10)])
    assert results == [f"Hello! This is the FFM emulator. You said: {i}" for i in range(10)]


def test_validation_names_the_field_before_any_request(emu: Emulator) -> None:
    llm = make(emu)
    with pytest.raises(InvalidParameterError, match="top_k"):
        llm.invoke("x", top_k=0)
    with pytest.raises(ValueError, match="frequence_penalty"):
        make(emu, frequence_penalty=-1)
    assert emu.requests == []


def test_errors_are_typed_and_retries_apply(emu: Emulator) -> None:
    emu.queue(Fault.status(429), Reply(text="fine"))
    assert make(emu).invoke("x") == "fine"
    emu.queue(*(Fault.status(429, body={"detail": "slow down"}) for _ in range(3)))
    with pytest.raises(RateLimitError, match="slow down"):
        make(emu).invoke("x")
    with pytest.raises(AuthenticationError):
        FFMLLM(model=MODEL, base_url=emu.ffm_base_url, api_key="wrong").invoke("x")
    emu.queue(Fault.disconnect(after=4))
    with pytest.raises(IncompleteStreamError) as info:
        list(make(emu).stream("x"))
    assert info.value.partial_text

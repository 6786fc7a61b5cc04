"""ChatMonsterAPI and MonsterAPILLM over loopback against the emulator's /v1/generate."""

import asyncio

import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage

from langchain_ffm_friendli import ChatMonsterAPI, MonsterAPILLM
from langchain_ffm_friendli.errors import (
    APIError,
    AuthenticationError,
    IncompleteStreamError,
    InvalidParameterError,
    MalformedRecordError,
)
from langchain_ffm_friendli.testing import Emulator, Fault, Reply
from tests.integration_tests._shared import on_emulator

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct"
ANSWER = "Hello! This is the MonsterAPI emulator. You said: "


def chat(emu: Emulator, **kw: object) -> ChatMonsterAPI:
    return on_emulator(ChatMonsterAPI, emu, emu.monsterapi_base_url, MODEL, **kw)


def llm_(emu: Emulator, **kw: object) -> MonsterAPILLM:
    return on_emulator(MonsterAPILLM, emu, emu.monsterapi_base_url, MODEL, **kw)


def test_chat_sends_messages_with_every_field_and_reads_usage_and_credits(emu: Emulator) -> None:
    model = chat(
        emu,
        max_tokens=200,
        n=1,
        best_of=2,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        repetition_penalty=1.1,
        temperature=0.7,
        top_p=0.9,
        top_k=40,
        min_p=0.05,
    )
    message = model.invoke([SystemMessage("Be brief."), HumanMessage("你好?")])
    request = emu.requests[-1]
    assert request.path == "/monsterapi/v1/generate"
    assert request.headers["authorization"] == f"Bearer {emu.api_key}"
    assert request.json == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "你好?"},
        ],
        "max_tokens": 200,
        "n": 1,
        "best_of": 2,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "repetition_penalty": 1.1,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 40,
        "min_p": 0.05,
        "stream": False,
    }
    assert message.content == ANSWER + "你好?"
    assert message.usage_metadata is not None
    assert message.usage_metadata["output_tokens"] > 0
    assert message.response_metadata["credits_consumed"] > 0
    assert message.response_metadata["model_name"] == MODEL
    assert message.response_metadata["model_provider"] == "monsterapi"


def test_beam_search_fields_are_sent(emu: Emulator) -> None:
    chat(emu).invoke(
        "hi",
        use_beam_search=True,
        best_of=3,
        n=1,
        temperature=0,
        length_penalty=0.8,
        early_stopping=True,
    )
    body = emu.requests[-1].json
    assert (body["use_beam_search"], body["length_penalty"], body["early_stopping"]) == (
        True,
        0.8,
        True,
    )


def test_missing_usage_or_credits_is_tolerated(emu: Emulator) -> None:
    emu.queue(Reply(text="bare"))
    message = chat(emu).invoke("hi")
    assert message.content == "bare"


def test_chat_stream_deltas_add_up_and_metadata_is_on_one_chunk(emu: Emulator) -> None:
    chunks = list(chat(emu).stream("你好, 世界"))
    assert "".join(str(c.content) for c in chunks) == ANSWER + "你好, 世界"
    assert len(chunks) > 5
    assert sum(1 for c in chunks if c.response_metadata.get("model_name")) == 1
    assert emu.requests[-1].json["stream"] is True


def test_beam_search_stream_arrives_whole_without_garbage(emu: Emulator) -> None:
    chunks = list(chat(emu).stream("hi", use_beam_search=True, best_of=2, temperature=0))
    text = "".join(str(c.content) for c in chunks)
    assert text == ANSWER + "hi"
    assert sum(1 for c in chunks if c.content) == 1


def test_stop_is_applied_client_side_and_ends_the_stream(emu: Emulator) -> None:
    model = chat(emu)
    assert model.invoke("hi", stop=["emulator"]).content == "Hello! This is the MonsterAPI "
    streamed = list(model.stream("hi", stop=["emulator"]))
    assert "".join(str(c.content) for c in streamed) == "Hello! This is the MonsterAPI "
    assert "stop" not in emu.requests[-1].json  # /generate has no stop field
    assert emu.wait_for_connections(0)


async def test_async_chat(emu: Emulator) -> None:
    model = chat(emu)
    assert (await model.ainvoke("a")).content == ANSWER + "a"
    text = "".join([str(c.content) async for c in model.astream("b")])
    assert text == ANSWER + "b"


def test_validation_happens_before_any_request(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="best_of"):
        chat(emu, n=3, best_of=2)
    model = chat(emu)
    with pytest.raises(InvalidParameterError, match="length_penalty"):
        model.invoke("x", length_penalty=0.5)
    with pytest.raises(InvalidParameterError, match="use_beam_search"):
        model.invoke("x", use_beam_search=True, best_of=2, temperature=0.5)
    with pytest.raises(InvalidParameterError, match="n"):
        list(model.stream("x", n=2, best_of=2))
    assert emu.requests == []


def test_unknown_model_ids_are_not_rejected() -> None:
    # The client leaves the decision to the server (protocols/monsterapi.md §6.12): a
    # server that knows a newer model answers it.
    with Emulator(models=["some-new/model-2027"]) as emu:
        model = ChatMonsterAPI(
            model="some-new/model-2027", base_url=emu.monsterapi_base_url, api_key=emu.api_key
        )
        assert model.invoke("hi").content == ANSWER + "hi"


def test_504_is_retried_and_errors_are_typed(emu: Emulator) -> None:
    emu.queue(Fault.status(504), Reply(text="after 504"))
    assert chat(emu).invoke("x").content == "after 504"
    assert len(emu.requests) == 2
    with pytest.raises(AuthenticationError):
        ChatMonsterAPI(model=MODEL, base_url=emu.monsterapi_base_url, api_key="bad").invoke("x")


def test_stream_faults_raise_typed_errors_with_partial_text(emu: Emulator) -> None:
    model = chat(emu)
    emu.queue(Fault.disconnect(after=5))
    with pytest.raises(IncompleteStreamError) as broken:
        list(model.stream("x"))
    assert broken.value.partial_text
    emu.queue(Fault.malformed(after=3))
    with pytest.raises(MalformedRecordError) as bad:
        list(model.stream("x"))
    assert bad.value.raw_record == "{not json"
    emu.queue(Fault.truncated(after=4))
    with pytest.raises(MalformedRecordError, match="inside a record"):
        list(model.stream("x"))
    emu.queue(Fault.error_record(after=2, message="gpu lost", status_code=503))
    with pytest.raises(APIError, match="gpu lost") as err:
        list(model.stream("x"))
    assert err.value.partial_text


# --------------------------------------------------------------------------- LLM


def test_llm_sends_prompt_and_strips_the_echo(emu: Emulator) -> None:
    prompt = "[INST] Name a mountain [/INST]"
    assert llm_(emu).invoke(prompt) == ANSWER + "Name a mountain"
    assert emu.requests[-1].json["prompt"] == prompt
    assert "messages" not in emu.requests[-1].json
    assert "".join(llm_(emu).stream(prompt)) == ANSWER + "Name a mountain"


def test_llm_n_generations_usage_and_batch(emu: Emulator) -> None:
    result = llm_(emu, n=2, best_of=3).generate(["a", "b"])
    assert [len(g) for g in result.generations] == [2, 2]
    assert result.generations[0][0].text != result.generations[0][1].text
    assert result.generations[0][0].generation_info is not None
    assert result.generations[0][0].generation_info["credits_consumed"] > 0
    assert result.llm_output is not None
    usage = result.llm_output["token_usage"]
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert llm_(emu).batch(["x", "y"]) == [ANSWER + "x", ANSWER + "y"]
    assert llm_(emu)._get_ls_params()["ls_model_type"] == "llm"


def test_llm_async_and_streaming_flag(emu: Emulator) -> None:
    async def run() -> list[str]:
        return await llm_(emu).abatch(["1", "2", "3"])

    assert asyncio.run(run()) == [ANSWER + "1", ANSWER + "2", ANSWER + "3"]
    assert llm_(emu, streaming=True).invoke("z") == ANSWER + "z"


def test_llm_validation_and_errors(emu: Emulator) -> None:
    with pytest.raises(InvalidParameterError, match="top_k"):
        llm_(emu).invoke("x", top_k=0)
    emu.queue(*(Fault.status(504) for _ in range(3)))
    with pytest.raises(APIError) as info:
        llm_(emu).invoke("x")
    assert info.value.status_code == 504


def test_chunk_type_is_ai_message_chunk(emu: Emulator) -> None:
    assert all(isinstance(c, AIMessageChunk) for c in chat(emu).stream("x"))

"""FriendliLLM: each field on the wire, each documented constraint, both stream formats."""

import pytest

from langchain_ffm_friendli import FriendliLLM
from langchain_ffm_friendli.errors import (
    IncompleteStreamError,
    InvalidParameterError,
    RateLimitError,
)
from langchain_ffm_friendli.testing import Emulator, Fault
from tests.integration_tests._shared import on_emulator

MODEL = "meta-llama-3.1-8b-instruct"
LEGACY = {"X-Emulator-Stream-Format": "legacy"}


def make(emu: Emulator, **kw: object) -> FriendliLLM:
    return on_emulator(FriendliLLM, emu, emu.friendli_base_url, MODEL, **kw)


# every field of the completions pages (protocols/friendli.md §4.1, §4.5) with a value the
# server accepts (beam-search ones tested together below)
FIELDS = {
    "bad_word_tokens": [{"tokens": [123, 456]}],
    "bad_words": ["darn"],
    "embedding_to_replace": [0.1, 0.2],
    "token_index_to_replace": [0],
    "eos_token": [128009],
    "frequency_penalty": 0.4,
    "presence_penalty": -0.3,
    "repetition_penalty": 1.2,
    "include_output_logits": True,
    "include_output_logprobs": True,
    "max_tokens": 50,
    "min_tokens": 2,
    "n": 2,
    "no_repeat_ngram": 3,
    "seed": [11, 12],
    "stop": ["\n\n"],
    "stop_tokens": [{"tokens": [13]}],
    "temperature": 0.6,
    "timeout_microseconds": 5_000_000,
    "top_k": 20,
    "top_p": 0.95,
    "min_p": 0.02,
    "logprobs": 3,
}


def test_every_field_is_sent_under_friendlis_name_and_unset_ones_never(emu: Emulator) -> None:
    make(emu, **FIELDS, team_id="t-9").invoke("Say this is a test")
    request = emu.requests[-1]
    assert request.path == "/friendli/serverless/v1/completions"
    assert request.json == {"model": MODEL, "prompt": "Say this is a test", **FIELDS}
    assert request.headers["x-friendli-team"] == "t-9"
    make(emu).invoke("x")
    assert emu.requests[-1].json == {"model": MODEL, "prompt": "x"}


def test_beam_search_and_encoder_fields(emu: Emulator) -> None:
    make(
        emu,
        num_beams=4,
        beam_search_type="STOCHASTIC",
        early_stopping=True,
        length_penalty=1.3,
        encoder_no_repeat_ngram=2,
        encoder_repetition_penalty=1.1,
        max_total_tokens=200,
        min_total_tokens=3,
    ).invoke("x")
    body = emu.requests[-1].json
    for key, value in {
        "num_beams": 4,
        "beam_search_type": "STOCHASTIC",
        "early_stopping": True,
        "length_penalty": 1.3,
        "encoder_no_repeat_ngram": 2,
        "encoder_repetition_penalty": 1.1,
        "max_total_tokens": 200,
        "min_total_tokens": 3,
    }.items():
        assert body[key] == value


def test_response_format_and_tokens_instead_of_text(emu: Emulator) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    fmt = {"type": "json_schema", "json_schema": {"schema": schema}}
    text = make(emu, response_format=fmt).invoke("Give JSON.")
    assert emu.requests[-1].json["response_format"] == fmt
    assert text.strip().startswith("{")
    make(emu).invoke("ignored", tokens=[128000, 2028, 374])
    body = emu.requests[-1].json
    assert body["tokens"] == [128000, 2028, 374]
    assert "prompt" not in body


def test_n_generations_carry_seed_tokens_and_usage(emu: Emulator) -> None:
    result = make(emu, n=3, seed=[1, 2, 3], logprobs=2).generate(["hello"])
    generations = result.generations[0]
    assert len(generations) == 3
    assert len({g.text for g in generations}) == 3
    for g in generations:
        assert g.generation_info is not None
        assert g.generation_info["finish_reason"] in ("stop", "length")
        assert isinstance(g.generation_info["seed"], int)
        assert all(isinstance(t, int) for t in g.generation_info["tokens"])
        assert g.generation_info["logprobs"]
    assert result.llm_output is not None
    assert result.llm_output["token_usage"]["completion_tokens"] > 0
    assert result.llm_output["model_name"] == MODEL
    assert make(emu)._get_ls_params(stop=["a"])["ls_model_type"] == "llm"


def test_current_stream_format(emu: Emulator) -> None:
    llm = make(emu)
    pieces = list(llm.stream("hello"))
    assert "".join(pieces) == " This is the Friendli emulator continuing: hello"
    body = emu.requests[-1].json
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    result = make(emu, streaming=True).generate(["hello"])
    info = result.generations[0][0].generation_info
    assert info is not None
    assert info["finish_reason"] == "stop"
    assert all(isinstance(t, int) for t in info["tokens"])
    assert result.llm_output is not None
    assert result.llm_output["token_usage"]["total_tokens"] > 0


def test_legacy_token_sampled_stream_format(emu: Emulator) -> None:
    llm = make(emu, default_headers=LEGACY)
    assert "".join(llm.stream("hello")) == " This is the Friendli emulator continuing: hello"
    result = make(emu, default_headers=LEGACY, streaming=True).generate(["hello"])
    info = result.generations[0][0].generation_info
    assert info is not None
    assert isinstance(info["seed"], int)
    assert info["tokens"]


async def test_async_invoke_stream_and_batch(emu: Emulator) -> None:
    llm = make(emu)
    assert await llm.ainvoke("a") == " This is the Friendli emulator continuing: a"
    assert (
        "".join([p async for p in llm.astream("b")])
        == " This is the Friendli emulator continuing: b"
    )
    assert await llm.abatch(["c", "d"]) == [
        " This is the Friendli emulator continuing: c",
        " This is the Friendli emulator continuing: d",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_tokens": 5, "max_total_tokens": 50}, "max_tokens, max_total_tokens"),
        ({"min_tokens": 5, "min_total_tokens": 50}, "min_tokens, min_total_tokens"),
        ({"num_beams": 0}, "num_beams"),
        ({"num_beams": 32}, "num_beams"),
        ({"num_beams": 2, "n": 2}, "num_beams, n"),
        ({"num_beams": 2, "stop": ["x"]}, "num_beams, stop"),
        ({"num_beams": 2, "top_k": 5}, "beam_search_type, top_k"),
        (
            {"num_beams": 2, "beam_search_type": "DETERMINISTIC", "top_p": 0.9},
            "beam_search_type, top_p",
        ),
        ({"beam_search_type": "STOCHASTIC"}, "beam_search_type"),
        ({"early_stopping": True}, "early_stopping"),
        ({"length_penalty": 1.5}, "length_penalty"),
        ({"top_k": -1}, "top_k"),
        ({"top_p": 1.5}, "top_p"),
        ({"min_p": -0.1}, "min_p"),
        ({"frequency_penalty": 2.5}, "frequency_penalty"),
        ({"presence_penalty": -2.5}, "presence_penalty"),
        ({"repetition_penalty": 0.9}, "repetition_penalty"),
        ({"encoder_repetition_penalty": 0.5}, "encoder_repetition_penalty"),
        ({"no_repeat_ngram": 0}, "no_repeat_ngram"),
        ({"logprobs": 30}, "logprobs"),
        ({"token_index_to_replace": [1]}, "token_index_to_replace, embedding_to_replace"),
        ({"min_tokens": 2, "response_format": {"type": "json_object"}}, "min_tokens"),
    ],
)
def test_documented_constraints_fail_before_any_request(
    emu: Emulator, kwargs: dict, field: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        make(emu).invoke("x", **kwargs)
    assert info.value.field == field
    with pytest.raises(ValueError, match=field.split(",", maxsplit=1)[0]):
        make(emu, **kwargs)
    assert emu.requests == []


def test_beam_search_cannot_stream(emu: Emulator) -> None:
    with pytest.raises(InvalidParameterError) as info:
        list(make(emu, num_beams=3).stream("x"))
    assert info.value.field == "num_beams, stream"
    stochastic = make(emu, num_beams=3, beam_search_type="STOCHASTIC", top_k=5)
    stochastic.invoke("x")  # sampling arguments are fine with stochastic beams
    assert emu.requests[-1].json["top_k"] == 5


def test_errors_and_broken_streams(emu: Emulator) -> None:
    emu.queue(*(Fault.status(429, body={"detail": "Rate limit exceeded"}) for _ in range(3)))
    with pytest.raises(RateLimitError, match="Rate limit exceeded"):
        make(emu).invoke("x")
    emu.queue(Fault.disconnect(after=3), route="friendli.completions")
    with pytest.raises(IncompleteStreamError) as info:
        list(make(emu).stream("hello"))
    assert info.value.partial_text

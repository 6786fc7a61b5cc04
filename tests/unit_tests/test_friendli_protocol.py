"""Friendli wire rules as plain data: endpoints, validation, tool choice, payload parts.

Every rule cites its section of docs/protocols/friendli.md (§4.5 there quotes the older
completions reference page that still documents beam search). The stream decoder
(``CompletionStream``) is tested elsewhere.
"""

from typing import Any

import pytest

from langchain_ffm_friendli.errors import InvalidParameterError
from langchain_ffm_friendli.friendli import _protocol as proto

SERVERLESS = "https://api.friendli.ai/serverless/v1"
DEDICATED = "https://api.friendli.ai/dedicated/v1"
CONTAINER = "http://localhost:8000/v1"


def raises_on(field: str, call: Any, *args: Any, **kwargs: Any) -> InvalidParameterError:
    """Call and return the InvalidParameterError, checking it names ``field`` for friendli."""
    with pytest.raises(InvalidParameterError) as info:
        call(*args, **kwargs)
    error = info.value
    assert error.field == field
    assert str(error).startswith(f"{field}: ")
    assert error.provider == "friendli"
    return error


# --------------------------------------------------------------------------- endpoints


@pytest.mark.parametrize(
    ("base_url", "kind"),
    [
        # protocols/friendli.md §1.1 endpoint table / §9 base URL resolution
        (SERVERLESS, "serverless"),
        (DEDICATED, "dedicated"),
        (CONTAINER, "container"),
        ("http://10.0.0.5:8000/v1", "container"),
        # the tool-assisted base still is serverless (protocols/friendli.md §1.1, "serverless only")
        ("https://api.friendli.ai/serverless/tools/v1", "serverless"),
        # a base ending in the product segment itself
        ("https://proxy.example/dedicated", "dedicated"),
    ],
)
def test_infer_endpoint_from_base_url(base_url: str, kind: str) -> None:
    assert proto.infer_endpoint(base_url) == kind


def test_tools_url_sits_next_to_the_serverless_base() -> None:
    # protocols/friendli.md §1.1: tool-assisted chat is POST
    # .../serverless/tools/v1/chat/completions
    assert proto.tools_url(SERVERLESS) == (
        "https://api.friendli.ai/serverless/tools/v1/chat/completions"
    )
    assert proto.tools_url("https://gw.example/friendli/serverless/v1") == (
        "https://gw.example/friendli/serverless/tools/v1/chat/completions"
    )


@pytest.mark.parametrize("base_url", [DEDICATED, CONTAINER, "https://api.friendli.ai/v1"])
def test_tools_url_refuses_a_non_serverless_base(base_url: str) -> None:
    # protocols/friendli.md §1.1: "There is no dedicated or container variant of the tool-assisted
    # endpoint"
    error = raises_on("tools", proto.tools_url, base_url)
    assert base_url in str(error)
    assert "/serverless/v1" in str(error)


def test_check_builtin_endpoint_returns_the_tools_url_on_serverless() -> None:
    assert proto.builtin_tools_url("serverless", SERVERLESS) == (
        "https://api.friendli.ai/serverless/tools/v1/chat/completions"
    )


@pytest.mark.parametrize("endpoint", ["dedicated", "container", None])
def test_check_builtin_endpoint_refuses_other_products(endpoint: str | None) -> None:
    # protocols/friendli.md §3: tool-assisted chat (built-in tools) is serverless only
    error = raises_on("tools", proto.builtin_tools_url, endpoint, SERVERLESS)
    assert "serverless endpoints only" in str(error)
    assert f"this is {endpoint}" in str(error)


# --------------------------------------------------------------------------- built-in tools


def test_builtin_tools_picks_server_run_tools_and_skips_functions() -> None:
    # protocols/friendli.md §3.1: built-in tools mix with ordinary function tools
    function = {"type": "function", "function": {"name": "log_result", "parameters": {}}}
    search = {"type": "web:search"}
    text = {"type": "file:text", "files": ["file-123"]}
    assert proto.builtin_tools([function, search, text]) == [search, text]
    assert proto.builtin_tools([function]) == []
    assert proto.builtin_tools(None) == []
    assert proto.builtin_tools([]) == []


@pytest.mark.parametrize(
    "tool",
    [
        # protocols/friendli.md §3.1 tools[] variants table, every built-in type
        {"type": "math:calculator"},
        {"type": "math:statistics"},
        {"type": "math:calendar"},
        {"type": "web:search"},
        {"type": "web:url"},
        {"type": "code:python-interpreter"},
        {"type": "file:text", "files": ["file-1"]},
        {"type": "linkup:search"},
    ],
)
def test_every_documented_builtin_tool_is_accepted(tool: dict) -> None:
    assert proto.builtin_tools([tool]) == [tool]


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "web:browse"},
        {"type": "retrieval"},
        {"name": "no_type_at_all"},
    ],
)
def test_unknown_builtin_tool_type_is_refused_listing_the_known_ones(tool: dict) -> None:
    error = raises_on("tools", proto.builtin_tools, [tool])
    assert repr(str(tool.get("type", ""))) in str(error)
    assert "math:calculator" in str(error)
    assert "web:search" in str(error)


@pytest.mark.parametrize("tool", [{"type": "file:text"}, {"type": "file:text", "files": []}])
def test_file_text_needs_a_file_id(tool: dict) -> None:
    # protocols/friendli.md §3.1: file:text takes files: [file_id] from the upload API
    error = raises_on("tools", proto.builtin_tools, [tool])
    assert "files=" in str(error)


# --------------------------------------------------------------------------- sampling ranges


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        # protocols/friendli.md §2.1 request fields (shared by completions, §4.1 "as chat")
        ("temperature", -0.1, ">= 0"),
        ("temperature", "hot", ">= 0"),
        ("top_p", 0, "(0, 1]"),
        ("top_p", 0.0, "(0, 1]"),
        ("top_p", 1.01, "(0, 1]"),
        ("top_k", -1, ">= 0"),
        ("top_k", 2.5, "integer"),
        ("min_p", -0.01, "[0, 1]"),
        ("min_p", 1.5, "[0, 1]"),
        ("frequency_penalty", -2.5, "[-2, 2]"),
        ("frequency_penalty", 2.01, "[-2, 2]"),
        ("presence_penalty", -3, "[-2, 2]"),
        ("presence_penalty", 2.5, "[-2, 2]"),
        ("repetition_penalty", 0, "> 0"),
        ("repetition_penalty", -1.0, "> 0"),
        ("n", 0, ">= 1"),
        ("n", 1.5, "integer"),
        ("max_tokens", 0, ">= 1"),
        ("max_tokens", 10.0, "integer"),
        ("min_tokens", -1, ">= 0"),
        # booleans are not numbers, whatever Python says
        ("temperature", True, ">= 0"),
        ("n", True, ">= 1"),
        ("max_tokens", True, ">= 1"),
    ],
)
def test_out_of_range_sampling_values_name_the_field(field: str, value: Any, rule: str) -> None:
    error = raises_on(field, proto.validate_sampling, {field: value})
    assert rule in str(error)
    assert repr(value) in str(error)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        # documented boundaries (protocols/friendli.md §2.1): temperature 0, top_p 1.0, top_k 0 =
        # off,
        # min_p 0 and 1, penalties at +-2, repetition_penalty just above 0
        {
            "temperature": 0,
            "top_p": 1.0,
            "top_k": 0,
            "min_p": 0,
            "frequency_penalty": -2,
            "presence_penalty": 2,
            "repetition_penalty": 0.01,
            "n": 1,
            "max_tokens": 1,
            "min_tokens": 0,
        },
        {"min_p": 1, "frequency_penalty": 2.0, "presence_penalty": -2.0, "top_p": 1e-9},
        # None means unset everywhere
        dict.fromkeys(("temperature", "top_p", "top_k", "n", "seed", "max_tokens")),
    ],
)
def test_valid_sampling_boundaries_pass(settings: dict) -> None:
    proto.validate_sampling(settings)
    proto.validate_chat(settings)


def test_seed_may_be_one_integer_or_one_per_generation() -> None:
    # protocols/friendli.md §2.1 seed: integer or array of integers; "list form = one seed per n
    # generation"
    proto.validate_sampling({"seed": 42})
    proto.validate_sampling({"seed": 0})
    proto.validate_sampling({"seed": [7]})
    proto.validate_sampling({"seed": [1, 2, 3], "n": 3})


@pytest.mark.parametrize(
    ("settings", "rule"),
    [
        ({"seed": [1, 2]}, "n=1"),  # n unset means 1
        ({"seed": [1, 2], "n": 3}, "n=3"),
        ({"seed": [], "n": 1}, "got 0"),
        ({"seed": [1, "2"], "n": 2}, "integers"),
        ({"seed": [1, True], "n": 2}, "integers"),
        ({"seed": [1.0]}, "integers"),
        ({"seed": "42"}, "integer or a list"),
        ({"seed": 4.2}, "integer or a list"),
        ({"seed": False}, "integer or a list"),
    ],
)
def test_bad_seed_names_the_field(settings: dict, rule: str) -> None:
    error = raises_on("seed", proto.validate_sampling, settings)
    assert rule in str(error)


# --------------------------------------------------------------------------- chat rules


@pytest.mark.parametrize(
    ("settings", "stream", "field", "rule"),
    [
        # protocols/friendli.md §2.1 top_logprobs: requires logprobs: true (also §2.8, §10.6)
        ({"top_logprobs": 3}, False, "top_logprobs", "requires logprobs=True"),
        ({"top_logprobs": 3, "logprobs": False}, False, "top_logprobs", "requires logprobs=True"),
        ({"top_logprobs": 0}, False, "top_logprobs", "requires logprobs=True"),
        ({"top_logprobs": 21, "logprobs": True}, False, "top_logprobs", "0..20"),
        ({"top_logprobs": -1, "logprobs": True}, False, "top_logprobs", "0..20"),
        ({"top_logprobs": 2.0, "logprobs": True}, False, "top_logprobs", "0..20"),
        # protocols/friendli.md §10.6: chat logprobs is a boolean; the integer form is for
        # completions
        ({"logprobs": 5}, False, "logprobs", "boolean"),
        ({"logprobs": 1}, False, "logprobs", "boolean"),
        # protocols/friendli.md §2.8 constraint summary: tools + response_format -> 422
        (
            {"tools": [{"type": "function"}], "response_format": {"type": "json_object"}},
            False,
            "response_format",
            "together with tools",
        ),
        # protocols/friendli.md §2.8: tools + min_tokens unsupported
        (
            {"tools": [{"type": "function"}], "min_tokens": 5},
            False,
            "min_tokens",
            "together with tools",
        ),
        # protocols/friendli.md §2.8: response_format + min_tokens unsupported
        (
            {"response_format": {"type": "json_object"}, "min_tokens": 5},
            False,
            "min_tokens",
            "together with response_format",
        ),
        # protocols/friendli.md §2.4: response_format types text, json_object, json_schema, regex
        ({"response_format": {"type": "xml"}}, False, "response_format", "'xml'"),
        ({"response_format": {}}, False, "response_format", "None"),
        ({"response_format": "json_object"}, False, "response_format", "None"),
        # protocols/friendli.md §2.4: regex carries schema: "<regex string>"
        ({"response_format": {"type": "regex"}}, False, "response_format", "schema=<regex"),
        (
            {"response_format": {"type": "regex", "schema": {"pattern": "a+"}}},
            False,
            "response_format",
            "schema=<regex",
        ),
        # the shared ranges run first
        ({"top_p": 0}, False, "top_p", "(0, 1]"),
    ],
)
def test_chat_rules_name_the_field(settings: dict, field: str, rule: str, *, stream: bool) -> None:
    error = raises_on(field, proto.validate_chat, settings)
    assert rule in str(error)


@pytest.mark.parametrize(
    ("settings", "stream"),
    [
        ({"logprobs": True, "top_logprobs": 20}, False),
        ({"logprobs": True, "top_logprobs": 0}, False),
        ({"logprobs": False}, False),
        ({"n": 3}, False),
        ({"n": 1}, True),
        # min_tokens 0 is the documented default (protocols/friendli.md §2.1) and is harmless with
        # tools
        ({"tools": [{"type": "function"}], "min_tokens": 0}, False),
        ({"tools": [{"type": "function"}], "tool_choice": "auto"}, True),
        ({"response_format": {"type": "text"}}, False),
        ({"response_format": {"type": "json_object"}}, True),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}, False),
        ({"response_format": {"type": "regex", "schema": "[0-9]{3}-[0-9]{4}"}}, False),
    ],
)
def test_valid_chat_settings_pass(settings: dict, *, stream: bool) -> None:
    proto.validate_chat(settings)  # streaming adds only the shared n rule (test_params.py)


# --------------------------------------------------------------------------- response_format


def test_json_schema_response_format_sends_only_name_and_schema() -> None:
    # protocols/friendli.md §2.4 caveat: SPEC's json_schema defines only schema; send schema and
    # optionally name
    schema = {"type": "object", "properties": {"dish": {"type": "string"}}}
    wire = proto.wire_response_format(
        {
            "type": "json_schema",
            "json_schema": {
                "name": "Dish",
                "description": "a dish",
                "strict": True,
                "schema": schema,
            },
        }
    )
    assert wire == {"type": "json_schema", "json_schema": {"schema": schema, "name": "Dish"}}


def test_json_schema_without_a_name_omits_it() -> None:
    schema = {"type": "object"}
    assert proto.wire_response_format(
        {"type": "json_schema", "json_schema": {"schema": schema, "strict": False}}
    ) == {"type": "json_schema", "json_schema": {"schema": schema}}
    assert proto.wire_response_format(
        {"type": "json_schema", "json_schema": {"name": "", "schema": schema}}
    ) == {"type": "json_schema", "json_schema": {"schema": schema}}


def test_json_schema_without_a_spec_sends_an_empty_schema() -> None:
    assert proto.wire_response_format({"type": "json_schema"}) == {
        "type": "json_schema",
        "json_schema": {"schema": {}},
    }


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "text"},
        {"type": "json_object"},
        {"type": "regex", "schema": "[0-9]{3}-[0-9]{4}"},
    ],
)
def test_other_response_formats_go_out_unchanged(response_format: dict) -> None:
    # protocols/friendli.md §2.4: text / json_object carry nothing else, regex carries schema
    wire = proto.wire_response_format(response_format)
    assert wire == response_format
    assert wire is not response_format  # a copy: the caller's dict is never shared


# --------------------------------------------------------------------------- tool choice


@pytest.mark.parametrize(
    ("tool_choice", "names", "wire"),
    [
        # protocols/friendli.md §9: True -> the named form for the single bound tool
        (True, ["get_weather"], {"type": "function", "function": {"name": "get_weather"}}),
        (True, ["a", "b"], "required"),
        # protocols/friendli.md §9: "required"/"any" -> "required"
        ("any", ["a", "b"], "required"),
        ("any", ["a"], "required"),
        ("required", ["a"], "required"),
        # protocols/friendli.md §2.3: none / auto pass through
        ("auto", ["a"], "auto"),
        ("none", ["a"], "none"),
        (False, ["a"], "none"),
        # protocols/friendli.md §2.3: a tool name becomes {"type": "function", "function": {"name":
        # ...}}
        ("b", ["a", "b"], {"type": "function", "function": {"name": "b"}}),
        (None, ["a"], None),
        (
            {"type": "function", "function": {"name": "a"}},
            ["a"],
            {"type": "function", "function": {"name": "a"}},
        ),
    ],
)
def test_friendli_tool_choice(tool_choice: Any, names: list[str], wire: Any) -> None:
    assert proto.friendli_tool_choice(tool_choice, names) == wire


@pytest.mark.parametrize("tool_choice", ["c", 3])
def test_friendli_tool_choice_refuses_unbound_or_odd_values(tool_choice: Any) -> None:
    error = raises_on("tool_choice", proto.friendli_tool_choice, tool_choice, ["a", "b"])
    assert repr(tool_choice) in str(error)


# --------------------------------------------------------------------------- completions


@pytest.mark.parametrize(
    ("settings", "stream", "field", "rule"),
    [
        # protocols/friendli.md §4.1: max_total_tokens is mutually exclusive with max_tokens
        (
            {"max_tokens": 10, "max_total_tokens": 100},
            False,
            "max_tokens, max_total_tokens",
            "set only one of max_tokens and max_total_tokens",
        ),
        # protocols/friendli.md §4.1: min_total_tokens is mutually exclusive with min_tokens
        (
            {"min_tokens": 1, "min_total_tokens": 10},
            False,
            "min_tokens, min_total_tokens",
            "set only one of min_tokens and min_total_tokens",
        ),
        # protocols/friendli.md §4.5: repetition penalties "should be greater than or equal to 1.0"
        ({"repetition_penalty": 0.9}, False, "repetition_penalty", ">= 1.0"),
        ({"encoder_repetition_penalty": 0.5}, False, "encoder_repetition_penalty", ">= 1.0"),
        ({"encoder_repetition_penalty": "1.2"}, False, "encoder_repetition_penalty", ">= 1.0"),
        # protocols/friendli.md §4.5: no_repeat_ngram "1 means that this mechanism is disabled"
        ({"no_repeat_ngram": 0}, False, "no_repeat_ngram", ">= 1"),
        ({"encoder_no_repeat_ngram": 0}, False, "encoder_no_repeat_ngram", ">= 1"),
        ({"no_repeat_ngram": 2.0}, False, "no_repeat_ngram", "integer"),
        # protocols/friendli.md §4.1: completions logprobs is an integer (not chat's boolean)
        ({"logprobs": True}, False, "logprobs", "integer"),
        ({"logprobs": 21}, False, "logprobs", "0..20"),
        ({"logprobs": -1}, False, "logprobs", "0..20"),
        ({"max_total_tokens": 0}, False, "max_total_tokens", ">= 1"),
        ({"min_total_tokens": -1}, False, "min_total_tokens", ">= 0"),
        ({"timeout_microseconds": 0}, False, "timeout_microseconds", ">= 1"),
        # protocols/friendli.md §4.1: min_tokens is unsupported with response_format
        (
            {"min_tokens": 3, "response_format": {"type": "json_object"}},
            False,
            "min_tokens",
            "together with response_format",
        ),
        # protocols/friendli.md §4.1: token_index_to_replace + embedding_to_replace go together
        (
            {"token_index_to_replace": [1]},
            False,
            "token_index_to_replace, embedding_to_replace",
            "go together",
        ),
        (
            {"embedding_to_replace": [0.1, 0.2]},
            False,
            "token_index_to_replace, embedding_to_replace",
            "go together",
        ),
        # protocols/friendli.md §4.5: early_stopping / length_penalty "Only allowed for beam search"
        ({"early_stopping": True}, False, "early_stopping", "set num_beams"),
        ({"length_penalty": 1.2}, False, "length_penalty", "set num_beams"),
        # protocols/friendli.md §4.5: num_beams "Numbers between 1 and 31 (both inclusive)"
        ({"num_beams": 0}, False, "num_beams", "1..31"),
        ({"num_beams": 32}, False, "num_beams", "1..31"),
        ({"num_beams": 2.0}, False, "num_beams", "1..31"),
        ({"num_beams": True}, False, "num_beams", "1..31"),
        # protocols/friendli.md §4.5: DETERMINISTIC, NAIVE_SAMPLING or STOCHASTIC
        (
            {"num_beams": 4, "beam_search_type": "GREEDY"},
            False,
            "beam_search_type",
            "DETERMINISTIC, STOCHASTIC, NAIVE_SAMPLING",
        ),
        # protocols/friendli.md §4.5, stream: "Not supported when using beam search"
        ({"num_beams": 4}, True, "num_beams, stream", "cannot stream"),
        # protocols/friendli.md §4.5, n: "Not supported when using beam search"
        ({"num_beams": 4, "n": 2}, False, "num_beams, n", "n must be 1"),
        # protocols/friendli.md §4.5, stop: "incompatible with beam search ...; use stop_tokens"
        ({"num_beams": 4, "stop": ["\n"]}, False, "num_beams, stop", "stop_tokens"),
        # protocols/friendli.md §4.5: DETERMINISTIC takes no top_k / top_p (the default type)
        ({"num_beams": 4, "top_k": 5}, False, "beam_search_type, top_k", "(top_k)"),
        (
            {"num_beams": 4, "beam_search_type": "DETERMINISTIC", "top_p": 0.9},
            False,
            "beam_search_type, top_p",
            "(top_p)",
        ),
        # shared ranges still apply to completions
        ({"top_k": -1}, False, "top_k", ">= 0"),
    ],
)
def test_completion_rules_name_the_fields(
    settings: dict, field: str, rule: str, *, stream: bool
) -> None:
    error = raises_on(field, proto.validate_completions, settings, stream=stream)
    assert rule in str(error)


@pytest.mark.parametrize(
    ("settings", "stream"),
    [
        ({"max_total_tokens": 100, "min_total_tokens": 10}, False),
        ({"max_tokens": 100, "min_tokens": 10}, True),
        ({"repetition_penalty": 1.0, "encoder_repetition_penalty": 1.5}, False),
        ({"no_repeat_ngram": 1, "encoder_no_repeat_ngram": 3}, False),
        ({"logprobs": 0}, False),
        ({"logprobs": 20}, False),
        ({"timeout_microseconds": 1}, False),
        ({"token_index_to_replace": [1], "embedding_to_replace": [0.1]}, False),
        # response_format is fine in completions without min_tokens (protocols/friendli.md §4.1)
        ({"response_format": {"type": "json_object"}, "min_tokens": 0}, False),
        # every beam type with the knobs that belong to beam search
        (
            {
                "num_beams": 31,
                "beam_search_type": "DETERMINISTIC",
                "early_stopping": True,
                "length_penalty": 0.8,
                "stop_tokens": [{"tokens": [2]}],
            },
            False,
        ),
        # protocols/friendli.md §4.5: sampling arguments are refused only for DETERMINISTIC
        ({"num_beams": 4, "beam_search_type": "STOCHASTIC", "top_k": 5, "top_p": 0.9}, False),
        ({"num_beams": 4, "beam_search_type": "NAIVE_SAMPLING", "top_k": 5}, False),
        # num_beams=1 read as no beam search (Hugging Face semantics, which the page quoted in
        # protocols/friendli.md §4.5 follows without saying it outright): it may stream, n / stop
        # are free
        ({"num_beams": 1, "n": 2, "stop": ["\n"]}, True),
        ({"num_beams": 4, "n": 1}, False),
    ],
)
def test_valid_completion_settings_pass(settings: dict, *, stream: bool) -> None:
    proto.validate_completions(settings, stream=stream)


def test_beam_search_type_without_num_beams_is_refused_not_silently_ignored() -> None:
    # protocols/friendli.md §4.5: beam_search_type "is ignored if num_beams is not provided". Sent
    # alone it would do nothing the user asked for, so it is refused, naming both.
    with pytest.raises(InvalidParameterError, match="num_beams") as info:
        proto.validate_completions({"beam_search_type": "STOCHASTIC"}, stream=False)
    assert "beam_search_type" in str(info.value)


def test_completion_generation_info_keeps_only_what_friendli_sent() -> None:
    # protocols/friendli.md §4.2: choices carry finish_reason, seed, tokens and logprobs (null when
    # not asked)
    choice = {
        "index": 0,
        "seed": 42,
        "text": "This is indeed a test",
        "tokens": [128000, 2028, 374],
        "finish_reason": "stop",
        "logprobs": None,
    }
    assert proto.completion_generation_info(choice) == {
        "finish_reason": "stop",
        "seed": 42,
        "tokens": [128000, 2028, 374],
    }
    logprobs = {"text_offset": [0], "token_logprobs": [-0.1], "tokens": ["a"], "top_logprobs": []}
    assert proto.completion_generation_info({"text": "a", "logprobs": logprobs}) == {
        "logprobs": logprobs
    }
    assert proto.completion_generation_info({"index": 0, "text": "x"}) == {}


# --------------------------------------------------------------------------- reasoning and media


def test_reasoning_efforts_are_the_sdk_enum() -> None:
    # friendli SDK 0.16.5 ServerlessChatCompletionBodyReasoningEffort (protocols/friendli.md §2.1)
    assert proto.REASONING_EFFORTS == (
        "minimal",
        "low",
        "medium",
        "high",
        "xhigh",
        "max",
        "ultracode",
    )


@pytest.mark.parametrize(
    ("settings", "field", "rule"),
    [
        ({"reasoning_effort": "huge"}, "reasoning_effort", "must be one of minimal, low"),
        ({"reasoning_effort": 3}, "reasoning_effort", "must be one of"),
        ({"reasoning_effort": ["high"]}, "reasoning_effort", "must be one of"),
        ({"reasoning_budget": 0}, "reasoning_budget", "positive integer"),
        ({"reasoning_budget": 1.5}, "reasoning_budget", "positive integer"),
        ({"reasoning_budget": True}, "reasoning_budget", "positive integer"),
        ({"parse_reasoning": "yes"}, "parse_reasoning", "must be a boolean"),
        ({"include_reasoning": 1}, "include_reasoning", "must be a boolean"),
    ],
)
def test_bad_reasoning_fields_name_the_field(settings: dict, field: str, rule: str) -> None:
    error = raises_on(field, proto.validate_chat, settings)
    assert rule in str(error)


@pytest.mark.parametrize("effort", proto.REASONING_EFFORTS)
def test_every_reasoning_effort_and_valid_reasoning_fields_pass(effort: str) -> None:
    proto.validate_chat(
        {
            "reasoning_effort": effort,
            "reasoning_budget": 1,
            "parse_reasoning": False,
            "include_reasoning": True,
        }
    )


def image_message(kind: str = "image_url") -> list[dict]:
    return [
        {"role": "system", "content": "s"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "?"}, {"type": kind, kind: {"url": "u"}}],
        },
    ]


@pytest.mark.parametrize("model", ["google/gemma-4-31B-it", "zai-org/glm-5.3-flash"])
def test_vision_models_take_images(model: str) -> None:
    proto.check_media(image_message(), model)


def test_glm_flash_takes_video_but_gemma_does_not() -> None:
    # Profiles: GLM-5.3-Flash input_modalities=[text,image,video]; gemma-4 text, image.
    proto.check_media(image_message("video_url"), "zai-org/GLM-5.3-Flash")
    error = raises_on(
        "messages[1].content[1]",
        proto.check_media,
        image_message("video_url"),
        "google/gemma-4-31B-it",
    )
    assert "does not accept video input" in str(error)


@pytest.mark.parametrize(("kind", "what"), [("image_url", "image"), ("audio_url", "audio")])
def test_a_documented_text_model_refuses_media_naming_the_part(kind: str, what: str) -> None:
    error = raises_on(
        "messages[1].content[1]",
        proto.check_media,
        image_message(kind),
        "meta-llama-3.1-8b-instruct",
    )
    assert f"'meta-llama-3.1-8b-instruct' does not accept {what} input" in str(error)
    if kind == "image_url":
        assert "google/gemma-4-31B-it" in str(error)  # names the models that do
    else:
        assert "none documented" in str(error)


@pytest.mark.parametrize("model", ["my-endpoint-id", "ep-123:my-adapter", "", None])
def test_unknown_ids_are_the_users_own_deployments_and_are_not_checked(model: str | None) -> None:
    proto.check_media(image_message(), model)
    proto.check_media(image_message("audio_url"), model)


def test_text_messages_pass_on_any_model() -> None:
    proto.check_media([{"role": "user", "content": "hi"}], "meta-llama-3.1-8b-instruct")

"""Secrets: key cleaning, URL redaction, and scrubbing of what the server sends."""

from __future__ import annotations

import gc
import json
import weakref
from urllib.parse import quote, quote_plus

import httpx
import pytest
from langchain_core.load import dumps, loads
from pydantic import SecretStr, ValidationError

from langchain_ffm_friendli import (
    FFMLLM,
    ChatFFM,
    ChatFriendli,
    ChatMonsterAPI,
    FFMEmbeddings,
    FriendliLLM,
    MonsterAPILLM,
)
from langchain_ffm_friendli._secrets import (
    Redactor,
    api_key_problem,
    clean_api_key,
    redact_url,
    split_userinfo,
)
from langchain_ffm_friendli._transport import HTTPRequest, Transport
from langchain_ffm_friendli.errors import APIConnectionError, InvalidParameterError

KEY = "sk-Unit-Test-Key-0123456789abcdef"
CLASSES = [
    (ChatFFM, "FFM_API_KEY"),
    (FFMLLM, "FFM_API_KEY"),
    (FFMEmbeddings, "FFM_API_KEY"),
    (ChatFriendli, "FRIENDLI_TOKEN"),
    (FriendliLLM, "FRIENDLI_TOKEN"),
    (ChatMonsterAPI, "MONSTER_API_KEY"),
    (MonsterAPILLM, "MONSTER_API_KEY"),
]
CLASS_PARAMS = [pytest.param(c, env, id=c.__name__) for c, env in CLASSES]


@pytest.mark.parametrize("raw", [f"{KEY}\n", f"{KEY}\r\n", f"  {KEY}\t", f"\n{KEY}"])
@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_surrounding_whitespace_is_stripped_from_passed_and_env_keys(
    cls: type, env: str, raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cls(model="m", api_key=raw).api_key.get_secret_value() == KEY
    assert cls(model="m", api_key=SecretStr(raw)).api_key.get_secret_value() == KEY
    monkeypatch.setenv(env, raw)
    assert cls(model="m").api_key.get_secret_value() == KEY


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (f"{KEY[:6]}\x07{KEY[6:]}", "control character at position 6"),
        (f"{KEY[:5]}\n{KEY[5:]}", "control character at position 5"),
        (f"{KEY}é", f"non-ASCII character at position {len(KEY)}"),
        (f"{KEY[:3]}\u200b{KEY[3:]}", "non-ASCII character at position 3"),
    ],
)
@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_a_key_that_cannot_be_a_header_fails_at_init_naming_the_field_not_the_key(
    cls: type, env: str, bad: str, problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValidationError) as passed:
        cls(model="m", api_key=bad)
    text = str(passed.value)
    assert "api_key" in text
    assert env in text
    assert problem in text
    assert KEY[:12] not in text
    assert KEY[-12:] not in text

    monkeypatch.setenv(env, bad)
    with pytest.raises(ValidationError) as from_env:
        cls(model="m")
    assert f"the {env} environment variable" in str(from_env.value)
    assert KEY[-12:] not in str(from_env.value)


@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_validation_errors_never_quote_the_init_arguments(cls: type, env: str) -> None:
    with pytest.raises(ValidationError) as info:
        cls(api_key=KEY)  # model missing: pydantic would echo the whole input
    assert "model" in str(info.value)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


def test_a_key_assigned_after_init_is_checked_before_sending() -> None:
    llm = ChatFFM(model="m", api_key=KEY)
    llm.api_key = SecretStr(f"{KEY}\n")
    assert llm._secret() == KEY
    llm.api_key = SecretStr(f"{KEY}\x00")
    with pytest.raises(InvalidParameterError, match="api_key") as info:
        llm._secret()
    assert KEY not in str(info.value)


def test_a_blank_key_counts_as_missing() -> None:
    assert ChatFFM(model="m", api_key=" \n").api_key is None


def test_key_helpers() -> None:
    assert clean_api_key(f" {KEY}\r\n") == KEY
    assert api_key_problem(KEY) is None
    assert api_key_problem("ab\x7fc") == "has a control character at position 2"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pa55@host:8080/api", "http://user:***@host:8080/api"),
        ("https://user:p%40ss@gw.example/v1?x=1", "https://user:***@gw.example/v1?x=1"),
        ("http://user@host/api", "http://user@host/api"),
        ("http://host/api", "http://host/api"),
        ("http://u:pw@[::1]:9/api", "http://u:***@[::1]:9/api"),
    ],
)
def test_redact_url_masks_only_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_split_userinfo_gives_the_url_without_credentials() -> None:
    assert split_userinfo("http://us%40r:p%3Aw@h:1/a?b=c") == ("http://h:1/a?b=c", ("us@r", "p:w"))
    assert split_userinfo("http://h/a") == ("http://h/a", None)


@pytest.mark.parametrize(("cls", "env"), CLASS_PARAMS)
def test_repr_masks_a_base_url_password(cls: type, env: str) -> None:
    obj = cls(model="m", api_key=KEY, base_url="http://user:hunter2pw@gw.local/api")
    assert "hunter2pw" not in repr(obj)
    assert "user:***@gw.local" in repr(obj)
    assert "hunter2pw" in obj.transport.secrets  # and masked in errors


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize(
    "form",
    [
        lambda k: k,
        lambda k: json.dumps(k)[1:-1],
        lambda k: json.dumps(json.dumps(k)[1:-1])[1:-1],  # escaped twice (JSON in JSON)
        lambda k: json.dumps(k, ensure_ascii=True)[1:-1].replace("k", "\\u006b"),
        lambda k: json.dumps(k)[1:-1].replace("/", "\\/"),
        quote,
        lambda k: quote(k).lower(),
        quote_plus,
        lambda k: quote(k, safe=""),
    ],
    ids=[
        "raw",
        "json",
        "json-twice",
        "unicode-escape",
        "slash-escape",
        "url",
        "url-lower",
        "url-plus",
        "url-all",
    ],
)
def test_the_redactor_masks_a_secret_in_every_encoding_a_server_may_echo(form: object) -> None:
    key = 'sk-"q"/\\key 9é'
    encoded = form(key)  # type: ignore[operator]
    masked = Redactor([key]).text(f"before {encoded} after")
    assert masked == "before *** after"


def test_the_redactor_masks_the_longest_secret_first_and_leaves_other_text() -> None:
    redactor = Redactor(["abc", "abcdef", ""])
    assert redactor.text("x abcdef y abc z") == "x *** y *** z"
    assert Redactor([]).text("anything abc") == "anything abc"
    assert redactor.with_secrets(["abc"]) is redactor
    assert redactor.with_secrets(["zz"]).text("zz abc") == "*** ***"


def test_a_masked_error_keeps_no_secret_anywhere_along_its_chain() -> None:
    key = "sk-chain-0123"
    try:
        try:
            raise httpx.ConnectError(f"refused {key}")
        except httpx.ConnectError as exc:
            raise APIConnectionError(f"cannot reach: {key}", provider="p") from exc
    except APIConnectionError as error:
        caught = error
    caught.partial_text = f"the answer said {key}"
    Redactor([key]).exception(caught)
    assert key not in f"{caught} {caught!r} {caught.args} {caught.partial_text}"
    assert caught.__cause__ is None  # the httpx error (its request, its headers) is cut off
    assert caught.__context__ is None
    assert "***" in caught.message


def test_errors_from_one_model_are_masked_of_its_key_only_and_no_key_outlives_its_model() -> None:
    first = ChatFFM(model="m", api_key="sk-first-tenant-key-000")
    second = ChatFFM(model="m", api_key="sk-second-tenant-key-111")
    text = "echo sk-first-tenant-key-000 and sk-second-tenant-key-111"
    request = HTTPRequest(url="http://h/x", headers={}, body={})
    # No process-wide registry: each transport masks its own configuration's key.
    assert first.transport.redactor(request).text(text) == "echo *** and sk-second-tenant-key-111"
    transport = weakref.ref(first.transport)
    del first
    gc.collect()
    assert transport() is None
    assert second.transport.redactor(request).text(text) == "echo sk-first-tenant-key-000 and ***"


def test_a_calls_private_headers_are_masked_with_the_configuration_secrets() -> None:
    transport = Transport(provider="p", timeout=httpx.Timeout(1.0), secrets=("sk-k",))
    request = HTTPRequest(
        url="http://h/x",
        headers={"X-Gateway": "gw-secret-1", "X-Public": "visible"},
        body={},
        private=frozenset({"x-gateway"}),
    )
    assert transport.redactor(request).text("sk-k gw-secret-1 visible") == "*** *** visible"


@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli, ChatMonsterAPI])
def test_serialized_model_holds_no_key_and_no_url_password(cls: type) -> None:
    model = cls(model="m", api_key="sk-serialize-me", base_url="http://gw:pw-serialize@h/v1")
    text = dumps(model)
    assert "sk-serialize-me" not in text
    assert "pw-serialize" not in text
    assert cls.api_key_env in text  # a reference the loader resolves from the environment


@pytest.mark.parametrize(
    ("endpoint", "variable"),
    [("dedicated", "FRIENDLI_DEDICATED_BASE_URL"), ("container", "FRIENDLI_CONTAINER_BASE_URL")],
)
def test_a_friendli_endpoint_url_with_a_password_loads_back_from_either_variable(
    endpoint: str, variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One reference (``FRIENDLI_BASE_URL``) for every endpoint; where the loader is not given it,
    the loaded model reads the endpoint's own variable, as a freshly built one would."""
    url = "http://gw:pw-only@h/v1"
    monkeypatch.setenv(variable, url)
    model = ChatFriendli(model="m", api_key=KEY, endpoint=endpoint)
    assert model.base_url == url
    text = dumps(model)
    assert "pw-only" not in text
    assert '"id": ["FRIENDLI_BASE_URL"]' in text
    namespaces = ["langchain_ffm_friendli"]
    keys = {"FRIENDLI_TOKEN": KEY}
    loaded = loads(
        text, allowed_objects=[ChatFriendli], secrets_map=keys, valid_namespaces=namespaces
    )
    assert loaded.base_url == url
    monkeypatch.delenv(variable)
    keys["FRIENDLI_BASE_URL"] = "http://other:pw-2@g/v1"
    loaded = loads(
        text, allowed_objects=[ChatFriendli], secrets_map=keys, valid_namespaces=namespaces
    )
    assert (loaded.base_url, loaded.endpoint) == ("http://other:pw-2@g/v1", endpoint)

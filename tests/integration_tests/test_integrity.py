"""What the server says arrives intact, and no secret leaves (issue 22), over real sockets.

Answers are the user's data: whatever the key (self-hosted and OpenAI-compatible
setups use placeholders such as vLLM's ``EMPTY``), text, chunks, tool-call
arguments and metadata arrive byte for byte. Masking happens only where a secret
could leak: errors (along their whole chain, and pickled), log records, reprs and
dumps. Credentials never follow a redirect to another origin; URLs and headers
that cannot be sent fail at construction, naming the field; requests say who
sends them and carry per-call headers; the server's request id reaches the user.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import logging
import multiprocessing
import os
import pickle
import ssl
import subprocess
import sys
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from langchain_core.load import dumpd, dumps, load
from langchain_core.messages import AIMessageChunk

from langchain_ffm_friendli import FFMLLM, ChatFFM, ChatFriendli, __version__, errors
from langchain_ffm_friendli.testing import Emulator, Fault, Reply, ToolCall

from ._hostile import Conn, Gateway, RawServer, ScriptServer, http_response
from ._reliability import TARGET_PARAMS, TARGETS, Target, call, make

PLACEHOLDER_KEYS = ["EMPTY", "none", "null", "test", "ok", "sk-no-key-required"]
SECRET = "sk-Int3grity-Key/0123+abc"
FRIENDLI = "meta-llama-3.1-8b-instruct"
FFM = "llama3.3-ffm-70b-32k-chat"


def _answer(key: str) -> str:
    # Words that contain each placeholder, the key itself, and JSON words (null).
    return f"the test key is {key}; none of the tokens are null, ok? EMPTY test {{}}"


def _walk(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    node: BaseException | None = error
    while node is not None and node not in chain:
        chain.append(node)
        node = node.__cause__ or node.__context__
    return chain


def _texts(error: BaseException) -> list[str]:
    """Every text an error shows, logs, carries or pickles into, along its chain."""
    texts = [repr(pickle.dumps(error))]
    for node in _walk(error):
        texts += [str(node), repr(node), repr(node.args)]
        texts += [repr(v) for v in vars(node).values()]
    return texts


def _secret_forms(secret: str) -> list[str]:
    return [secret, json.dumps(secret)[1:-1], quote(secret, safe="")]


def _leaks(texts: list[str], secrets: list[str]) -> list[str]:
    forms = [form for s in secrets for form in _secret_forms(s)]
    return [t[:200] for t in texts if any(f in t for f in forms)]


# --------------------------------------------------------------------------- answers intact


@pytest.mark.parametrize("key", PLACEHOLDER_KEYS)
@pytest.mark.parametrize("target", TARGET_PARAMS)
async def test_an_answer_arrives_byte_for_byte_whatever_the_key(target: Target, key: str) -> None:
    with Emulator(api_key=key) as emu:
        obj, _ = make(target, emu)
        for op in target.ops:
            if target.kind == "embeddings":
                expected = await call(obj, op)
                assert expected == await call(obj, op)  # vectors unchanged by any masking
                continue
            emu.queue(Reply(text=_answer(key)))
            assert await call(obj, op) == _answer(key), op


@pytest.mark.parametrize("key", PLACEHOLDER_KEYS)
@pytest.mark.parametrize("cls", [ChatFFM, ChatFriendli])
async def test_tool_arguments_and_metadata_arrive_unchanged_whatever_the_key(
    cls: type, key: str
) -> None:
    args = {"query": f"none of the tokens {key} null", "note": key}

    def search(query: str, note: str) -> str:
        """Search the web."""
        return query + note

    with Emulator(api_key=key) as emu:
        base = emu.ffm_base_url if cls is ChatFFM else emu.friendli_base_url
        model = FFM if cls is ChatFFM else FRIENDLI
        llm = cls(model=model, api_key=key, base_url=base).bind_tools([search])
        emu.queue(Reply(tool_calls=[ToolCall("search", args)]))
        assert llm.invoke("find").tool_calls[0]["args"] == args
        emu.queue(Reply(tool_calls=[ToolCall("search", args)]))
        merged: AIMessageChunk | None = None
        async for chunk in llm.astream("find"):
            merged = chunk if merged is None else merged + chunk
        assert merged is not None
        assert merged.tool_calls[0]["args"] == args
        assert merged.response_metadata["model_name"] == model


# --------------------------------------------------------------------------- no secret leaves


async def test_secrets_in_every_encoding_stay_out_of_errors_logs_and_pickles(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hostile gateway echoes every credential back, in every form, in every place."""
    caplog.set_level(logging.DEBUG)
    gw_key = "gw-TOPSECRET-9"
    call_key = "call-SECRET-77"
    password = "pa55-w0rd"
    basic = base64.b64encode(f"user:{password}".encode()).decode()
    secrets = [SECRET, gw_key, call_key, password, basic]
    echo = (
        f"key {SECRET} json {json.dumps(SECRET)} url {quote(SECRET, safe='')} "
        f"gw {gw_key} call {call_key} basic {basic} pw {password} "
        f"unicode {SECRET.replace('k', chr(92) + 'u006b')}"
    )

    def script(conn: Conn) -> None:
        if b"text/event-stream" in conn.head:
            conn.start(x_request_id=f"rid-{SECRET}")
            conn.send(b'data: {"generated_text": "Hi", "finish_reason": null}\n\n')
            record = json.dumps({"error": {"message": echo}, "status_code": 500})
            conn.send(f"data: {record}\n\n".encode())
            conn.end()
            return
        body = json.dumps({"detail": echo}).encode()
        headers = {"x-request-id": f"rid-{SECRET}", "x-echo": echo}
        conn.sock.sendall(http_response(body, status="503 Unavailable", headers=headers))

    texts: list[str] = []
    with ScriptServer(script) as server:
        url = server.url.replace("http://", f"http://user:{password}@") + "/api"
        llm = FFMLLM(
            model=FFM,
            api_key=SECRET,
            base_url=url,
            default_headers={"X-Gateway-Key": gw_key},
            max_retries=1,
        )
        llm.transport.sleep = lambda _s: None
        for op in ("invoke", "stream"):
            with pytest.raises(errors.ProviderError) as info:
                if op == "invoke":
                    llm.invoke("hi", extra_headers={"X-Call-Key": call_key})
                else:
                    list(llm.stream("hi", extra_headers={"X-Call-Key": call_key}))
            texts += _texts(info.value)
            assert info.value.request_id == "rid-***"
        assert any(b"x-call-key: call-secret-77" in h.lower() for h in server.heads)
        texts += [repr(llm), str(llm.model_dump()), llm.model_dump_json(), dumps(llm)]
    ours = [r for r in caplog.records if r.name.startswith("langchain_ffm_friendli")]
    texts += [record.getMessage() for record in ours]
    assert any("retrying" in r.getMessage() for r in ours)
    assert _leaks(texts, secrets) == []


def test_a_header_value_that_cannot_be_sent_is_named_by_its_header_not_quoted() -> None:
    with pytest.raises(errors.InvalidParameterError) as info:
        ChatFriendli(model=FRIENDLI, api_key=SECRET, default_headers={"X-Gw": "gw-TOPSECRET-9\n"})
    assert info.value.field == "default_headers"
    assert "'X-Gw'" in str(info.value)
    assert "control character at position 14" in str(info.value)
    assert _leaks(_texts(info.value), ["gw-TOPSECRET-9"]) == []


async def test_per_call_headers_are_checked_before_any_request_and_sent_on_that_call_only(
    emu: Emulator,
) -> None:
    llm = ChatFriendli(model=FRIENDLI, api_key=emu.api_key, base_url=emu.friendli_base_url)
    with pytest.raises(errors.InvalidParameterError, match="extra_headers") as info:
        llm.invoke("hi", extra_headers={"X-Trace": "bad\r\nvalue-SECRET"})
    assert "SECRET" not in str(info.value)
    with pytest.raises(errors.InvalidParameterError, match="extra_headers"):
        await llm.ainvoke("hi", extra_headers={"Bad Name": "v"})
    assert emu.requests == []
    llm.invoke("hi", extra_headers={"X-Trace": "t-1"})
    async for _ in llm.astream("hi", extra_headers={"X-Trace": "t-2"}):
        pass
    llm.invoke("hi")
    assert [r.headers.get("x-trace") for r in emu.requests] == ["t-1", "t-2", None]


@pytest.mark.parametrize("target", TARGET_PARAMS)
def test_the_user_agent_names_the_package_and_default_headers_override_it(
    target: Target, emu: Emulator
) -> None:
    obj, _ = make(target, emu)
    ours, _ = make(target, emu, default_headers={"User-Agent": "my-app/2"})
    op = target.ops[0]
    for instance in (obj, ours):
        if op == "embed_documents":
            instance.embed_documents(["x"])
        else:
            instance.invoke("hi")
    first, second = (r.headers["user-agent"] for r in emu.requests)
    assert first.startswith(f"langchain-ffm-friendli/{__version__} python-httpx/")
    assert second == "my-app/2"


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    ("cls", "header"), [(ChatFFM, "x-api-key"), (ChatFriendli, "authorization")]
)
def test_credentials_never_follow_a_redirect_to_another_origin(
    emu: Emulator, cls: type, header: str
) -> None:
    """httpx strips only Authorization on a cross-origin redirect; FFM's key is X-API-KEY."""
    model = FFM if cls is ChatFFM else FRIENDLI
    base = emu.ffm_base_url if cls is ChatFFM else emu.friendli_base_url
    path = base.removeprefix(emu.url)
    target = base.replace("127.0.0.1", "localhost")  # another origin, the same server
    suffix = "/models/conversation" if cls is ChatFFM else "/chat/completions"
    with (
        Gateway(emu.url, redirect=lambda _path: (307, target + suffix)) as gateway,
        httpx.Client(follow_redirects=True) as client,
    ):
        llm = cls(
            model=model,
            api_key=emu.api_key,
            base_url=gateway.url + path,
            default_headers={"X-Gateway-Key": "gw-secret"},
            http_client=client,
        )
        with pytest.raises(errors.AuthenticationError):  # the other origin saw no key
            llm.invoke("hi")
    assert gateway.seen[0][header]  # sent to base_url's origin
    (followed,) = emu.requests
    assert header not in followed.headers
    assert "x-gateway-key" not in followed.headers
    assert followed.headers["content-type"] == "application/json"  # the same POST, followed


def test_a_same_origin_redirect_keeps_its_credentials_with_a_following_client(
    emu: Emulator,
) -> None:
    path = emu.friendli_base_url.removeprefix(emu.url)

    def moved(request_path: str) -> tuple[int, str] | None:
        return (308, request_path.removeprefix("/old")) if request_path.startswith("/old") else None

    with Gateway(emu.url, redirect=moved) as gateway, httpx.Client(follow_redirects=True) as client:
        base = f"{gateway.url}/old{path}"
        llm = ChatFriendli(model=FRIENDLI, api_key=emu.api_key, base_url=base, http_client=client)
        assert llm.invoke("hi").content
    assert [seen["authorization"] for seen in gateway.seen] == [f"Bearer {emu.api_key}"] * 2
    assert emu.requests[0].headers["authorization"] == f"Bearer {emu.api_key}"


@pytest.mark.parametrize("op", ["invoke", "astream"])
async def test_with_the_default_client_a_redirect_is_a_typed_error_naming_the_location(
    op: str,
) -> None:
    location = "https://admin:hunter2@elsewhere.example/v1/chat/completions"
    with Gateway("http://127.0.0.1:9", redirect=lambda _path: (307, location)) as gateway:
        llm = ChatFriendli(model=FRIENDLI, api_key=SECRET, base_url=gateway.url + "/v1")
        with pytest.raises(errors.APIError) as info:
            await call(llm, op)
    assert info.value.status_code == 307
    assert "https://admin:***@elsewhere.example/v1/chat/completions" in str(info.value)
    assert _leaks(_texts(info.value), ["hunter2", SECRET]) == []
    assert len(gateway.seen) == 1  # not followed


# --------------------------------------------------------------------------- base_url


@pytest.mark.parametrize(
    "url",
    [
        "http://xn--.invalid/v1",
        "http://a..b/v1",
        "http://" + "a" * 64 + ".example/v1",
        "http:///v1",
        "ftp://host/v1",
        "http://host:99999/v1",
        "http://user:pw-SECRET@exa mple.com/v1",
    ],
)
@pytest.mark.parametrize("target", TARGET_PARAMS)
def test_a_base_url_that_cannot_be_sent_to_fails_at_construction(target: Target, url: str) -> None:
    with pytest.raises(errors.InvalidParameterError) as info:
        target.cls(model=target.model, api_key=SECRET, base_url=url)
    assert info.value.field == "base_url"
    assert _leaks(_texts(info.value), ["pw-SECRET", SECRET]) == []


# --------------------------------------------------------------------------- request ids


@pytest.mark.parametrize("target", [t for t in TARGETS if t.kind != "embeddings"], ids=str)
async def test_the_servers_request_id_reaches_answers_and_every_error(
    emu: Emulator, target: Target
) -> None:
    ids = iter(f"req-{n}" for n in range(100))
    with Gateway(emu.url, add_headers=lambda _h: {"x-request-id": next(ids)}) as gateway:
        obj, _ = make(target, emu, base_url=target.base_url(emu).replace(emu.url, gateway.url))
        # invoke: on the answer
        answer = obj.invoke("hi")
        if target.kind == "chat":
            assert answer.response_metadata["request_id"] == "req-0"
            merged = None
            async for chunk in obj.astream("hi"):
                merged = chunk if merged is None else merged + chunk
            assert merged.response_metadata["request_id"] == "req-1"  # once, not repeated
        else:
            result = obj.generate(["hi"])
            assert result.generations[0][0].generation_info["request_id"] == "req-1"
        # an HTTP error, an in-stream error and a broken stream
        emu.queue(Fault.status(400, body={"detail": "bad"}))
        with pytest.raises(errors.InvalidRequestError) as status:
            obj.invoke("hi")
        assert status.value.request_id == "req-2"
        emu.queue(Fault.error_record(after=1, message="boom"))
        with pytest.raises(errors.ProviderError) as in_stream:
            list(obj.stream("hi"))
        assert in_stream.value.request_id == "req-3"
        emu.queue(Fault.disconnect(after=1))
        with pytest.raises(errors.ProviderError) as broken:
            async for _ in obj.astream("hi"):
                pass
        assert broken.value.request_id == "req-4"


# --------------------------------------------------------------------------- bounded bodies


@pytest.mark.parametrize("status", ["200 OK", "500 Internal Server Error"])
def test_an_error_keeps_an_excerpt_of_a_huge_bad_body_never_the_whole_body(status: str) -> None:
    huge = b"<html>" + b"x" * (50 * 1024 * 1024) + b"</html>"
    with RawServer(http_response(huge, status=status, content_type="text/html")) as server:
        llm = ChatFFM(model=FFM, api_key=SECRET, base_url=server.url + "/api", max_retries=0)
        with pytest.raises(errors.ProviderError) as info:
            llm.invoke("hi")
    kept = sum(
        len(t) for t in (info.value.message, info.value.detail or "", info.value.raw_record or "")
    )
    assert kept * 4 <= 64 * 1024
    # Nothing else holds the body: no chained error, no frame of ours keeps it alive.
    size = len(pickle.dumps(info.value))
    assert size < 64 * 1024
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    ours = [
        tb
        for tb in _tracebacks(info.value)
        if "langchain_ffm_friendli" in tb.tb_frame.f_code.co_filename
    ]
    assert ours
    for tb in ours:
        held = [v for v in tb.tb_frame.f_locals.values() if isinstance(v, bytes | str)]
        assert all(len(v) < 1_000_000 for v in held)


def _tracebacks(error: BaseException) -> list[Any]:
    found, tb = [], error.__traceback__
    while tb is not None:
        found.append(tb)
        tb = tb.tb_next
    return found


# ---------------------------------------------------------------- pickling across processes


def _fail_in_worker(base_url: str, key: str, kind: str) -> None:
    llm = ChatFriendli(model=FRIENDLI, api_key=key, base_url=base_url, max_retries=0)
    if kind == "param":
        llm.invoke("hi", max_tokens=-1)
    else:
        llm.invoke("hi")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("param", errors.InvalidParameterError), ("auth", errors.AuthenticationError)],
)
def test_a_workers_error_arrives_in_the_parent_as_the_same_typed_error(
    emu: Emulator, kind: str, expected: type
) -> None:
    """multiprocessing (as Celery and Ray) sends the worker's exception back by pickle."""
    key = emu.api_key if kind == "param" else "sk-wrong-key"
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        future = pool.submit(_fail_in_worker, emu.friendli_base_url, key, kind)
        with pytest.raises(expected) as info:
            future.result(timeout=120)
    error = info.value
    assert error.provider == "friendli"
    if kind == "param":
        assert error.field == "max_tokens"
    else:
        assert error.status_code == 401
        assert "sk-wrong-key" not in str(error)


# --------------------------------------------------------------------------- serialization


def test_header_values_and_url_passwords_are_in_no_dump_and_the_rest_loads_back() -> None:
    llm = ChatFriendli(
        model=FRIENDLI,
        api_key=SECRET,
        base_url="http://user:pw-SECRET@gw.example/v1",
        default_headers={"X-Gateway-Key": "gw-9"},
        temperature=0.5,
    )
    texts = [dumps(llm), str(llm.model_dump()), llm.model_dump_json(), repr(llm), str(llm)]
    assert _leaks(texts, [SECRET, "gw-9", "pw-SECRET"]) == []
    restored = load(
        dumpd(llm),
        secrets_map={"FRIENDLI_TOKEN": SECRET, "FRIENDLI_BASE_URL": llm.base_url},
        valid_namespaces=["langchain_ffm_friendli"],
        allowed_objects=[ChatFriendli],
    )
    assert restored.temperature == 0.5
    assert restored.base_url == llm.base_url
    assert restored.default_headers is None  # never serialized: passed again after loading


# --------------------------------------------------------------------------- TLS and a private CA

_TLS_CALL = """
import sys
from langchain_ffm_friendli import ChatFriendli
from langchain_ffm_friendli.errors import APIConnectionError
llm = ChatFriendli(model="{model}", api_key="{key}", base_url="{url}", max_retries=0)
try:
    print("ANSWER", llm.invoke("hi").content)
except APIConnectionError as err:
    print("REFUSED", err)
"""


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter with exactly ``env`` (a new process, a new TLS setup)."""
    command = [sys.executable, "-c", code]
    return subprocess.run(
        command, env=env, check=False, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def private_ca() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


def test_a_private_ca_is_trusted_through_ssl_cert_file(
    module_emu: Emulator, private_ca: Any, tmp_path: Any
) -> None:
    """A corporate gateway's CA: the pooled clients read SSL_CERT_FILE, nothing else is needed."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    private_ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "corp-ca.pem"
    private_ca.cert_pem.write_to_path(str(ca_file))
    path = module_emu.friendli_base_url.removeprefix(module_emu.url)
    with Gateway(module_emu.url, tls=server_context) as gateway:
        code = _TLS_CALL.format(model=FRIENDLI, key=module_emu.api_key, url=gateway.url + path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SSL_CERT")}
        trusted = _python(code, {**env, "SSL_CERT_FILE": str(ca_file)})
        untrusted = _python(code, env)
    assert trusted.stdout.startswith("ANSWER "), trusted.stderr
    assert untrusted.stdout.startswith("REFUSED "), untrusted.stderr
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout


async def test_each_injected_client_serves_only_its_own_mode(
    module_emu: Emulator, private_ca: Any
) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    private_ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    private_ca.configure_trust(client_context)
    path = module_emu.friendli_base_url.removeprefix(module_emu.url)
    with Gateway(module_emu.url, tls=server_context) as gateway:
        base = gateway.url + path
        sync_only = ChatFriendli(
            model=FRIENDLI,
            api_key=module_emu.api_key,
            base_url=base,
            max_retries=0,
            http_client=httpx.Client(verify=client_context),
        )
        assert sync_only.invoke("hi").content
        with pytest.raises(errors.APIConnectionError):  # async calls use the pooled client
            await sync_only.ainvoke("hi")
        both = sync_only.model_copy(
            update={"http_async_client": httpx.AsyncClient(verify=client_context)}
        )
        assert (await both.ainvoke("hi")).content

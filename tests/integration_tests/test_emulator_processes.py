"""The standalone emulator scripted across real processes, as docs/emulator.md shows it.

One ``python -m langchain_ffm_friendli.testing`` server per module; the variables it
prints are exported into other processes (a script, a FastAPI app under uvicorn, a
pytest run using the plugin), and its control API is driven with the exact curl lines
and files of the docs (ports rewritten: the docs use 8787 and 8000, the tests free ones).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_ffm_friendli.testing import EmulatorClient

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "emulator.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PRINTED = (
    "FFM_BASE_URL",
    "FFM_API_KEY",
    "FRIENDLI_BASE_URL",
    "FRIENDLI_DEDICATED_BASE_URL",
    "FRIENDLI_CONTAINER_BASE_URL",
    "FRIENDLI_TOKEN",
    "MONSTER_API_BASE",
    "MONSTER_API_KEY",
    "LCFF_EMULATOR_URL",
)
# Variables of this package a developer's shell may hold: never inherited by the processes.
OURS = (*PRINTED, "FRIENDLI_TEAM")


@dataclass
class Server:
    """The running standalone server."""

    process: subprocess.Popen[str]
    banner: list[str]
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.env["LCFF_EMULATOR_URL"]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without our variables, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if k not in OURS}
    return {**base, "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_ffm_friendli.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline().rstrip("\n") for _ in range(1 + len(PRINTED))]
        env = dict(line.split("=", 1) for line in banner[1:])
        yield Server(process, banner, env)
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "emulator stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def emulator(server: Server) -> EmulatorClient:
    client = EmulatorClient(server.url)
    client.reset()
    return client


def doc_blocks(language: str) -> list[str]:
    return [code for lang, code in FENCE.findall(DOC.read_text()) if lang == language]


def doc_file(name: str) -> str:
    """The python block of docs/emulator.md that starts with ``# <name>``."""
    (code,) = [c for c in doc_blocks("python") if c.startswith(f"# {name}")]
    return code


def doc_lines(prefix: str) -> list[str]:
    """Shell lines of docs/emulator.md that start with ``prefix``."""
    return [
        line
        for block in doc_blocks("bash")
        for line in block.splitlines()
        if line.startswith(prefix)
    ]


def on_port(text: str, server: Server, app_port: int = 8000) -> str:
    """A doc line with the docs' ports replaced by the test's."""
    text = text.replace("127.0.0.1:8787", f"127.0.0.1:{server.port}")
    return text.replace("--port 8787", f"--port {server.port}").replace("8000", str(app_port))


# ---------------------------------------------------------------- printed variables


def test_the_banner_is_what_the_docs_show(server: Server) -> None:
    assert tuple(server.env) == PRINTED
    (shown,) = [b for b in FENCE.findall(DOC.read_text()) if b[1].startswith("langchain_ffm")]
    expected = shown[1].replace("8787", str(server.port)).splitlines()
    assert server.banner == expected


REACH = """
import os
from langchain_ffm_friendli import (
    ChatFFM, ChatFriendli, ChatMonsterAPI, FFMEmbeddings, FriendliLLM,
)
from langchain_ffm_friendli.testing import EmulatorClient

env = os.environ
models = {
    "FFM_BASE_URL": ChatFFM(model="llama3.3-ffm-70b-32k-chat"),
    "FRIENDLI_BASE_URL": ChatFriendli(model="meta-llama-3.1-8b-instruct"),
    "FRIENDLI_DEDICATED_BASE_URL": ChatFriendli(model="my-endpoint-id", endpoint="dedicated"),
    "FRIENDLI_CONTAINER_BASE_URL": ChatFriendli(model="my-adapter", endpoint="container"),
    "MONSTER_API_BASE": ChatMonsterAPI(model="google/gemma-2-9b-it"),
}
for variable, model in models.items():
    assert model.base_url == env[variable], (variable, model.base_url)
    print(variable, model.invoke("hi").content)
print("llm", FriendliLLM(model="my-endpoint-id", endpoint="dedicated").invoke("hi"))
print("embeddings", len(FFMEmbeddings(model="ffm-embedding").embed_query("hi")))
emulator = EmulatorClient()  # LCFF_EMULATOR_URL
print("seen", len(emulator.requests))
"""


def test_exporting_the_printed_variables_reaches_every_provider_and_route(
    server: Server, emulator: EmulatorClient
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", REACH],
        env=clean_env(**server.env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "seen 7" in result.stdout
    paths = [r.path for r in emulator.requests]
    assert paths == [
        "/ffm/api/models/conversation",
        "/friendli/serverless/v1/chat/completions",
        "/friendli/dedicated/v1/chat/completions",
        "/friendli/container/v1/chat/completions",
        "/monsterapi/v1/generate",
        "/friendli/dedicated/v1/completions",
        "/ffm/api/models/embeddings",
    ]
    assert all("emulator" in line for line in result.stdout.splitlines()[:5])
    assert emulator.requests[2].json["model"] == "my-endpoint-id"


# --------------------------------------------------------------- control API, curl


def curl(line: str) -> httpx.Response:
    """Run a doc's ``curl -s URL [-X M] [-H H]... [-d BODY]`` line (no shell needed)."""
    words = shlex.split(line)
    assert words[:2] == ["curl", "-s"], line
    url, method, headers, data = words[2], "GET", {}, None
    rest = iter(words[3:])
    for flag in rest:
        value = next(rest)
        if flag == "-X":
            method = value
        elif flag == "-H":
            name, _, header = value.partition(":")
            headers[name] = header.strip()
        elif flag == "-d":
            method, data = ("POST" if method == "GET" else method), value
        else:
            raise AssertionError(f"unexpected curl flag {flag} in {line}")
    return httpx.request(method, url, headers=headers, content=data, timeout=10)


def test_the_docs_curl_lines_script_the_server(server: Server, emulator: EmulatorClient) -> None:
    (block,) = [b for b in doc_blocks("bash") if "/_emulator/queue" in b]
    script = [line for line in block.splitlines() if line.startswith("curl -s ")]
    assert len(script) == 7
    answers: list[Any] = []
    for line in script:
        command, _, comment = on_port(line, server).partition("  # ")
        response = curl(command)
        answers.append(response.json())
        if comment:  # the docs show the answer: it must be this one
            assert response.json() == json.loads(comment), line
    # the chat request got the first queued reply; the log masks its key
    chat = next(a for a in answers if "choices" in a)
    assert chat["choices"][0]["message"]["content"] == "hello"
    (logged,) = next(a for a in answers if a.get("requests"))["requests"]
    assert logged["route"] == "friendli.chat"
    assert logged["headers"]["authorization"] == "Bearer ***"
    assert logged["json"]["messages"] == [{"role": "user", "content": "hi"}]
    # the docs end with a reset and a refused batch: nothing is queued
    assert curl(on_port(script[-1].partition("  # ")[0], server)).status_code == 400
    assert emulator.queued == []


# ----------------------------------------------- an app under test in another process


def wait_until_serving(url: str, process: subprocess.Popen[str], deadline: float) -> None:
    while True:
        assert process.poll() is None, "the app exited"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the app did not come up"
        time.sleep(0.1)


def test_an_app_in_another_process_is_tested_through_the_plugin(
    server: Server, tmp_path: Path
) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "app.py").write_text(doc_file("app.py"))
    (tmp_path / "tests" / "test_app.py").write_text(doc_file("tests/test_app.py"))
    app_port = free_port()
    exported: dict[str, str] = {}
    for line in doc_lines("export "):
        for word in shlex.split(on_port(line, server, app_port))[1:]:
            name, _, value = word.partition("=")
            exported[name] = value
    assert exported.items() <= server.env.items()  # the docs export what the server printed
    (serve,) = doc_lines("uvicorn ")
    (run_tests,) = doc_lines("pytest ")
    command = shlex.split(on_port(serve, server, app_port).removesuffix("&"))
    app = subprocess.Popen(
        [sys.executable, "-m", *command, "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=clean_env(**exported),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    app_url = f"http://127.0.0.1:{app_port}"
    try:
        wait_until_serving(f"{app_url}/openapi.json", app, time.monotonic() + 60)
        result = subprocess.run(
            [sys.executable, "-m", *shlex.split(run_tests), "-p", "no:cacheprovider", "-q"],
            cwd=tmp_path,
            env=clean_env(**exported, APP_URL=app_url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "2 passed" in result.stdout
        # the plugin left the server clean; the client here sees the same server
        client = EmulatorClient(server.url)
        assert client.pending == 0
        assert client.requests == []
        # and the app really answers from the emulator, scripted from this process too
        from langchain_ffm_friendli.testing import Reply

        client.queue(Reply(text="from the outer test"))
        answer = httpx.post(f"{app_url}/ask", json={"text": "hi"}, timeout=30).json()
        assert answer == {"answer": "from the outer test"}
        assert client.requests[-1].route == "friendli.chat"
    finally:
        app.send_signal(signal.SIGINT)
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()


REMOTE_TESTS = """
from langchain_ffm_friendli import ChatFFM
from langchain_ffm_friendli.testing import EmulatorClient, Reply


def test_first_leaves_state_behind(lcff_emulator):
    assert isinstance(lcff_emulator, EmulatorClient)
    lcff_emulator.queue(Reply(text="fine"))
    llm = ChatFFM(
        model="llama3.3-ffm-70b-32k-chat",
        base_url=lcff_emulator.ffm_base_url,
        api_key=lcff_emulator.api_key,
    )
    assert llm.invoke("hi").content == "fine"


def test_second_starts_clean(lcff_emulator):
    assert lcff_emulator.requests == []
    assert lcff_emulator.pending == 0


def test_session_fixture_is_the_same_server(lcff_emulator_session, lcff_emulator):
    assert isinstance(lcff_emulator_session, EmulatorClient)
    assert lcff_emulator_session.url == lcff_emulator.url


def test_unused_reply_fails(lcff_emulator):
    lcff_emulator.queue(Reply(text="never used"))
"""


@pytest.mark.parametrize("how", ["env", "option"])
def test_the_plugin_uses_a_running_server(
    server: Server, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    for name in OURS:
        monkeypatch.delenv(name, raising=False)
    pytester.makeconftest('pytest_plugins = ["langchain_ffm_friendli.testing.pytest_plugin"]\n')
    pytester.makepyfile(test_remote=REMOTE_TESTS)
    args = ["-p", "no:cacheprovider", "-p", "no:randomly"]
    if how == "env":
        monkeypatch.setenv("LCFF_EMULATOR_URL", server.url)
    else:
        args += ["--lcff-emulator-url", server.url]
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=4, errors=1)  # the strict fixture fails the last test
    result.stdout.fnmatch_lines(["*never used*"])
    assert EmulatorClient(server.url).pending == 0  # reset after the failing test too

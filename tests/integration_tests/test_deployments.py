"""Deployment patterns: a loop per call, forked workers, threads with their own loops.

The loop-per-call and fork patterns run in fresh interpreters (deploy_worker.py),
as Celery tasks, Lambda handlers and gunicorn workers run, against one emulator
in this process over loopback.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from langchain_ffm_friendli import ChatFFM, ChatFriendli, _transport
from langchain_ffm_friendli.testing import Emulator

WORKER = Path(__file__).with_name("deploy_worker.py")
CALLS = 500
FD_SLACK = 10
RSS_SLACK_KB = 15 * 1024
# Printed by asyncio, httpx or the interpreter when a client or socket outlives its loop.
BAD_OUTPUT = (
    "ResourceWarning",
    "Unclosed",
    "unclosed",
    "Event loop is closed",
    "Exception ignored",
)

LOOP_CASES = [
    ("ChatFFM", "ainvoke"),
    ("ChatFFM", "astream"),
    ("ChatFriendli", "ainvoke"),
    ("ChatFriendli", "astream"),
    ("ChatMonsterAPI", "ainvoke"),
    ("ChatMonsterAPI", "astream"),
    ("FFMLLM", "ainvoke"),
    ("FFMLLM", "astream"),
    ("FriendliLLM", "ainvoke"),
    ("FriendliLLM", "astream"),
    ("MonsterAPILLM", "ainvoke"),
    ("MonsterAPILLM", "astream"),
    ("FFMEmbeddings", "aembed_documents"),
]


def _base_url(emu: Emulator, name: str) -> str:
    if "FFM" in name:
        return emu.ffm_base_url
    if "Friendli" in name:
        return emu.friendli_base_url
    return emu.monsterapi_base_url


def _run_worker(*args: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", str(WORKER), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.fixture(scope="module")
def loop_results(module_emu: Emulator) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    """Every case's 500 asyncio.run calls, two interpreters at a time (2 cores)."""

    def run(case: tuple[str, str]) -> tuple[dict[str, Any], str]:
        name, op = case
        return _run_worker(
            "loops", name, op, str(CALLS), _base_url(module_emu, name), module_emu.api_key
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(LOOP_CASES, pool.map(run, LOOP_CASES), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "op"), LOOP_CASES, ids=[f"{n}-{o}" for n, o in LOOP_CASES])
def test_asyncio_run_per_call_leaves_no_socket_memory_or_warning(
    loop_results: dict[tuple[str, str], tuple[dict[str, Any], str]], name: str, op: str
) -> None:
    result, stderr = loop_results[(name, op)]
    assert result["answers"] == CALLS
    assert result["fd_growth"] <= FD_SLACK, result
    assert result["rss_growth_kb"] <= RSS_SLACK_KB, result
    # Loops that ended are forgotten: no client is kept for a dead loop.
    assert result["loops_remembered"] <= 1, result
    assert [line for line in stderr.splitlines() if any(b in line for b in BAD_OUTPUT)] == []


@pytest.mark.parametrize("name", ["ChatFFM", "MonsterAPILLM"])
def test_a_forked_child_and_its_parent_each_get_their_own_answers(
    module_emu: Emulator, name: str
) -> None:
    result, stderr = _run_worker("fork", name, _base_url(module_emu, name), module_emu.api_key)
    child, parent = result["child"], result["parent"]
    assert child["ok"], child
    for side in (child, parent):
        for prompt, answer in side["answers"].items():
            assert prompt in answer, (prompt, answer)
    # The parent keeps its pooled connection; the child never touches it.
    assert parent["sync_ports"] == result["parent_ports_before"]
    assert set(child["sync_ports"]).isdisjoint(result["parent_ports_before"])
    assert [line for line in stderr.splitlines() if any(b in line for b in BAD_OUTPUT)] == []


def test_calls_on_one_loop_reuse_one_pooled_connection(module_emu: Emulator) -> None:
    llm = ChatFFM(
        model="llama3.3-ffm-70b-32k-chat",
        base_url=module_emu.ffm_base_url,
        api_key=module_emu.api_key,
    )

    async def main() -> int:
        for i in range(20):
            await llm.ainvoke(f"hi {i}")
        async for _ in llm.astream("stream"):
            pass
        client = await _transport.shared_async_client()
        return len(client._transport._pool.connections)  # type: ignore[attr-defined]

    assert asyncio.run(main()) == 1
    assert module_emu.wait_for_connections(0)  # and closed when the loop shut down


def test_a_thread_with_its_own_loop_works_while_another_loop_is_alive(module_emu: Emulator) -> None:
    llm = ChatFriendli(
        model="meta-llama-3.1-8b-instruct",
        base_url=module_emu.friendli_base_url,
        api_key=module_emu.api_key,
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:

        def on_background(prompt: str) -> str:
            future = asyncio.run_coroutine_threadsafe(llm.ainvoke(prompt), loop)
            return str(future.result(timeout=30).content)

        assert "first loop" in on_background("first loop")
        answers = []
        worker = threading.Thread(
            target=lambda: answers.append(asyncio.run(llm.ainvoke("second thread")).content)
        )
        worker.start()
        worker.join(timeout=30)
        assert answers
        assert "second thread" in str(answers[0])
        assert "first loop again" in on_background("first loop again")
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

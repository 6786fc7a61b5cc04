"""Deployment patterns run in a fresh interpreter, as real apps run them.

``python deploy_worker.py loops TARGET OP N BASE_URL KEY``: N times
``asyncio.run(<one call>)`` (a Celery task, a Lambda handler, a sync view), then
the open fds and RSS before and after, as one JSON line.

``python deploy_worker.py fork TARGET BASE_URL KEY``: calls in a parent, forks,
and calls in both (sync and async), reporting each side's answers and the local
ports of the pooled connections each side used.

The parent test reads the JSON line and asserts; stderr carries any warning.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
from typing import Any

import langchain_ffm_friendli as pkg
from langchain_ffm_friendli import _transport

MODELS = {
    "ChatFFM": "llama3.3-ffm-70b-32k-chat",
    "FFMLLM": "llama3.3-ffm-70b-32k-chat",
    "FFMEmbeddings": "ffm-embedding",
    "ChatFriendli": "meta-llama-3.1-8b-instruct",
    "FriendliLLM": "meta-llama-3.1-8b-instruct",
    "ChatMonsterAPI": "meta-llama/Meta-Llama-3.1-8B-Instruct",
    "MonsterAPILLM": "meta-llama/Meta-Llama-3.1-8B-Instruct",
}


def make(name: str, base_url: str, key: str) -> Any:
    return getattr(pkg, name)(model=MODELS[name], base_url=base_url, api_key=key)


def text(result: Any) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, list):  # embeddings
        return f"{len(result)} vectors"
    return str(result.content)


async def acall(obj: Any, op: str, prompt: str) -> str:
    if op == "ainvoke":
        return text(await obj.ainvoke(prompt))
    if op == "astream":
        return "".join([text(c) async for c in obj.astream(prompt)])
    if op == "aembed_documents":
        return text(await obj.aembed_documents([prompt, "second"]))
    raise AssertionError(op)


def call(obj: Any, prompt: str) -> str:
    if hasattr(obj, "embed_documents"):
        return text(obj.embed_documents([prompt]))
    return text(obj.invoke(prompt))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def loops(name: str, op: str, count: int, base_url: str, key: str) -> dict[str, Any]:
    obj = make(name, base_url, key)
    for i in range(50):  # warm caches: imports, pydantic schemas, the TLS context
        asyncio.run(acall(obj, op, f"warm {i}"))
    gc.collect()
    fds, rss = open_fds(), rss_kb()
    answers = 0
    for i in range(count):
        if asyncio.run(acall(obj, op, f"call {i}")):
            answers += 1
    gc.collect()
    return {
        "answers": answers,
        "fd_growth": open_fds() - fds,
        "rss_growth_kb": rss_kb() - rss,
        "loops_remembered": len(_transport._async_clients),
    }


def pool_ports(client: Any) -> list[int]:
    """Local ports of the pooled connections of an httpx client."""
    ports = []
    for connection in client._transport._pool.connections:
        stream = connection._connection._network_stream
        ports.append(stream.get_extra_info("client_addr")[1])
    return sorted(ports)


class LoopThread:
    """A long-lived event loop in a thread (an app's background loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)


def side(obj: Any, who: str) -> dict[str, Any]:
    """The calls one side of the fork makes: sync twice, async (asyncio.run) twice."""
    answers = {f"{who}-sync-{i}": call(obj, f"{who}-sync-{i}") for i in range(2)}
    for i in range(2):
        answers[f"{who}-async-{i}"] = asyncio.run(acall(obj, "ainvoke", f"{who}-async-{i}"))
    return {"answers": answers, "sync_ports": pool_ports(_transport.shared_client())}


def fork(name: str, base_url: str, key: str) -> dict[str, Any]:
    obj = make(name, base_url, key)
    background = LoopThread()
    before = {
        "sync": call(obj, "parent-before"),
        "async": background.run(acall(obj, "ainvoke", "parent-loop-before")),
    }
    parent_ports = pool_ports(_transport.shared_client())
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            report = {"ok": True, **side(obj, "child")}
        except BaseException as exc:  # report, never run the parent's code
            report = {"ok": False, "error": repr(exc)}
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(json.dumps(report))
        os._exit(0)
    os.close(write_end)
    parent = side(obj, "parent")
    parent["answers"]["parent-loop-after"] = background.run(
        acall(obj, "ainvoke", "parent-loop-after")
    )
    with os.fdopen(read_end) as pipe:
        child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return {"before": before, "parent_ports_before": parent_ports, "parent": parent, "child": child}


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "loops":
        name, op, count, base_url, key = args
        result = loops(name, op, int(count), base_url, key)
    elif mode == "fork":
        result = fork(*args)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""The main job (`make demo`): an agent per provider, end to end against the emulator."""

import os
import socket
import subprocess
import sys

KEYS = (
    "FFM_API_KEY",
    "FFM_BASE_URL",
    "FRIENDLI_TOKEN",
    "FRIENDLI_BASE_URL",
    "MONSTER_API_KEY",
    "MONSTER_API_BASE",
)


def run_demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in KEYS}
    return subprocess.run(
        [sys.executable, "-m", "langchain_ffm_friendli", "demo", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=300,
        check=False,
    )


def section(out: str, name: str) -> str:
    start = out.index(f"== {name}:")
    end = out.find("\n== ", start + 1)
    return out[start : end if end != -1 else len(out)]


def test_demo_runs_an_agent_on_every_provider_and_exits_0() -> None:
    proc = run_demo()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""  # no tracebacks, warnings or noise
    out = proc.stdout

    ffm = section(out, "ffm")
    assert "embedded emulator" in ffm
    assert "-> tool call: get_weather({'city': 'Taipei'})" in ffm
    assert "<- tool result: Taipei: sunny" in ffm
    assert "The tool returned: Taipei: sunny" in ffm  # the streamed final answer
    assert "token usage:" in ffm

    friendli = section(out, "friendli")
    assert "[built-in math:calculator] STARTED expression=3 + 6" in friendli
    assert "[built-in math:calculator] ENDED" in friendli
    assert "3 + 6 = 9." in friendli
    assert "-> tool call: get_weather" in friendli
    assert friendli.index("STARTED") < friendli.index("3 + 6 = 9.")  # statuses shown as they happen

    monster = section(out, "monsterapi")
    assert "-> tool call: convert_currency({'amount': 1000, 'currency': 'USD'})" in monster
    assert "<- tool result: 1000 TWD = 31.00 USD" in monster
    usage = [line for line in out.splitlines() if line.startswith("token usage:")]
    assert len(usage) == 3
    assert all(" 0 in" not in line for line in usage)


def test_an_unreachable_provider_is_one_line_and_the_others_still_run() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run_demo(env={"FFM_API_KEY": "k", "FFM_BASE_URL": f"http://127.0.0.1:{port}/api"})
    assert proc.returncode == 1
    lines = [
        line
        for line in proc.stdout.splitlines()
        if line.startswith("ffm: cannot complete the demo")
    ]
    assert len(lines) == 1
    assert "cannot reach" in lines[0]
    assert "== friendli:" in proc.stdout
    assert "== monsterapi:" in proc.stdout
    assert proc.stdout.count("token usage:") == 2


def test_single_provider_flag() -> None:
    proc = run_demo("--provider", "monsterapi")
    assert proc.returncode == 0
    assert "== monsterapi:" in proc.stdout
    assert "== ffm:" not in proc.stdout

"""The main job (`make demo`) runs end to end against the embedded emulator."""

import os
import subprocess
import sys


def test_demo_streams_an_answer_and_completes_a_tool_round_trip() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FFM_API_KEY", "FFM_BASE_URL")}
    proc = subprocess.run(
        [sys.executable, "-m", "langchain_ffm_friendli", "demo", "--provider", "ffm"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no tracebacks, warnings or noise
    out = proc.stdout
    assert "embedded emulator" in out
    assert "You said: 人口最多的國家是?" in out  # the streamed answer
    assert "usage:" in out
    assert "tool call: get_weather({'city': 'Taipei'})" in out
    assert "tool result: Taipei: sunny" in out
    assert "answer: The tool returned: Taipei: sunny" in out

"""Import cost of ``langchain_ffm_friendli`` next to what any LangChain model over httpx imports.

Each import is timed inside a fresh interpreter (``time.perf_counter`` around the
import statement, so interpreter start-up is not counted), runs interleaved,
median of several. Both sides use bytecode caches, as an installed package does:
this environment sets ``PYTHONDONTWRITEBYTECODE``, which would leave our source
tree to be compiled on every import while site-packages have their ``.pyc``; the
runs use a private ``PYTHONPYCACHEPREFIX`` instead, warmed up first.

The baseline imports ``BaseChatModel`` and ``BaseLLM`` from
``langchain_core.language_models``, plus ``httpx`` and ``httpx_sse``. A bare
``import langchain_core.language_models`` is lazy in langchain-core 1.x and
loads almost nothing, so it is reported too but it is not what a model class
needs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass

STATEMENTS = {
    "ours": "import langchain_ffm_friendli",
    "baseline": (
        "from langchain_core.language_models import BaseChatModel, BaseLLM; import httpx, httpx_sse"
    ),
    "bare": "import langchain_core.language_models, httpx, httpx_sse",
    "heavy": "import json, sys, langchain_ffm_friendli; print(json.dumps(sorted(m for m in "
    "('langchain_ffm_friendli.testing', 'langgraph', 'langchain.agents', 'openai') "
    "if m in sys.modules)))",
}
TARGET = 1.1


@dataclass
class ImportResult:
    """Median seconds per statement and the ratio that the target applies to."""

    ours_s: float
    baseline_s: float
    bare_s: float
    runs: int
    heavy_modules: list[str]

    @property
    def ratio(self) -> float:
        """Ours / baseline."""
        return self.ours_s / self.baseline_s

    @property
    def met(self) -> bool:
        """Within the target and nothing heavy imported."""
        return self.ratio <= TARGET and not self.heavy_modules


def _time(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(runs: int = 11) -> ImportResult:
    """Time each statement ``runs`` times in fresh interpreters, interleaved."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for statement in STATEMENTS.values():  # warm the bytecode cache
            subprocess.run(
                [sys.executable, "-c", statement], check=True, env=env, capture_output=True
            )
        heavy = subprocess.run(
            [sys.executable, "-c", STATEMENTS["heavy"]],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        samples: dict[str, list[float]] = {"ours": [], "baseline": [], "bare": []}
        for i in range(runs):
            names = list(samples)
            for name in names[i % 3 :] + names[: i % 3]:
                samples[name].append(_time(STATEMENTS[name], env))
    return ImportResult(
        ours_s=statistics.median(samples["ours"]),
        baseline_s=statistics.median(samples["baseline"]),
        bare_s=statistics.median(samples["bare"]),
        runs=runs,
        heavy_modules=json.loads(heavy),
    )


if __name__ == "__main__":
    print(run())

"""Import cost of ``langchain_ffm_friendli`` next to what any LangChain model over httpx imports.

Each import is timed inside a fresh interpreter (``time.perf_counter`` around the
import statement, so interpreter start-up is not counted), runs interleaved,
median of several. Both sides use bytecode caches, as an installed package does:
this environment sets ``PYTHONDONTWRITEBYTECODE``, which would leave our source
tree to be compiled on every import while site-packages have their ``.pyc``; the
runs use a private ``PYTHONPYCACHEPREFIX`` instead, warmed up first.

Two comparisons, two rows:

- **Package import (the target, <= 1.1x).** ``import langchain_ffm_friendli`` vs
  ``import langchain_core.language_models, httpx, httpx_sse``. This is the
  issue's target: both packages are lazy (PEP 562), so importing either loads
  almost nothing of its own, and the comparison asks whether our top-level
  import is as cheap as langchain-core's. An application that imports the
  package but uses one class, or none on a given code path (a CLI, a worker
  that only some tasks need), pays for this row only.
- **First class (reported, no target).** ``from langchain_ffm_friendli import
  ChatFriendli`` vs ``from langchain_core.language_models import BaseChatModel,
  BaseLLM; import httpx, httpx_sse`` (what any chat or completion model class
  over httpx needs before it does anything). This is what a user pays the first
  time they touch a class: the langchain-core model stack, httpx, and our
  shared client core plus one provider's class. Before the package became
  lazy, the package import above cost this much or more (it built all seven
  classes), so this row is the eager comparison kept for continuity.

The heavy-module check runs on the first-class import (a superset of the bare
one): neither may load the emulator, langgraph, langchain's agents or openai.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass

HEAVY = ("langchain_ffm_friendli.testing", "langgraph", "langchain.agents", "openai")
"""Modules neither import may load: the emulator, and what only the demo or tests use."""

STATEMENTS = {
    "ours": "import langchain_ffm_friendli",
    "bare": "import langchain_core.language_models, httpx, httpx_sse",
    "first_class": "from langchain_ffm_friendli import ChatFriendli",
    "baseline": (
        "from langchain_core.language_models import BaseChatModel, BaseLLM; import httpx, httpx_sse"
    ),
}
HEAVY_CHECK = (
    f"import json, sys; {STATEMENTS['first_class']}; "
    f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
)
TARGET = 1.1
"""For ``ImportResult.ratio`` (package import), not for the first-class row."""


@dataclass
class ImportResult:
    """Median seconds per statement; ``ratio`` is the one the target applies to."""

    ours_s: float
    bare_s: float
    first_class_s: float
    baseline_s: float
    runs: int
    heavy_modules: list[str]

    @property
    def ratio(self) -> float:
        """``import langchain_ffm_friendli`` / the bare langchain-core + httpx import (target)."""
        return self.ours_s / self.bare_s

    @property
    def first_class_ratio(self) -> float:
        """``from langchain_ffm_friendli import ChatFriendli`` / the model-class baseline."""
        return self.first_class_s / self.baseline_s

    @property
    def met(self) -> bool:
        """Package import within the target and nothing heavy imported."""
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
            [sys.executable, "-c", HEAVY_CHECK],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()
        samples: dict[str, list[float]] = {name: [] for name in STATEMENTS}
        names = list(samples)
        for i in range(runs):
            k = i % len(names)
            for name in names[k:] + names[:k]:
                samples[name].append(_time(STATEMENTS[name], env))
    return ImportResult(
        ours_s=statistics.median(samples["ours"]),
        bare_s=statistics.median(samples["bare"]),
        first_class_s=statistics.median(samples["first_class"]),
        baseline_s=statistics.median(samples["baseline"]),
        runs=runs,
        heavy_modules=json.loads(heavy),
    )


def describe(result: ImportResult) -> list[str]:
    """Both rows, one line each, as ``make bench`` prints them."""
    return [
        f"import langchain_ffm_friendli {result.ours_s * 1e3:.1f} ms vs "
        f"import langchain_core.language_models, httpx, httpx_sse {result.bare_s * 1e3:.1f} ms: "
        f"ratio {result.ratio:.3f} (target <= {TARGET}); "
        f"heavy modules: {result.heavy_modules or 'none'}",
        f"from langchain_ffm_friendli import ChatFriendli {result.first_class_s * 1e3:.1f} ms vs "
        f"BaseChatModel, BaseLLM + httpx, httpx_sse {result.baseline_s * 1e3:.1f} ms: "
        f"ratio {result.first_class_ratio:.2f} (reported, no target)",
    ]


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    result = run(runs)
    print(result)
    print("\n".join(describe(result)))

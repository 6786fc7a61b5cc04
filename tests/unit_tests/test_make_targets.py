"""What `make demo`, `make test` and `make dist` install, read from the Makefile with `make -n`.

`make -n` prints the commands a target would run without running them, so each case sets up
the state of a clone (fresh, after `make demo`, after `make test`, after editing pyproject.toml)
with empty stamp files and reads what would be installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FULL = "-e '.[test,lint,typing,demo]'"
DEMO = "-e '.[demo]'"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A directory with the repository's Makefile and pyproject.toml, no .venv."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    os.utime(tmp_path / "pyproject.toml", (1_000, 1_000))
    os.utime(tmp_path / "Makefile", (1_000, 1_000))
    return tmp_path


def plan(clone: Path, target: str) -> str:
    """The commands ``make <target>`` would run in ``clone``."""
    # Run alone, not as a sub-make of `make unit` (which would add its flags and messages).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", target],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def stamp(clone: Path, name: str, when: int) -> None:
    path = clone / ".venv" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (when, when))


def test_make_demo_on_a_fresh_clone_installs_only_the_demo_extra(clone: Path) -> None:
    commands = plan(clone, "demo")
    assert "-m venv .venv" in commands
    assert DEMO in commands
    for tool in ("test", "lint", "typing", "pytest", "ruff", "mypy"):
        assert tool not in commands, tool
    assert commands.rstrip().endswith("-m langchain_ffm_friendli demo")


def test_make_test_on_a_fresh_clone_installs_everything_it_needs(clone: Path) -> None:
    commands = plan(clone, "test")
    assert FULL in commands
    for step in ("ruff check", "mypy", "pytest tests/unit_tests", "pytest tests/integration_tests"):
        assert step in commands, step


def test_make_test_after_make_demo_installs_the_rest(clone: Path) -> None:
    stamp(clone, "bin/python", 2_000)
    stamp(clone, ".demo-installed", 2_000)
    assert "pip install" not in plan(clone, "demo")
    assert "-m venv" not in plan(clone, "test")
    assert FULL in plan(clone, "test")


def test_make_demo_after_make_test_installs_nothing(clone: Path) -> None:
    stamp(clone, "bin/python", 2_000)
    stamp(clone, ".installed", 2_000)
    stamp(clone, ".demo-installed", 2_000)  # the full install stamps the demo too
    assert "pip install" not in plan(clone, "demo")
    assert "pip install" not in plan(clone, "lint")


def test_an_edited_pyproject_reinstalls_for_both(clone: Path) -> None:
    stamp(clone, "bin/python", 2_000)
    stamp(clone, ".installed", 2_000)
    stamp(clone, ".demo-installed", 2_000)
    os.utime(clone / "pyproject.toml", (3_000, 3_000))
    assert DEMO in plan(clone, "demo")
    assert FULL in plan(clone, "lint")


def test_the_full_install_marks_the_demo_installed(clone: Path) -> None:
    commands = plan(clone, "lint")
    assert "touch .venv/.installed .venv/.demo-installed" in commands


def test_make_dist_builds_and_checks_strictly(clone: Path) -> None:
    commands = plan(clone, "dist")
    assert "build>=" in commands
    assert "twine>=" in commands
    assert "-m build --outdir dist" in commands
    assert "-m twine check --strict dist/*" in commands
    assert FULL not in commands  # building needs no install of the package
    assert DEMO not in commands

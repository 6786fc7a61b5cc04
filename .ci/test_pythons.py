"""Run the unit suite on every Python version pyproject.toml claims, with the interpreters present.

The versions are the ``Programming Language :: Python :: 3.X`` classifiers, so the claim and
the check cannot drift apart. For each version the script looks for an interpreter (``python3.X``
on PATH, then pyenv's ``$(pyenv root)/versions/3.X.*/bin/python3``, newest patch first), keeps
only one that really reports that version (a pyenv shim for an unselected version does not), and
runs ``tests/unit_tests`` in a venv of its own, ``.venv-py3.X``. That venv holds the package, its
``demo`` extra and the ``test`` extra without the packages only the integration suite or
coverage use, and is rebuilt from nothing when pyproject.toml changes. A version with no
interpreter is skipped and reported as skipped; the run fails if a suite fails or nothing ran.

Usage: python .ci/test_pythons.py [--covered 3.X] [3.X ...]   (default: every classifier version)

``--covered 3.X`` skips a version whose unit suite already ran elsewhere in the same job (CI
passes the version of the interpreter ``make unit`` ran on) and says so in the summary.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
VERSION_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")
#: Only the integration suite (the vendors' SDKs, the release build) and `make unit`'s coverage
#: report use these.
NOT_FOR_UNIT = {"friendli", "openai", "pytest-cov", "build"}
PYTEST_ARGS = ["tests/unit_tests", "--disable-socket", "--allow-unix-socket", "-q"]
PYTEST_ARGS += ["-p", "no:cacheprovider"]


def claimed_versions(pyproject: dict[str, object]) -> list[str]:
    """The ``3.X`` versions the classifiers claim, oldest first."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    found = {
        m.group(1) for c in project.get("classifiers", []) if (m := VERSION_CLASSIFIER.match(c))
    }
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def requirement_name(requirement: str) -> str:
    """The normalized distribution name at the start of a requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def unit_requirements(pyproject: dict[str, object]) -> list[str]:
    """The ``test`` extra without what only the integration suite or coverage needs."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    test: list[str] = project["optional-dependencies"]["test"]
    return [r for r in test if requirement_name(r) not in NOT_FOR_UNIT]


def reported_version(executable: str) -> str | None:
    """``3.X`` as the interpreter itself reports it, or None if it does not run."""
    try:
        done = subprocess.run(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def pyenv_root() -> Path | None:
    """The root of pyenv: $PYENV_ROOT, else what ``pyenv root`` prints, else None."""
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    done = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def candidates(version: str) -> list[str]:
    """Interpreters that may be ``version``: on PATH first, then pyenv's, newest patch first."""
    found = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    root = pyenv_root()
    if root is not None:
        patches = {}
        for install in root.glob(f"versions/{version}.*"):
            patch = install.name.removeprefix(f"{version}.")
            if patch.isdigit():  # 3.12.1, not 3.12-dev or a free-threaded 3.13.0t
                patches[int(patch)] = install / "bin" / "python3"
        found += [str(patches[p]) for p in sorted(patches, reverse=True)]
    return found


def find_interpreter(version: str) -> str | None:
    """The first candidate that reports ``version`` itself."""
    for executable in candidates(version):
        if reported_version(executable) == version:
            return executable
    return None


def ensure_venv(version: str, interpreter: str, requirements: list[str]) -> Path:
    """``.venv-py<version>`` with the package and ``requirements``, rebuilt when they change."""
    venv = ROOT / f".venv-py{version}"
    stamp = venv / ".installed"
    key = hashlib.sha256(
        PYPROJECT.read_bytes() + "\n".join([interpreter, *requirements]).encode()
    ).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == key:
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*install, "-e", ".[demo]", *requirements], cwd=ROOT, check=True)
    stamp.write_text(key + "\n")
    return venv


def run_suite(venv: Path) -> tuple[int, str]:
    """Run the unit suite in ``venv``; its exit code and pytest's last summary line."""
    process = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "pytest", *PYTEST_ARGS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    summary = ""
    for line in process.stdout:
        sys.stdout.write(line)
        if re.search(r"\d+ (passed|failed|error)", line):
            summary = line.strip(" =\n")
    return process.wait(), summary


def main(argv: list[str]) -> int:
    """Run the suite per version; print what ran and what was skipped; non-zero on failure."""
    covered = set()
    while argv[:1] == ["--covered"] and len(argv) > 1:
        covered.add(argv[1])
        argv = argv[2:]
    pyproject = tomllib.loads(PYPROJECT.read_text())
    versions = argv or claimed_versions(pyproject)
    requirements = unit_requirements(pyproject)
    ran: list[str] = []
    skipped: list[str] = []
    failed: list[str] = []
    for version in versions:
        if version in covered:
            skipped.append(f"{version}: already run in this job (make unit, .venv)")
            continue
        interpreter = find_interpreter(version)
        if interpreter is None:
            skipped.append(f"{version}: no interpreter (tried python{version} on PATH and pyenv)")
            continue
        print(f"==> Python {version}: {interpreter}", flush=True)
        code, summary = run_suite(ensure_venv(version, interpreter, requirements))
        (failed if code else ran).append(f"{version} ({interpreter}): {summary or f'exit {code}'}")
    print("\nunit suite per Python version")
    for line in ran:
        print(f"  ran      {line}")
    for line in failed:
        print(f"  FAILED   {line}")
    for line in skipped:
        print(f"  skipped  {line}")
    if not ran and not failed and not covered:
        print("no claimed Python version has an interpreter here")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The distribution README's Install section points at: it builds, it says what is true, it works.

The sdist and wheel are built the way `make dist` builds them (``python -m build``, the wheel from
the sdist, hatchling from the index in an isolated environment). The wheel's metadata is held to
pyproject.toml and to what the package really is; the wheel is then installed on its own and every
module of it imported and used against the emulator.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PYTHON_VERSIONS = {"3.11", "3.12", "3.13"}
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel, built as `make dist` builds them."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("*.whl")
    return found


@pytest.fixture(scope="module")
def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def test_the_readme_installs_the_wheel_make_dist_builds(wheel: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"pip install dist/{wheel.name}" in readme
    assert "make dist" in readme
    assert re.search(r"Once it is released on PyPI \(it is not yet\)", readme)


def test_the_sdist_carries_the_docs_and_the_tests(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"README.md", "LICENSE", "CHANGELOG.md", "pyproject.toml"} <= names
    assert {"docs/configuration.md", "docs/protocols/ffm.md", "docs/protocols/README.md"} <= names
    assert "tests/unit_tests/test_citations.py" in names


def test_the_metadata_is_pyprojects(metadata: Message) -> None:
    assert metadata["Name"] == PYPROJECT["name"]
    assert metadata["Version"] == PYPROJECT["version"]
    assert metadata["Summary"] == PYPROJECT["description"]
    assert metadata["Requires-Python"] == PYPROJECT["requires-python"]
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().strip() == (ROOT / "README.md").read_text().strip()
    runtime = {
        str(Requirement(r)) for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r
    }
    assert runtime == {str(Requirement(r)) for r in PYPROJECT["dependencies"]}
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert extras == set(PYPROJECT["optional-dependencies"])


def test_the_license_is_mit_and_ships_with_the_wheel(wheel: Path, metadata: Message) -> None:
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    # PEP 639: a license expression replaces the deprecated "License ::" classifiers.
    assert not [c for c in metadata.get_all("Classifier") or [] if c.startswith("License ::")]
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        shipped = archive.read(name).decode()
    assert shipped == (ROOT / "LICENSE").read_text()
    assert shipped.startswith("MIT License")


def test_the_classifiers_and_keywords_say_what_the_package_is(
    wheel: Path, metadata: Message
) -> None:
    classifiers = set(metadata.get_all("Classifier") or [])
    versions = {c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r".*Python :: 3\.\d+", c)}
    assert versions == PYTHON_VERSIONS  # what `make test-pythons` runs the unit suite on
    requires = SpecifierSet(metadata["Requires-Python"])
    assert all(requires.contains(f"{v}.0") for v in versions)
    assert not requires.contains("3.10.0")
    assert {
        "Typing :: Typed",
        "Framework :: AsyncIO",
        "Framework :: Pydantic :: 2",
        "Intended Audience :: Developers",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Programming Language :: Python :: 3 :: Only",
    } <= classifiers
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
    assert "langchain_ffm_friendli/py.typed" in files  # what "Typing :: Typed" promises
    assert "langchain_ffm_friendli/testing/pytest_plugin.py" in files  # "Framework :: Pytest"
    assert not [f for f in files if f.startswith(("tests/", "docs/", "benchmarks/"))]
    keywords = set((metadata["Keywords"] or "").split(","))
    assert {"langchain", "ffm", "friendli", "monsterapi", "llm"} <= keywords


def test_no_url_is_invented(metadata: Message) -> None:
    """The project has no public repository or site yet: no Project-URL, no Home-page."""
    assert metadata.get_all("Project-URL") is None
    assert metadata["Home-page"] is None
    assert "urls" not in PYPROJECT


def test_the_wheel_works_on_its_own(wheel: Path, tmp_path: Path) -> None:
    """Installed alone (no source tree on the path), every module imports and a model answers."""
    target = tmp_path / "site"
    subprocess.run(
        [*PIP_INSTALL, "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    script = f"""
import importlib, importlib.metadata, pkgutil, sys
sys.path.insert(0, {str(target)!r})
import langchain_ffm_friendli as package
assert package.__file__.startswith({str(target)!r}), package.__file__
assert importlib.metadata.version("langchain-ffm-friendli") == {PYPROJECT["version"]!r}
names = [m.name for m in pkgutil.walk_packages(package.__path__, "langchain_ffm_friendli.")]
for name in names:
    importlib.import_module(name)
from langchain_ffm_friendli import ChatFFM
from langchain_ffm_friendli.testing import Emulator
with Emulator() as emu:
    llm = ChatFFM(model="llama3.3-ffm-70b-32k-chat", base_url=emu.ffm_base_url, api_key=emu.api_key)
    assert llm.invoke("hi").content
print(len(names))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 30  # every module of the package, subpackages included
    installed = {canonicalize_name(p.name.split("-")[0]) for p in target.glob("*.dist-info")}
    assert installed == {"langchain-ffm-friendli"}

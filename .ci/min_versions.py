"""Write a pip constraints file that pins every dependency floor in pyproject.toml.

pip has no "lowest versions" resolution mode. This script reads the runtime
dependencies and the named extras from pyproject.toml and turns each ``>=X``
floor into ``name==X``, so that ``pip install -c <file> -e '.[extras]'``
installs exactly the oldest versions the project claims to support. Transitive
dependencies are left to the resolver (they are other projects' floors).

Usage:
    python .ci/min_versions.py write CONSTRAINTS [EXTRA ...]
    python .ci/min_versions.py verify CONSTRAINTS   # with the venv's python

``verify`` fails unless every pinned distribution is installed at its pin, so a
newer version pulled in by some other requirement cannot pass unnoticed.
"""

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# name, optional [extras], then the specifier list, then an optional ; marker.
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")
FLOOR = re.compile(r">=\s*([^,\s]+)")


def floor_pin(requirement: str) -> str | None:
    """Return ``name==floor`` for a requirement with a ``>=`` floor, else None."""
    match = REQUIREMENT.match(requirement)
    if match is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    name, specifiers = match.groups()
    floor = FLOOR.search(specifiers)
    if floor is None:
        return None
    return f"{name.lower()}=={floor.group(1)}"


def constraints(pyproject: dict[str, object], extras: list[str]) -> list[str]:
    """Pins for the runtime dependencies and the given extras, in file order."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    requirements: list[str] = list(project.get("dependencies", []))
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"unknown extra {extra!r}; pyproject.toml has {sorted(optional)}")
        requirements.extend(optional[extra])
    pins: dict[str, str] = {}
    for requirement in requirements:
        pin = floor_pin(requirement)
        if pin is None:
            raise SystemExit(f"{requirement!r} has no >= floor; every dependency needs one")
        name = pin.split("==", 1)[0]
        if name in pins and pins[name] != pin:
            raise SystemExit(f"conflicting floors for {name}: {pins[name]} and {pin}")
        pins[name] = pin
    return list(pins.values())


def same_version(installed: str, pin: str) -> bool:
    """``2.7.0`` is ``2.7`` (PEP 440 pads releases with zeros); other forms compare as text."""

    def release(version: str) -> tuple[str, ...]:
        parts = version.split(".")
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return tuple(parts)

    return release(installed) == release(pin)


def verify(path: Path) -> list[str]:
    """Problems with the installed versions of the pins in ``path`` (empty if none)."""
    problems = []
    for line in path.read_text().splitlines():
        name, version = line.split("==", 1)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}: not installed (floor {version})")
            continue
        if not same_version(installed, version):
            problems.append(f"{name}: {installed} installed, floor is {version}")
    return problems


def main(argv: list[str]) -> int:
    """``write`` the constraints file, or ``verify`` the environment against it."""
    if len(argv) < 2 or argv[0] not in ("write", "verify"):
        raise SystemExit(__doc__)
    command, path, extras = argv[0], Path(argv[1]), argv[2:]
    if command == "verify":
        problems = verify(path)
        for problem in problems:
            sys.stderr.write(f"not at the floor: {problem}\n")
        if not problems:
            sys.stdout.write(f"every pin in {path} is installed at its floor\n")
        return 1 if problems else 0
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = constraints(pyproject, extras)
    path.write_text("".join(f"{pin}\n" for pin in pins))
    sys.stdout.write(f"{path}: {', '.join(pins)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Pins every declared floor: each `NAME>=X` of pyproject.toml becomes `NAME==X`.

    python tools/min_constraints.py [--extra test ...] [--skip torch ...] > constraints.txt

Installing the project with `pip install -c constraints.txt` then gets the lowest version
of each direct dependency that pyproject.toml claims to work with (the packages those
pull in resolve as usual), which is what `make test-min` tests.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")
FLOOR = re.compile(r">=\s*([0-9][^,\s]*)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def floors(requirements: list[str], skip: set[str]) -> dict[str, str]:
    """Requirement name -> its `>=` version, for the requirements that have one."""
    pinned: dict[str, str] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"cannot read the requirement {requirement!r}")
        name, specifiers = match.groups()
        floor = FLOOR.search(specifiers)
        if floor is not None and normalise(name) not in skip:
            pinned[name] = floor.group(1)
    return pinned


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--extra", action="append", default=[], help="an optional extra too")
    parser.add_argument("--skip", action="append", default=[], help="a package to leave out")
    args = parser.parse_args(argv)
    project = tomllib.loads(args.pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project.get("dependencies", []))
    extras = project.get("optional-dependencies", {})
    for extra in args.extra:
        if extra not in extras:
            raise SystemExit(f"pyproject.toml has no extra {extra!r}")
        requirements += extras[extra]
    for name, version in floors(requirements, {normalise(s) for s in args.skip}).items():
        sys.stdout.write(f"{name}=={version}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""pyproject.toml never allows the releases below the ones that fixed published advisories."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"

# package -> (the lowest release a floor may name, the last release below it)
FLOORS = {
    "pyjwt": ("2.13", "2.12.1"),
    "python-socketio": ("5.16.2", "5.16.1"),
    "python-engineio": ("4.13.3", "4.13.2"),
}


def requirements() -> dict[str, Requirement]:
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return {(r := Requirement(d)).name.lower(): r for d in deps}


@pytest.mark.parametrize("package", sorted(FLOORS))
def test_the_floor_is_at_least_the_fixed_release(package: str) -> None:
    floor, below = FLOORS[package]
    reqs = requirements()
    assert package in reqs, f"{package} must be a direct dependency, with a floor"
    spec = reqs[package].specifier
    lows = [Version(s.version) for s in spec if s.operator in (">=", ">", "==", "~=")]
    assert lows and max(lows) >= Version(floor), f"{package}{spec} allows releases below {floor}"
    assert not spec.contains(below, prereleases=True), f"{package}{spec} allows {below}"
    assert spec.contains(floor) or max(lows) > Version(floor), spec

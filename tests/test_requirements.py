"""The install's requirements: ranges that admit a framework's next release (so that installing cwtest
beside it does not downgrade it), and a tested point inside them (constraints.txt)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

# Releases other than the tested ones, each published on the registry: a nightly or next release that a
# framework team installs cwtest beside must be admitted.
OTHER_RELEASES = {"torch": "2.15.0", "torchvision": "0.30.0", "tensorflow": "2.20.0", "tensorflow-cpu": "2.20.0",
                  "keras": "3.16.0", "jax": "0.10.1", "onnxruntime": "1.31.1", "numpy": "2.5.5"}


def _requirements() -> list[Requirement]:
    extras = [r for group in PROJECT["optional-dependencies"].values() for r in group if not r.startswith("cwtest[")]
    return [Requirement(r) for r in [*PROJECT["dependencies"], *extras]]


def _constraints() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line).groups()
            pins[name.lower()] = Version(version)
    return pins


def test_no_framework_is_pinned_as_a_requirement():
    exact = [str(r) for r in _requirements() if any(s.operator in ("==", "===") for s in r.specifier)]
    assert not exact, f"exact pins belong in constraints.txt, not in the requirements: {exact}"


@pytest.mark.parametrize("name", sorted(OTHER_RELEASES))
def test_a_release_other_than_the_tested_one_is_admitted(name):
    requirements = [r for r in _requirements() if r.name == name]
    assert requirements, f"{name} is in no requirement or extra"
    tested = _constraints()[name]
    other = Version(OTHER_RELEASES[name])
    assert other != tested
    for requirement in requirements:
        assert requirement.specifier.contains(other, prereleases=True), f"{requirement} refuses {name} {other}"


def test_the_tested_releases_lie_inside_the_ranges():
    pins = _constraints()
    for requirement in _requirements():
        assert requirement.name in pins, f"{requirement.name} has no tested release in constraints.txt"
        assert requirement.specifier.contains(pins[requirement.name]), \
            f"constraints.txt's {requirement.name} {pins[requirement.name]} is outside {requirement}"


def test_every_extra_named_in_a_combined_extra_exists():
    extras = PROJECT["optional-dependencies"]
    for name, group in extras.items():
        for requirement in group:
            if requirement.startswith("cwtest["):
                missing = set(Requirement(requirement).extras) - set(extras)
                assert not missing, f"extra {name} names unknown extras {sorted(missing)}"


# The distributions that each install the `tensorflow` package: two of them in one environment unpack one over
# the other into one folder (tf-keras's requirement of `tensorflow` once pulled it in beside tensorflow-cpu).
TENSORFLOWS = {"tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly", "tf-nightly-cpu"}


@pytest.mark.parametrize("extras", ["cpu,published"])
def test_the_extras_install_one_tensorflow(extras, tmp_path):
    """What pip's resolver would install for the extras the README's test command and CI name, at the tested
    releases (a dry run: about two minutes of resolving, so one set of extras)."""
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                          "--disable-pip-version-check", "--report", str(report), f"{ROOT}[{extras}]",
                          "-c", str(ROOT / "constraints.txt")], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    names = {canonicalize_name(item["metadata"]["name"]) for item in json.loads(report.read_text())["install"]}
    assert len(names & TENSORFLOWS) == 1, f"[{extras}] installs {sorted(names & TENSORFLOWS)}"

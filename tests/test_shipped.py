"""`cwtest suites` runs the shipped suites from wherever cwtest is installed: from a folder outside the
checkout, with the same node ids as `pytest suites` in a checkout, and the folder it runs in keeping
the cache and the relative paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cwtest.session import shipped

REPO = Path(__file__).resolve().parent.parent
CWTEST = Path(sys.executable).with_name("cwtest")


def _ids(output: str) -> list[str]:
    return sorted(line for line in output.splitlines() if "::" in line)


def test_the_suites_command_collects_what_a_checkout_collects(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    shipped_run = subprocess.run([str(CWTEST), "suites", "layers", "models", "--collect-only", "-q",
                                  "--crossedwires-arch", "vgg16"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=300)
    assert shipped_run.returncode == 0, shipped_run.stdout + shipped_run.stderr
    checkout = subprocess.run([sys.executable, "-m", "pytest", "suites/layers", "suites/models", "--collect-only",
                               "-q", "-p", "no:cacheprovider", "--crossedwires-arch", "vgg16"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)
    assert checkout.returncode == 0, checkout.stdout + checkout.stderr
    ids = _ids(shipped_run.stdout)
    assert ids and ids == _ids(checkout.stdout)
    assert {i.split("/")[1] for i in ids} == {"layers", "models"}


def test_suite_names_become_folders_and_the_rest_goes_to_pytest(tmp_path):
    folder = shipped.suites_folder()
    assert (folder / "conftest.py").is_file()
    args = shipped.pytest_args(["transfer", "-n", "2", "-k", "layers"], tmp_path)
    assert args[0] == str(folder / "transfer")
    assert args[1:5] == ["--rootdir", str(folder.parent), "-o", f"cache_dir={tmp_path / '.pytest_cache'}"]
    assert args[-4:] == ["-n", "2", "-k", "layers"]  # after pytest's first argument, a suite's name is a value
    assert shipped.pytest_args([], tmp_path)[0] == str(folder)

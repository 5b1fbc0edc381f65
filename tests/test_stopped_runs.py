"""Runs that stop early keep what they did: SIGTERM, SIGKILL, a worker that aborts, a flaky example.

Each run is a real pytest process in a folder of its own (the signals must reach a process that is
not this one), with the cwtest plugin loaded from the environment as a user's run would have it.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = """
import os, time
from pathlib import Path

def test_first(record_metric):
    record_metric("done", 1)

def test_long():
    Path("started").write_text("")
    time.sleep(120)
"""
STARTUP_S = 120  # the plugin's start-up imports and, with -n 2, two workers on a loaded machine
EXIT_S = 60


def _start(folder: Path, *args: str) -> subprocess.Popen:
    (folder / "test_stop.py").write_text(PROJECT)
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--crossedwires-report",
                             "r.csv", *args], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def _when_started(folder: Path, run: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_S
    while not (folder / "started").exists():
        assert run.poll() is None, run.stdout.read()
        assert time.monotonic() < deadline, "the long test never started"
        time.sleep(0.2)
    time.sleep(1.0)  # test_first's rows reach the controller


def _rows(path: Path) -> dict[str, dict]:
    with path.open(newline="") as handle:
        return {row["nodeid"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_sigterm_writes_the_report_with_the_finished_rows(tmp_path, workers):
    run = _start(tmp_path, *workers)
    _when_started(tmp_path, run)
    os.killpg(run.pid, signal.SIGTERM)  # the whole process group, as a CI runner at its time limit does
    output, _ = run.communicate(timeout=EXIT_S)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output
    rows = _rows(tmp_path / "r.csv")
    assert {k: r["outcome"] for k, r in rows.items()} == {"test_stop.py::test_first": "passed",
                                                          "test_stop.py::test_long": "interrupted"}, output
    assert rows["test_stop.py::test_first"]["done"] == "1.0"
    assert "cwtest: the run was interrupted (stopped by SIGTERM): 1 tests finished, 1 interrupted" in output
    assert not (tmp_path / "r.csv.partial.jsonl").exists(), "a run that wrote its report keeps no side file"


def test_sigkill_leaves_the_finished_rows_in_the_side_file(tmp_path):
    run = _start(tmp_path, "-n", "2")
    _when_started(tmp_path, run)
    os.killpg(run.pid, signal.SIGKILL)
    run.communicate(timeout=EXIT_S)
    assert not (tmp_path / "r.csv").exists()
    lines = (tmp_path / "r.csv.partial.jsonl").read_text().splitlines()
    assert [json.loads(line)["nodeid"] for line in lines] == ["test_stop.py::test_first"]
    assert json.loads(lines[0])["done"] == 1.0


def test_a_worker_that_aborts_is_named_with_what_it_was_running(pytester):
    pytester.makepyfile(test_abort="""
import os
from cwtest.session import blackbox

def test_aborts():
    blackbox.note(inputs={"shape": (2, 6, 4, 1), "seed": 0}, side="torch:cpu backward")
    os.abort()

def test_survives(record_metric):
    record_metric("fine", 1)
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--crossedwires-report", "r.csv")
    result.stdout.fnmatch_lines(["*cwtest: crash: test_abort.py::test_aborts killed worker gw* in torch:cpu backward "
                                 "with inputs {\"seed\": 0, \"shape\": [[]2, 6, 4, 1[]]}; reproduce: pytest "
                                 "test_abort.py::test_aborts -p no:xdist"])
    rows = _rows(pytester.path / "r.csv")
    crashed = rows["test_abort.py::test_aborts"]
    assert crashed["outcome"] == "crashed"
    assert json.loads(crashed["crash_inputs"]) == {"shape": [2, 6, 4, 1], "seed": 0}
    assert crashed["crash_side"] == "torch:cpu backward"
    assert crashed["reproducer"] == "pytest test_abort.py::test_aborts -p no:xdist"
    assert rows["test_abort.py::test_survives"]["outcome"] == "passed"


def test_a_flaky_hypothesis_example_is_reported_as_non_deterministic(pytester):
    pytester.makepyfile(test_flaky="""
from hypothesis import given, settings, strategies as st

calls = []

@settings(database=None, derandomize=True, max_examples=5)
@given(st.integers(0, 3))
def test_answers_twice(n):
    calls.append(n)
    assert len(calls) != 1, "a side answered differently on its first call"
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--crossedwires-arch", "vgg16")
    result.stdout.fnmatch_lines(["*non-deterministic: the same example failed on one call and passed on another*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED

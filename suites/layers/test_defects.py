"""The catalogued framework defects (cwtest.defects), each by its standalone reproducer.

Each reproducer runs in its own process: a defect that corrupts the heap must not take the test
run down with it. `test_defect_reproduces` is a strict xfail that names the defect: it fails while
the framework computes wrong, and XPASSes (failing the run) once a release fixes it, so that the
catalogue entry is retired. `test_defect_avoided` runs the same program the way the suites feed the
framework, which must be right: it is what keeps the block's other cases under test.
"""

import importlib.util
import subprocess
import sys

import pytest

from cwtest.defects import DEFECTS

# Threads the reproducers run with: the race shows with two or more (cwtest.defects).
THREADS = "2"
TIMEOUT_S = 300


def _run(defect, *args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec(defect.framework) is None:
        pytest.skip(f"{defect.name} is a {defect.framework} defect and {defect.framework} is not installed here")
    return subprocess.run([sys.executable, str(defect.script), THREADS, *args], capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def _verdict(defect, result: subprocess.CompletedProcess) -> str:
    how = f"exit status {result.returncode}" if result.returncode >= 0 else f"killed by signal {-result.returncode}"
    return f"{defect.name}: {how}: {(result.stdout + result.stderr).strip()[-500:]}"


@pytest.mark.parametrize("defect", [
    pytest.param(d, id=d.name, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=d.reason))
    for d in DEFECTS.values()])
def test_defect_reproduces(defect, record_metric):
    result = _run(defect)
    record_metric("reproducer_exit_status", result.returncode)
    assert result.returncode == 0, _verdict(defect, result)


@pytest.mark.parametrize("defect", DEFECTS.values(), ids=list(DEFECTS))
def test_defect_avoided(defect):
    result = _run(defect, "--avoided")
    assert result.returncode == 0, _verdict(defect, result)

"""The catalogued framework defects (cwtest.registries.defects), each by its standalone reproducer.

Each reproducer runs in its own process (cwtest.findings.reproduce): a defect that corrupts the heap must not take
the test run down with it. `test_defect_reproduces` is a strict xfail that names the defect where the
reproducer ran the defective kernel: it fails while the framework computes wrong, and XPASSes
(failing the run) once a release fixes it, so that the catalogue entry is retired. Where another
kernel ran (the log oneDNN writes under ONEDNN_VERBOSE=2 says which), the same program must compute
right; a defect outside oneDNN names no kernel and is a strict xfail wherever it runs, on the releases that
have it (`Defect.since`, `Defect.fixed_in`): a release outside them must compute right.
`test_defect_avoided` runs the same program the way the suites feed the framework, which must
be right: it is what keeps the block's other cases under test.
"""

import importlib.util
import os

import pytest

from cwtest.findings.reproduce import Outcome, Reproducers
from cwtest.registries.defects import DEFECTS, kernels_run

# Threads the reproducers run with: the race shows with two or more (cwtest.registries.defects).
THREADS = "2"
TIMEOUT_S = 300
# A framework's reproducers one after another: they fork from one server, which a run replaces when it moves on.
IN_SERVER_ORDER = sorted(DEFECTS.values(), key=lambda defect: defect.forks_after or "")


@pytest.fixture(scope="module")
def reproducers():
    runner = Reproducers({**os.environ, "ONEDNN_VERBOSE": "2"})  # the kernels created, and those executed
    yield runner
    runner.close()  # its fork server holds a framework's memory; the rest of the run has no use for it


def _run(reproducers: Reproducers, defect, *args: str) -> Outcome:
    if importlib.util.find_spec(defect.framework) is None:
        pytest.skip(f"{defect.name} is a {defect.framework} defect and {defect.framework} is not installed here")
    return reproducers.run(defect, THREADS, *args, timeout_s=TIMEOUT_S)


def _verdict(defect, result: Outcome) -> str:
    how = f"exit status {result.returncode}" if result.returncode >= 0 else f"killed by signal {-result.returncode}"
    said = "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                     if not line.startswith("onednn_verbose"))
    return f"{defect.name}: {how}: {said.strip()[-500:]}"


@pytest.mark.parametrize("defect", IN_SERVER_ORDER, ids=[defect.name for defect in IN_SERVER_ORDER])
def test_defect_reproduces(defect, reproducers, record_metric, request):
    result = _run(reproducers, defect)
    record_metric("reproducer_exit_status", result.returncode)
    ran = kernels_run(result.stdout)
    # A release older than the defect's first, or from the one that fixed it, must compute right.
    if defect.present and (defect.kernel is None or defect.kernel in ran):
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=defect.reason))
    if not defect.present:
        why = f"\n(this {defect.framework} is outside the releases with the defect: {defect.releases})"
    elif defect.kernel is not None and defect.kernel not in ran:
        why = (f"\n(the defect's kernel {defect.kernel} did not run here: {', '.join(sorted(ran)) or 'no oneDNN kernel'}"
               f" did, and computed wrong: a defect of its own)")
    else:
        why = ""
    assert result.returncode == 0, _verdict(defect, result) + why


@pytest.mark.parametrize("defect", IN_SERVER_ORDER, ids=[defect.name for defect in IN_SERVER_ORDER])
def test_defect_avoided(defect, reproducers):
    result = _run(reproducers, defect, "--avoided")
    assert result.returncode == 0, _verdict(defect, result)

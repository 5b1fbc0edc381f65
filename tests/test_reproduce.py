"""A reproducer forked from a server that has imported its framework reports what a fresh interpreter would."""

import os
import signal
import subprocess
import textwrap

import pytest

from cwtest.findings.reproduce import Reproducers
from cwtest.frameworks import forkserver
from cwtest.registries.defects import Defect

pytestmark = pytest.mark.skipif(not forkserver.AVAILABLE, reason="the fork server runs on Linux only")

# Prints through Python and through C's stdio (as oneDNN's verbose log is written), then ends as its argument says.
ENDINGS = textwrap.dedent("""
    import ctypes, os, signal, sys
    print("python says", sys.argv[1:], "on", os.environ.get("KERAS_BACKEND"), "numpy" in sys.modules)
    print("to stderr", file=sys.stderr)
    ctypes.CDLL(None).printf(b"C says hello\\n")
    if sys.argv[1] == "crash":
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGSEGV)
    if sys.argv[1] == "raise":
        raise ValueError("wrong")
    if sys.argv[1] == "sleep":
        import time
        time.sleep(60)
    sys.exit(int(sys.argv[1]) if sys.argv[1].isdigit() else "a message")
""")


def _defect(script, forks_after: str | None) -> Defect:
    return Defect("a_defect", "numpy", "", "", "", "", "", str(script), None, forks_after=forks_after)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "reproducer.py"
    path.write_text(ENDINGS)
    return path


@pytest.mark.parametrize("ending", ["0", "3", "crash", "raise", "message"])
def test_a_forked_reproducer_reports_the_status_and_output_a_fresh_interpreter_reports(script, ending):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    runner = Reproducers(env)
    try:
        forked = runner.run(_defect(script, "numpy"), ending, timeout_s=60)
        fresh = runner.run(_defect(script, None), ending, timeout_s=60)
    finally:
        runner.close()
    assert forked.returncode == fresh.returncode
    assert {"0": 0, "3": 3, "crash": -signal.SIGSEGV, "raise": 1, "message": 1}[ending] == fresh.returncode
    # The fork ran after the server's import of the framework, under KERAS_BACKEND naming it.
    assert forked.stdout.replace("numpy True", "None False").replace("on numpy", "on None") == fresh.stdout
    assert "C says hello" in forked.stdout
    assert forked.stderr.splitlines()[0] == fresh.stderr.splitlines()[0] == "to stderr"
    if ending == "raise":
        assert "ValueError: wrong" in forked.stderr
    if ending == "message":
        assert forked.stderr.splitlines()[-1] == fresh.stderr.splitlines()[-1] == "a message"


def test_a_reproducer_that_follows_keras_backend_runs_on_the_backend_the_environment_names(script):
    runner = Reproducers({**os.environ, "KERAS_BACKEND": "jax"})
    try:
        result = runner.run(_defect(script, "numpy"), "0", timeout_s=60)
    finally:
        runner.close()
    assert "on jax False" in result.stdout  # a fresh interpreter, not a fork of the server for numpy


def test_a_forked_reproducer_past_its_time_is_killed_and_reported(script):
    runner = Reproducers(dict(os.environ))
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            runner.run(_defect(script, "numpy"), "sleep", timeout_s=3)
        assert runner.run(_defect(script, "numpy"), "0", timeout_s=60).returncode == 0  # the server serves on
    finally:
        runner.close()

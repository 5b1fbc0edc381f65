"""Progress lines reach the terminal while a training runs: with xdist (from the workers, through the
controller), without it (past output capture), and not at all with -q.

The training is the shared epoch loop (cwtest.core.training_loop.run_epochs) around a step that takes half a
second, in a real pytest process with the plugin loaded from the environment as a user's run has it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = """
import time
from cwtest.core.training_loop import Plan, Progress, run_epochs

def test_training():
    plan = Plan(1e-3, 1e-7, batch_size=10, epochs=2, train_images=30, test_images=10)
    progress = Progress("trial-x harmonized", plan, print)
    run_epochs(plan, 30, lambda start, stop, number: (time.sleep(0.5), 1.0)[1], "torch:cpu", progress)
"""


def _run(folder: Path, *args: str) -> str:
    (folder / "test_progress_project.py").write_text(PROJECT)
    # an option starts the cwtest run, which shows progress; the project uses no crossedwires fixture
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--crossedwires-arch", "vgg16",
                           *args], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize(("workers", "prefix"), [([], r"cwtest: "), (["-n", "2"], r"\[gw\d\] ")], ids=["serial", "xdist"])
def test_each_side_shows_its_first_step_and_every_epoch(tmp_path, workers, prefix):
    out = _run(tmp_path, *workers)
    test = r"test_progress_project\.py::test_training trial-x harmonized torch:cpu: "
    # Each at the start of a line of its own, not after pytest's result letters.
    assert re.search("^" + prefix + test + r"epoch 1/2 step 1/3, first step 0\.\d s \(warm-up; rates from the next\)$",
                     out, re.M), out
    # The rate leaves the first step out, so it is each later step's: 10 images in half a second, 20 a second.
    for stage in (r"epoch 1/2 loss 1\.0000", r"epoch 2/2 loss 1\.0000"):
        assert re.search("^" + prefix + test + stage + r" (19|20)\.\d images/s, \d+ s left for this side$", out, re.M), out
    # Steps between the epochs' lines are throttled (cwtest.session.live.EVERY_S).
    assert not re.search(r"step [23]/3", out), out


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_quiet_runs_show_no_progress(tmp_path, workers):
    assert "trial-x" not in _run(tmp_path, "-q", *workers)

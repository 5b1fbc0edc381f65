"""Trained pairs saved in the CrossedWires layout load back and give the accuracies they had."""

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from cwtest.frameworks.sides import parse_pair
from cwtest.core.errors import InputError
from cwtest.models import checkpoints

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO / "suites" / "trials" / "test_training.py"


def _row(path: Path) -> dict:
    with open(path, newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    return row


def test_suite_saves_then_loads_a_pair(pytester):
    # Subprocesses: an in-process pytester run unloads the frameworks it imported, and
    # importing TensorFlow a second time into one process crashes it.
    folder = pytester.path / "pairs"
    common = [str(SUITE), "-k", "test_published", "--crossedwires-arch", "vgg16", "--crossedwires-select", "top:1",
              "--crossedwires-checkpoints", str(folder), "-p", "no:cacheprovider"]
    trained = pytester.runpytest_subprocess(*common, "--crossedwires-report", "trained.csv")
    trained.assert_outcomes(passed=1)
    assert (folder / "dual_train_5e67eae2.pt_model.pt").is_file()
    assert (folder / "dual_train_5e67eae2tf_model" / "saved_model.pb").is_file()
    loaded = pytester.runpytest_subprocess(*common, "--crossedwires-report", "loaded.csv")
    loaded.assert_outcomes(passed=1)
    before, after = _row(pytester.path / "trained.csv"), _row(pytester.path / "loaded.csv")
    assert (before["loaded_from_checkpoint"], after["loaded_from_checkpoint"]) == ("0.0", "1.0")
    for column in ("left_test_acc", "right_test_acc", "accuracy_diff"):
        assert before[column] == after[column], column


def test_checkpoint_folder_must_be_creatable(pytester):
    result = pytester.runpytest(str(SUITE), "--collect-only", "--crossedwires-checkpoints", "no/such/parent/pairs")
    result.stderr.fnmatch_lines(["ERROR: --crossedwires-checkpoints: cannot create *: folder * does not exist"])


class _RunsShell:
    """Unpickling it runs `command`, as a crafted pickle can call anything importable."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    import torch

    marker = tmp_path / "created-by-the-checkpoint"
    path = tmp_path / "t.pt_model.pt"
    torch.save({"features.0.weight": _RunsShell(f"touch {marker}")}, path)
    (tmp_path / "ttf_model").mkdir()
    assert checkpoints.present(tmp_path, "vgg16", "t")
    images, labels = np.zeros((2, 32, 32, 3), np.uint8), np.zeros(2, np.int64)
    with pytest.raises(InputError) as refused:
        checkpoints.evaluate(tmp_path, "vgg16", "t", parse_pair("torch:cpu,tensorflow:cpu"), images, labels, 8)
    assert not marker.exists()
    message = str(refused.value)
    assert "\n" not in message and message.startswith(
        f"--crossedwires-checkpoints: {path} is not a plain state dict and was not loaded "
        "(torch.load with weights_only=True refused it: ")
    assert "posix.system" in message
    torch.load(path, weights_only=False)  # what loading without weights_only would have done
    assert marker.exists()

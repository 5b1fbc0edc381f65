"""Trained pairs saved in the CrossedWires layout load back and give the accuracies they had."""

import csv
from pathlib import Path

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

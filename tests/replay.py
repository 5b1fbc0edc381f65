"""A real report of trained pairs without training: a pytest session whose tests record the published
trials' own accuracies and loss curves under the metric names the training suite uses."""

import subprocess
import sys
from pathlib import Path

REPLAY = '''
def test_published(crossedwires_trial, record_metric):
    trial = crossedwires_trial
    record_metric("left_test_acc", trial.pt_test_acc)
    record_metric("right_test_acc", trial.tf_test_acc)
    record_metric("accuracy_diff", abs(trial.pt_test_acc - trial.tf_test_acc))
    for epoch, loss in enumerate(trial.pt_average_training_loss, 1):
        record_metric(f"left_loss_epoch_{epoch}", loss)
    for epoch, loss in enumerate(trial.tf_training_loss, 1):
        record_metric(f"right_loss_epoch_{epoch}", loss)
'''


def replay_report(folder: Path, tables: Path, select: str) -> Path:
    """The report of replaying the trials `select` picks from the published tables."""
    (folder / "test_replay.py").write_text(REPLAY)
    report = folder / "replay.csv"
    run_session(folder, [str(folder / "test_replay.py"), "--crossedwires-trials", str(tables),
                         "--crossedwires-select", select, "--crossedwires-report", str(report)])
    return report


def run_session(folder: Path, args: list[str]) -> None:
    """A pytest session of its own (a process of its own: nothing it imports leaks into this one)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                             "--rootdir", str(folder), *args], capture_output=True, text=True, cwd=folder)
    assert result.returncode == 0, f"the session failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"

"""What each figure shows, taken from a trial table or from a CSV report.

A report's trained pairs carry `left_test_acc`, `right_test_acc` and `accuracy_diff`, per-epoch
losses as `left_loss_epoch_N` / `right_loss_epoch_N`, and their sides in the `pair` column
(`torch:cpu->tensorflow:cpu`); the trial table carries the published numbers.
"""

from __future__ import annotations

import re
from collections import defaultdict

from cwtest.analysis.plots import ArchAccuracies
from cwtest.core.errors import InputError
from cwtest.inputs.trials import ARCHITECTURES, LOSS_CURVES, Trial
from cwtest.report.reader import Report, frameworks_of, number, trained_rows

DISPLAY = {"torch": "PyTorch", "tensorflow": "TensorFlow", "onnxruntime": "ONNX Runtime"}
TABLE_NAMES = ("PyTorch", "TensorFlow")
CURVE_NAMES = {"pt_average_training_loss": "PyTorch, mean over the epoch",
               "pt_latest_training_loss": "PyTorch, last batch of the epoch", "tf_training_loss": "TensorFlow"}
_LOSS_COLUMN = re.compile(r"(left|right)_loss_epoch_(\d+)$")


def from_trials(trials: list[Trial]) -> list[ArchAccuracies]:
    return [ArchAccuracies(arch, tuple(t.pt_test_acc for t in group), tuple(t.tf_test_acc for t in group),
                           tuple(t.accuracy_diff for t in group))
            for arch in ARCHITECTURES if (group := [t for t in trials if t.arch == arch])]


def _side_names(pair: str) -> tuple[str, str]:
    names = [DISPLAY.get(framework, framework) for framework in frameworks_of(pair)]
    return (f"{names[0]} (left)", f"{names[1]} (right)") if names[0] == names[1] else (names[0], names[1])


def from_report(report: Report, test: str | None) -> tuple[list[ArchAccuracies], tuple[str, str]]:
    """The trained pairs of one test function (`test`, needed when the report has several)."""
    rows = trained_rows(report, test)
    groups = []
    for arch in ARCHITECTURES:
        group = [r for r in rows if r["arch"] == arch]
        if group:
            groups.append(ArchAccuracies(arch, tuple(number(r, "left_test_acc") for r in group),
                                         tuple(number(r, "right_test_acc") for r in group),
                                         tuple(number(r, "accuracy_diff") for r in group)))
    return groups, _side_names(rows[0]["pair"])


def trial_losses(trials: list[Trial], name: str) -> tuple[Trial, dict[str, list[float]]]:
    """The recorded curves of the trial `name` (its Name, or arch-Name where names repeat)."""
    found = [t for t in trials if name in (t.name, t.id)]
    if len(found) != 1:
        raise InputError(f"--trial: {name!r} matches {len(found)} trials; give a trial name such as "
                         f"{trials[0].name} (or arch-name)")
    trial = found[0]
    curves = {CURVE_NAMES[column]: list(getattr(trial, column)) for column in LOSS_CURVES if getattr(trial, column)}
    if not curves:
        raise InputError(f"--trial: {trial.id} has no recorded loss curves")
    return trial, curves


def report_losses(report: Report, test: str) -> tuple[str, dict[str, list[float]]]:
    """The per-epoch losses of the one report row whose node id contains `test`."""
    rows = [r for r in report.rows.values()
            if test in r["nodeid"] and any(_LOSS_COLUMN.match(c) and r[c] for c in report.columns)]
    if len(rows) != 1:
        raise InputError(f"--test: {test!r} matches {len(rows)} rows with per-epoch losses in {report.path}; "
                         f"give a part of the node id that names one")
    row = rows[0]
    epochs: dict[str, dict[int, float]] = defaultdict(dict)
    for column in report.columns:
        match = _LOSS_COLUMN.match(column)
        if match and row[column]:
            epochs[match[1]][int(match[2])] = number(row, column)
    names = dict(zip(("left", "right"), _side_names(row["pair"])))
    return row["nodeid"], {f"{names[side]} training loss": [v for _, v in sorted(epochs[side].items())]
                           for side in ("left", "right") if side in epochs}


def overview(report: Report) -> tuple[dict[str, dict[str, int]], dict[str, float]]:
    """Per suite and architecture: tests by outcome, and the seconds they took."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seconds: dict[str, float] = defaultdict(float)
    for row in report.rows.values():
        group = " ".join(part for part in (row["suite"] or "(outside suites)", row["arch"]) if part)
        counts[group][row["outcome"]] += 1
        seconds[group] += number(row, "duration_s") or 0.0
    order = sorted(counts)
    return {g: dict(counts[g]) for g in order}, {g: seconds[g] for g in order}

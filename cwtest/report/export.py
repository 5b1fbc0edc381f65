"""A run's trained pairs as rows of the CrossedWires export, so new results sit beside the published.

The columns are the published Weights & Biases export's, in its order, followed by what the
published table lacks: the architecture (so `cwtest.inputs.trials.load_table` reads the file back
under any name), the budget, the pair of sides, the device, the framework versions and the
report's node id. Hyperparameters come from the trial table the run used (the report names
the trial only); `epochs` is the trial's, the budget says whether the run cut it short.
`Created` is the report's modification time: the report does not time its tests.
"""

from __future__ import annotations

import datetime
import json

from cwtest.frameworks.sides import reported_pair
from cwtest.core.errors import InputError
from cwtest.inputs.trials import Trial
from cwtest.report.reader import Report, number, trained_rows, version_columns

PUBLISHED = ("Name", "accuracy_diff", "pt_test_acc", "tf_test_acc", "State", "Notes", "User", "Tags", "Created",
             "Runtime", "Sweep", "adam_epsilon", "batch_size", "date", "epochs", "experiment_id", "hostname",
             "learning_rate", "node_ip", "pid", "trial_id", "wandb.project", "config/adam_epsilon",
             "config/batch_size", "config/epochs", "config/learning_rate", "iterations_since_restore",
             "pt_average_training_loss", "pt_latest_training_loss", "tf_training_loss", "time_since_restore",
             "time_this_iter_s", "time_total_s", "timestamp", "timesteps_since_restore", "training_iteration")
EXTRA = ("architecture", "budget", "pair", "device", "cwtest_nodeid")
# W&B run states for tests that did not finish; a finished test (passed or not) finished its training.
_STATE = {"error": "failed", "crashed": "crashed", "interrupted": "killed"}


def _losses(row: dict[str, str], side: str) -> str:
    epochs = sorted(int(k.rsplit("_", 1)[1]) for k, v in row.items() if k.startswith(f"{side}_loss_epoch_") and v)
    return json.dumps([number(row, f"{side}_loss_epoch_{e}") for e in epochs]) if epochs else ""


def export_rows(report: Report, trials: list[Trial], test: str | None) -> tuple[list[str], list[dict]]:
    """(columns, rows) of the export for the report's trained torch/TensorFlow pairs."""
    rows = trained_rows(report, test)
    columns = reported_pair(rows[0]["pair"]).crossedwires_columns
    if columns is None:
        raise InputError(f"report {report.path}: the export holds torch/TensorFlow pairs, not {rows[0]['pair']}")
    pt, tf = columns
    by_id = {(t.arch, t.name): t for t in trials}
    created = datetime.datetime.fromtimestamp(report.path.stat().st_mtime, datetime.UTC)
    versions = list(version_columns(report.columns))
    found = []
    for row in rows:
        trial = by_id.get((row["arch"], row["trial"]))
        if trial is None:
            raise InputError(f"--trials: no trial {row['trial']} ({row['arch']}) for report row {row['nodeid']}")
        found.append({
            "Name": trial.name, "accuracy_diff": number(row, "accuracy_diff"),
            "pt_test_acc": number(row, f"{pt}_test_acc"), "tf_test_acc": number(row, f"{tf}_test_acc"),
            "State": _STATE.get(row["outcome"], "finished"), "Notes": "-",
            "Created": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "Runtime": round(number(row, "duration_s") or 0),
            "adam_epsilon": trial.adam_epsilon, "batch_size": trial.batch_size, "epochs": trial.epochs,
            "learning_rate": trial.learning_rate, "pt_average_training_loss": _losses(row, pt),
            "tf_training_loss": _losses(row, tf), "architecture": trial.arch, "budget": row["budget"],
            "pair": row["pair"], "device": row["device"], "cwtest_nodeid": row["nodeid"],
            **{c: row[c] for c in versions},
        })
    return [*PUBLISHED, *EXTRA, *versions], found


"""The living dataset: each found trial appended to a CSV in the CrossedWires export schema as it ends.

The columns are the published export's (cwtest.report.export.PUBLISHED) and then what a found trial
adds: its architecture, budget, pair, the sides' backends and versions, the objective and its value,
the subspace and the trial's number in it. `cwtest.inputs.trials.load_table` reads the file as a trial
table (`--crossedwires-trials found.csv`). A row is written whole and synced before the next trial
starts, so a search killed mid-trial loses that trial only, and a search resumes from the rows there.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
from pathlib import Path

from cwtest.frameworks.sides import Pair
from cwtest.core.errors import InputError
from cwtest.report.export import PUBLISHED

EXTRA = ("architecture", "budget", "pair", "backends", "objective", "objective_value", "subspace", "subspace_trial",
         "search_space")
COLUMNS = (*PUBLISHED, *EXTRA)


def trial_name(objective: str, subspace: int, number: int) -> str:
    return f"search_{objective}_s{subspace:02d}_t{number:03d}"


def row(found: dict, config: dict, *, arch: str, budget: str, pair: Pair, backends: str, objective: str,
        subspace: int, number: int, space: str, seconds: float) -> dict:
    """A found trial as an export row; `found` is cwtest.search.objective.score's result. The torch side's
    numbers go where the export has PyTorch's, the Keras side's where it has TensorFlow's."""
    pt, tf = pair.torch_first(("left", "right"))
    return {
        "Name": trial_name(objective, subspace, number), "accuracy_diff": found["published_accuracy_diff"],
        "pt_test_acc": found[f"{pt}_published_test_acc"], "tf_test_acc": found[f"{tf}_published_test_acc"],
        "State": "finished", "Notes": "-", "Created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "Runtime": round(seconds), "adam_epsilon": config["adam_epsilon"], "batch_size": int(config["batch_size"]),
        "epochs": int(config["epochs"]), "learning_rate": config["learning_rate"],
        "config/adam_epsilon": config["adam_epsilon"], "config/batch_size": int(config["batch_size"]),
        "config/epochs": int(config["epochs"]), "config/learning_rate": config["learning_rate"],
        "pt_average_training_loss": _curve(found, pt, config), "tf_training_loss": _curve(found, tf, config),
        "architecture": arch, "budget": budget, "pair": str(pair), "backends": backends, "objective": objective,
        "objective_value": found["objective"], "subspace": subspace, "subspace_trial": number, "search_space": space,
    }


def _curve(found: dict, side: str, config: dict) -> str:
    """A side's per-epoch losses, where it trained every epoch of the trial: a table holds one loss per epoch,
    and a budget that cut the epochs short leaves the curve out (the `budget` column says so)."""
    losses = found[f"{side}_epoch_losses"]
    return json.dumps(losses) if len(losses) == int(config["epochs"]) else ""


def append(path: Path, entry: dict) -> None:
    """One row, whole, on disk before this returns; the header first where the file is new."""
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, restval="", lineterminator="\n")
        if new:
            writer.writeheader()
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in entry.items()})
        out.flush()
        os.fsync(out.fileno())


def read(path: Path, *, arch: str, objective: str, budget: str, pair: str, space: str) -> list[dict]:
    """The rows of an earlier run of the same search, to resume it; a file of another search is refused."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    _drop_cut_line(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            header = tuple(reader.fieldnames or ())
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"--out {path}: cannot read it to resume ({exc})") from None
    if header != COLUMNS or any(None in r or None in r.values() for r in rows):
        raise InputError(f"--out {path}: not a cwtest search results file; name a new file or an earlier search's")
    wanted = {"architecture": arch, "objective": objective, "budget": budget, "pair": pair, "search_space": space}
    for entry in rows:
        other = {k: entry[k] for k, v in wanted.items() if entry[k] != v}
        if other:
            raise InputError(f"--out {path}: holds a search with other settings "
                             f"({', '.join(f'{k} {v}' for k, v in other.items())}); name a new file to start another")
    return rows


def _drop_cut_line(path: Path) -> None:
    """A process killed while writing a row can leave part of it: that trial did not end, so it goes."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as out:
            out.truncate(data.rfind(b"\n") + 1)


def read_found(path: str | Path) -> list[dict]:
    """Every row of a results file, for figures and tables."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if tuple(reader.fieldnames or ()) != COLUMNS or not rows:
        raise InputError(f"{path}: not a cwtest search results file with trials in it")
    return rows

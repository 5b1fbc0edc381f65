"""The CrossedWires trial table: read, validate and type the Weights & Biases exports.

One file holds one architecture's trials (`vgg_cifar10_wandb_export.csv`, ...); the
architecture comes from an `architecture` column when present, else from the file
name, else from the `wandb.project` column. A folder means every `*.csv` in it.

The built-in table (`builtin_trials.csv`) holds the 18 trials of the paper's Tables 4-6.
VGG16 and DenseNet121 rows carry the ids of the matching rows of the published export;
the paper's ResNet50 table matches no row of the published ResNet export (it came from an
earlier sweep), so those six rows are named after their place in Table 5.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cwtest.core.errors import InputError

ARCHITECTURES = ("vgg16", "resnet50", "densenet121")
# Prefixes of the published file names and W&B project names.
_ARCH_PREFIX = {"vgg": "vgg16", "resnet": "resnet50", "densenet": "densenet121"}

REQUIRED = ("Name", "State", "learning_rate", "batch_size", "epochs", "adam_epsilon",
            "pt_test_acc", "tf_test_acc", "accuracy_diff")
LOSS_CURVES = ("pt_average_training_loss", "pt_latest_training_loss", "tf_training_loss")

# The published search space (../shared/docs/protocol.md); a row outside it is a malformed table.
RANGES = {
    "learning_rate": (1e-8, 0.1),
    "batch_size": (10, 1000),
    "epochs": (1, 50),
    "adam_epsilon": (1e-8, 1.0),
    "pt_test_acc": (0.0, 1.0),
    "tf_test_acc": (0.0, 1.0),
    "accuracy_diff": (0.0, 1.0),
}
INTEGERS = ("batch_size", "epochs")
HYPERPARAMETERS = ("learning_rate", "batch_size", "epochs", "adam_epsilon")
# The paper's threshold for calling a pair divergent (its Tables 2-3).
DIVERGENT = 0.05
# Range checks compare with a relative slack: the exports store 1e-08 as 9.9999999e-09 and alike.
_SLACK = 1e-6


@dataclass(frozen=True)
class Trial:
    arch: str
    name: str
    state: str
    learning_rate: float
    batch_size: int
    epochs: int
    adam_epsilon: float
    pt_test_acc: float
    tf_test_acc: float
    accuracy_diff: float
    runtime_s: float | None = None
    created: str = ""
    pt_average_training_loss: tuple[float, ...] = ()
    pt_latest_training_loss: tuple[float, ...] = ()
    tf_training_loss: tuple[float, ...] = ()
    source: str = ""

    @property
    def id(self) -> str:
        return f"{self.arch}-{self.name}"

    @property
    def finished(self) -> bool:
        return self.state == "finished"

    @property
    def divergent(self) -> bool:
        return self.accuracy_diff >= DIVERGENT


@dataclass(frozen=True)
class TrialTable:
    trials: tuple[Trial, ...]  # every row, finished or not, in file order
    source: str

    @property
    def finished(self) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if t.finished)

    @property
    def unfinished(self) -> tuple[Trial, ...]:
        return tuple(t for t in self.trials if not t.finished)

    def to_frame(self):
        """All rows as a pandas DataFrame, one column per Trial field."""
        import pandas as pd

        fields = list(Trial.__dataclass_fields__)
        return pd.DataFrame([[getattr(t, f) for f in fields] for t in self.trials], columns=fields)


BUILTIN = "built-in (paper Tables 4-6)"


def load_table(path: str | Path | None = None, option: str = "--crossedwires-trials") -> TrialTable:
    """Read the built-in table (path None), one export CSV, or a folder of them; `option` names the
    input in error messages."""
    if path is None:
        with resources.as_file(resources.files("cwtest.inputs") / "builtin_trials.csv") as builtin:
            return TrialTable(tuple(_read_csv(builtin, label="built-in trial table")), BUILTIN)
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise InputError(f"{option}: no *.csv file in folder {path}")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{option}: no such file or folder: {path}")
    trials: list[Trial] = []
    for file in files:
        trials.extend(_read_csv(file, label=str(file)))
    _check_unique(trials)
    return TrialTable(tuple(trials), str(path))


def _read_csv(file: Path, label: str) -> list[Trial]:
    try:
        with open(file, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{label}: cannot read as CSV ({exc})") from None
    if not rows:
        raise InputError(f"{label}: no trial rows")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{label}: missing column(s) {', '.join(missing)}")
    file_arch = None if "architecture" in header else _arch_of(file, rows[0], label)
    return [_trial(row, file_arch or _known_arch(row["architecture"], label), label) for row in rows]


def _arch_of(file: Path, first_row: dict, label: str) -> str:
    for text in (file.name, first_row.get("wandb.project") or ""):
        for prefix, arch in _ARCH_PREFIX.items():
            if text.lower().startswith(prefix):
                return arch
    raise InputError(f"{label}: cannot tell the architecture: name the file vgg_*/resnet_*/densenet_*.csv "
                     f"or add an 'architecture' column")


def _known_arch(value: str, label: str) -> str:
    if value not in ARCHITECTURES:
        raise InputError(f"{label}: unknown architecture {value!r} (known: {', '.join(ARCHITECTURES)})")
    return value


def _trial(row: dict, arch: str, label: str) -> Trial:
    name = (row["Name"] or "").strip()
    if not name:
        raise InputError(f"{label}: a row has an empty Name")
    where = f"{label}: trial {name}"
    numbers = {column: _number(row[column], column, where) for column in RANGES}
    runtime = row.get("Runtime") or ""
    return Trial(
        arch=arch,
        name=name,
        state=(row["State"] or "").strip(),
        runtime_s=_number(runtime, "Runtime", where) if runtime.strip() else None,
        created=row.get("Created") or "",
        source=label,
        **{c: int(v) if c in INTEGERS else v for c, v in numbers.items()},
        **{c: _curve(row.get(c) or "", c, where) for c in LOSS_CURVES},
    )


def _number(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {column} is not a number: {text!r}") from None
    if column in RANGES:
        low, high = RANGES[column]
        if not (low * (1 - _SLACK) <= value <= high * (1 + _SLACK)):
            raise InputError(f"{where}: {column}={text} is outside the search range [{low:g}, {high:g}]")
        if column in INTEGERS and value != int(value):
            raise InputError(f"{where}: {column}={text} is not a whole number")
    elif not math.isfinite(value):
        raise InputError(f"{where}: {column} is not finite: {text!r}")
    return value


def _curve(text: str, column: str, where: str) -> tuple[float, ...]:
    """A per-epoch loss list stored as text; a blown-up loss stays as the huge number it is."""
    if not text.strip():
        return ()
    try:
        values = json.loads(text)
        return tuple(float(v) for v in values)
    except (ValueError, TypeError):
        raise InputError(f"{where}: {column} is not a list of numbers") from None


def _check_unique(trials: list[Trial]) -> None:
    seen: dict[str, str] = {}
    for trial in trials:
        if trial.id in seen:
            raise InputError(f"{trial.source}: trial {trial.name} ({trial.arch}) also appears in {seen[trial.id]}")
        seen[trial.id] = trial.source

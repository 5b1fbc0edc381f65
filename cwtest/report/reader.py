"""Read a cwtest CSV report back, refusing anything that is not one whole report of this schema.

`compare`, `plot` and `export` all start from a report; each of them gets the same checks, so a
truncated, foreign or hand-merged file is one clear line instead of a wrong answer.
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from pathlib import Path

from cwtest.core.errors import InputError
from cwtest.report.writer import CRASH_COLUMNS, HEAD, SCHEMA_VERSION

VERSION_SUFFIX = "_version"


@dataclass(frozen=True)
class Report:
    path: Path
    columns: tuple[str, ...]
    rows: dict[str, dict[str, str]]  # nodeid -> the row as written

    @property
    def metrics(self) -> tuple[str, ...]:
        return metric_columns(self.columns)

    @property
    def versions(self) -> dict[str, str]:
        """framework -> the version(s) the report's rows name ('' where not installed)."""
        return {column[:-len(VERSION_SUFFIX)]: "/".join(sorted({row[column] for row in self.rows.values()}))
                for column in version_columns(self.columns)}

    @property
    def devices(self) -> str:
        return ",".join(sorted({row["device"] for row in self.rows.values() if row["device"]})) or "-"


def version_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    """`torch_version`, ...: what the writing process had installed (schema_version is not one)."""
    return tuple(c for c in columns if c not in HEAD and c.endswith(VERSION_SUFFIX))


def metric_columns(columns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in columns if c not in HEAD and c not in CRASH_COLUMNS and c not in version_columns(columns))


def number(row: dict[str, str], column: str) -> float | None:
    """A metric cell as a float; None where the test did not record it."""
    text = row.get(column) or ""
    return float(text) if text else None


def read_report(path: str | Path, label: str) -> Report:
    """`label` names the input in messages (the argument's role, e.g. 'baseline')."""
    path = Path(path)
    where = f"{label} {path}"
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = tuple(reader.fieldnames or ())
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{where}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    if not columns:
        raise InputError(f"{where}: empty file, not a cwtest report")
    if "schema_version" not in columns:
        raise InputError(f"{where}: not a cwtest report (no schema_version column)")
    missing = [c for c in HEAD if c not in columns]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)}")
    if not rows:
        raise InputError(f"{where}: no test rows")
    by_nodeid: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise InputError(f"{where}: line {line} has {'more' if None in row else 'fewer'} cells than the header")
        if row["schema_version"] != str(SCHEMA_VERSION):
            raise InputError(f"{where}: line {line} has schema version {row['schema_version']!r}; "
                             f"this cwtest reads version {SCHEMA_VERSION}")
        if row["nodeid"] in by_nodeid:
            raise InputError(f"{where}: duplicate row for {row['nodeid']} (line {line})")
        _check_numbers(row, columns, f"{where}: line {line}")
        by_nodeid[row["nodeid"]] = row
    return Report(path, columns, by_nodeid)


def _check_numbers(row: dict[str, str], columns: tuple[str, ...], where: str) -> None:
    for column in ("duration_s", *metric_columns(columns)):
        try:
            number(row, column)
        except ValueError:
            raise InputError(f"{where}: {column} is not a number: {row[column]!r}") from None


def function_of(nodeid: str) -> str:
    """`suites/trials/test_training.py::test_published[vgg16-x]` -> `test_published`."""
    return nodeid.split("::")[-1].split("[")[0]


def frameworks_of(pair: str) -> tuple[str, str]:
    """`torch:cpu->tensorflow:cpu` -> ('torch', 'tensorflow')."""
    left, _, right = pair.partition("->")
    return left.split(":")[0], right.split(":")[0]


def trained_rows(report: Report, test: str | None) -> list[dict[str, str]]:
    """The rows of trained pairs (both accuracies recorded) of one test function, from one pair of sides;
    `test` names the function where the report holds several."""
    rows = [r for r in report.rows.values()
            if number(r, "left_test_acc") is not None and number(r, "right_test_acc") is not None
            and (test is None or function_of(r["nodeid"]) == test)]
    if not rows:
        wanted = f" from {test}" if test else ""
        raise InputError(f"report {report.path}: no row{wanted} with left_test_acc and right_test_acc "
                         f"(the accuracies of a trained pair)")
    functions = sorted({function_of(r["nodeid"]) for r in rows})
    if len(functions) > 1:
        raise InputError(f"report {report.path}: accuracies from {', '.join(functions)}; choose one with --test")
    pairs = sorted({r["pair"] for r in rows})
    if len(pairs) > 1:
        raise InputError(f"report {report.path}: rows from more than one pair ({', '.join(pairs)})")
    return rows


@functools.lru_cache(maxsize=4)
def read_baseline(path: Path) -> Report:
    """A previous report as the baseline of a run: read and checked once."""
    return read_report(path, "--crossedwires-baseline")


def baseline_value(path: Path, nodeid: str, column: str) -> float | None:
    """The baseline's number for this test, None where it has none (a new test, an empty cell)."""
    row = read_baseline(path).rows.get(nodeid)
    value = number(row, column) if row else None
    return value if value is not None and math.isfinite(value) else None

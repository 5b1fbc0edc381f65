"""A previous CSV report as the baseline of a run: its numbers per test, read once."""

from __future__ import annotations

import csv
import functools
import math
from pathlib import Path

from cwtest.errors import InputError

OPTION = "--crossedwires-baseline"


@functools.lru_cache(maxsize=4)
def read_baseline(path: Path) -> dict[str, dict[str, str]]:
    """nodeid -> row of the report at `path`."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{OPTION}: cannot read {path} ({exc})") from None
    if not rows or "nodeid" not in rows[0]:
        raise InputError(f"{OPTION}: {path} is not a cwtest report (no rows with a nodeid column)")
    return {row["nodeid"]: row for row in rows}


def baseline_value(path: Path, nodeid: str, column: str) -> float | None:
    """The baseline's number for this test, None where it has none (a new test, an empty cell)."""
    text = read_baseline(path).get(nodeid, {}).get(column) or ""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None

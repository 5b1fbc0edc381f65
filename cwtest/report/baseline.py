"""A previous CSV report as the baseline of a run: its numbers per test, read and checked once."""

from __future__ import annotations

import functools
import math
from pathlib import Path

from cwtest.report.reader import Report, number, read_report


@functools.lru_cache(maxsize=4)
def read_baseline(path: Path) -> Report:
    return read_report(path, "--crossedwires-baseline")


def baseline_value(path: Path, nodeid: str, column: str) -> float | None:
    """The baseline's number for this test, None where it has none (a new test, an empty cell)."""
    row = read_baseline(path).rows.get(nodeid)
    value = number(row, column) if row else None
    return value if value is not None and math.isfinite(value) else None

"""What each side computed under, read back from the frameworks while it computed.

Adapters and trainers record a side each time they enter its precision mode; the suites'
fixture turns the records of one test into its report row's `precision` and `deterministic`
columns. A test that computed nothing leaves them empty: nothing was in force for it.
"""

from __future__ import annotations

_records: dict[str, tuple[str, str]] = {}  # side -> (precision, deterministic kernels)


def record(side, precision: str, deterministic: str) -> None:
    _records[str(side)] = (precision, deterministic)


def recorded() -> dict[str, tuple[str, str]]:
    """The records so far, as plain data: what a child process sends back with each result."""
    return dict(_records)


def clear() -> None:
    _records.clear()


def columns() -> dict[str, str]:
    """{"precision": "torch:cpu=fp32 torch:cuda=tf32", "deterministic": "..."} for what was recorded."""
    return {name: " ".join(f"{side}={values[i]}" for side, values in sorted(_records.items()))
            for i, name in enumerate(("precision", "deterministic"))}

"""The CSV report: one row per test, written once by the process that sees every result.

Tests record metrics as user properties (`metric:NAME`, plain floats) and their context
as `cw:FIELD` properties; both travel inside pytest's test reports, which xdist sends to
the controller, and pytest's JUnit writer turns them into `<property>` elements too.
The controller folds the setup/call/teardown reports of a test into one row and writes
the file at session end (also after an interruption) through a temporary file and a rename.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import tempfile
from pathlib import Path

from cwtest.core.properties import CONTEXT, METRIC
from cwtest.frameworks import versions_of
from cwtest.frameworks.imports import framework_versions
from cwtest.frameworks.sides import reported_pair

SCHEMA_VERSION = 3  # 2: precision and deterministic columns; 3: backends
# precision and deterministic: what each side computed under, read back from the frameworks (cwtest.frameworks.observed).
CONTEXT_FIELDS = ("arch", "trial", "pair", "device", "budget", "precision", "deterministic")
# backends: what each side of the row's pair runs on, with versions (`torch:cpu: torch 2.14.1, torchvision 0.29.1;
# keras-jax:cpu: keras 3.15.1, jax 0.10.2`), read by the writer from the row's pair.
HEAD = ("schema_version", "nodeid", "suite", *CONTEXT_FIELDS, "backends", "outcome", "duration_s")
# A test's row takes the most severe outcome of its phases (a teardown error spoils a pass).
SEVERITY = ("passed", "skipped", "xfailed", "xpassed", "failed", "error", "crashed")
# A test whose teardown never reported (the run was stopped inside it) did not finish.
UNFINISHED = "interrupted"


PEAK_RSS = "process_peak_rss_mb"  # the column: the peak resident memory of the test's process so far
# The column: the peak of the Keras child processes the test's process started (where the Keras trainings run),
# with the fork servers they came from (cwtest.frameworks.child.children_peak_mb)
CHILDREN_PEAK_RSS = "keras_children_peak_rss_mb"
# The text columns the controller adds to a crashed test's row (cwtest.session.run): what its worker was running.
CRASH_COLUMNS = ("crash_worker", "crash_side", "crash_inputs", "reproducer")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB, macOS bytes; nan elsewhere)."""
    import sys

    try:
        import resource
    except ImportError:  # Windows
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def suite_of(nodeid: str) -> str:
    """`suites/transfer/test_x.py::t` -> `transfer`; tests outside suites/ have none."""
    parts = nodeid.split("::")[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "suites" else ""


def _phase_outcome(report) -> str:
    xfail = hasattr(report, "wasxfail")
    if report.when == "???":  # xdist's report for a test whose worker died under it
        return "crashed"
    if report.failed:
        return "failed" if report.when == "call" else "error"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return "xpassed" if xfail and report.when == "call" else "passed"


class Collector:
    """Folds test reports into rows; lives only in the process that writes the report."""

    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}
        self.finished: set[str] = set()

    def _row(self, nodeid: str) -> dict:
        return self.rows.setdefault(nodeid, {"nodeid": nodeid, "suite": suite_of(nodeid), "outcome": "passed",
                                             "duration_s": 0.0})

    def add(self, report) -> None:
        row = self._row(report.nodeid)
        row["duration_s"] += float(getattr(report, "duration", 0.0) or 0.0)
        for key, value in getattr(report, "user_properties", ()):
            if key.startswith(METRIC):
                row[key[len(METRIC):]] = float(value)
            elif key.startswith(CONTEXT) and key[len(CONTEXT):] in CONTEXT_FIELDS:
                row[key[len(CONTEXT):]] = str(value)
        if report.when in ("teardown", "???"):
            self.finished.add(report.nodeid)
        outcome = _phase_outcome(report)
        if SEVERITY.index(outcome) > SEVERITY.index(row["outcome"]):
            row["outcome"] = outcome

    def annotate(self, nodeid: str, fields: dict[str, str]) -> None:
        """Text columns the controller adds to a row (what a crashed worker was running)."""
        self._row(nodeid).update(fields)

    def table(self) -> tuple[list[str], list[dict]]:
        versions = {f"{name}_version": version for name, version in framework_versions().items()}
        rows = [dict(self.rows[k], schema_version=SCHEMA_VERSION, **versions) for k in sorted(self.rows)]
        for row in rows:
            if row["nodeid"] not in self.finished:
                row["outcome"] = UNFINISHED
            if row.get("pair"):
                row["backends"] = backends_text(row["pair"])
        metrics = sorted({k for row in rows for k in row} - set(HEAD) - set(versions))
        return [*HEAD, *metrics, *versions], rows


@functools.cache
def backends_text(pair: str) -> str:
    """Each side of a reported pair with what it runs on: `side: distribution version, ...; side: ...`;
    empty where the row's pair is not a pair of sides (a user's own `cw:pair` property)."""
    try:
        sides = reported_pair(pair)
    except ValueError:
        return ""
    return "; ".join(f"{side}: " + ", ".join(f"{name} {version or 'not installed'}"
                                             for name, version in versions_of(side).items())
                     for side in (sides.left, sides.right))


def write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the whole new one, never a half-written one."""
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False, encoding="utf-8", newline="")
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # A temporary file is private (0600); the report gets the permissions any new file would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


class PartialRows:
    """The side file beside a report, `<report>.partial.jsonl`: each finished test's row as one JSON
    line, appended and flushed as the test finishes, so that a run killed outright (SIGKILL, a power
    cut) still leaves its finished rows. A run that ends writes the report and removes the side file."""

    def __init__(self, report: Path) -> None:
        self.path = report.with_name(report.name + ".partial.jsonl")
        self.path.write_text("", encoding="utf-8")  # an earlier run's leftovers are not this run's rows

    def append(self, row: dict) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def render(columns: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buffer.getvalue()

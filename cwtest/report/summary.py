"""The end-of-run table: per suite and architecture, tests by outcome and the largest divergences.

Each group shows the most telling divergence it recorded: the accuracy difference of trained
pairs where there is one, else the largest relative error (logits, layers), else the relative
L2 error of gradients; a test's value is its largest over the metrics of that kind.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass

from cwtest.core.metrics import TOLERANCE_RATIO
from cwtest.report.writer import SEVERITY, UNFINISHED

# (metric pattern, how the table names it), most telling first.
DIVERGENCES = (("accuracy_diff", "accuracy diff"), ("*max_rel", "max rel error"),
               ("*relative_l2", "gradient rel L2"))
SHOWN = 2  # largest divergences per group


def _divergence(rows: list[dict]) -> tuple[str, list[tuple[float, str]]]:
    """(label, [(value, test), ...] largest first) for the first kind of divergence the rows recorded."""
    for pattern, label in DIVERGENCES:
        found = []
        for row in rows:
            values = [v for k, v in row.items() if fnmatch.fnmatchcase(k, pattern) and isinstance(v, float)
                      and not math.isnan(v)]
            if values:
                found.append((max(values), row["nodeid"].split("::")[-1]))
        if found:
            return label, sorted(found, key=lambda f: (-f[0], f[1]))
    return "", []


def lines(rows: list[dict]) -> list[str]:
    """The table for the collector's rows (cwtest.report.writer.Collector), [] when there are none."""
    if not rows:
        return []
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["suite"] or "-", row.get("arch") or "-"), []).append(row)
    outcomes = [o for o in (*SEVERITY, UNFINISHED) if any(r["outcome"] == o for r in rows)]
    suite_width = max(len("suite"), *(len(s) for s, _ in groups))
    table = [f"{'suite':<{suite_width}} {'arch':<11} " + " ".join(f"{o:>7}" for o in outcomes)
             + "  largest divergence"]
    for (suite, arch), group in sorted(groups.items()):
        counts = " ".join(f"{sum(r['outcome'] == o for r in group):>7}" for o in outcomes)
        label, largest = _divergence(group)
        shown = ", ".join(f"{value:.3g} {test}" for value, test in largest[:SHOWN])
        table.append(f"{suite:<{suite_width}} {arch:<11} {counts}  {label + ': ' + shown if largest else '-'}")
    return table


ATTRIBUTION = "attribution_"


def attribution_lines(rows: list[dict]) -> list[str]:
    """Per trial run with --crossedwires-attribution: the accuracy difference as published, with
    each knob alone and with all of them, and the share of the published difference each removes."""
    found = [row for row in rows if any(k.startswith(ATTRIBUTION) for k in row)]
    if not found:
        return []
    knobs = sorted({k[len(ATTRIBUTION):-len("_accuracy_diff")] for row in found for k in row
                    if k.startswith(ATTRIBUTION) and k.endswith("_accuracy_diff")}, key=lambda k: (k != "none", k == "all", k))
    table = [f"{'trial':<40} {'published':>9} " + " ".join(f"{k:>14}" for k in knobs)]
    for row in found:
        cells = []
        for knob in knobs:
            diff, removed = row.get(f"{ATTRIBUTION}{knob}_accuracy_diff"), row.get(f"{ATTRIBUTION}{knob}_removed")
            cells.append(f"{'-':>14}" if diff is None else
                         f"{diff:>6.3f} ({removed:>+4.0%})" if removed == removed else f"{diff:>14.3f}")
        table.append(f"{row['nodeid'].split('[')[-1].rstrip(']'):<40} {row.get('accuracy_diff', math.nan):>9.3f} "
                     + " ".join(cells))
    return table


DECOMPOSE = "decompose_"


def decomposition_lines(rows: list[dict]) -> list[str]:
    """Per trial run with --crossedwires-decompose: the three sides' accuracies and the difference split
    into semantics (torch less Keras on torch) and kernels (Keras on torch less the other Keras side)."""
    found = [row for row in rows if f"{DECOMPOSE}semantics" in row]
    if not found:
        return []
    columns = ("torch_test_acc", "keras_on_torch_test_acc", "keras_other_test_acc", "semantics", "kernels")
    table = [f"{'trial':<40} {'torch':>8} {'keras/torch':>11} {'keras/other':>11} {'semantics':>10} {'kernels':>8}"]
    for row in found:
        values = [row.get(DECOMPOSE + c, math.nan) for c in columns]
        table.append(f"{row['nodeid'].split('[')[-1].rstrip(']'):<40} {values[0]:>8.4f} {values[1]:>11.4f} "
                     f"{values[2]:>11.4f} {values[3]:>+10.4f} {values[4]:>+8.4f}")
    return table


# The compatibility table: for each side a run checked (its pair's right side, framework:device[:precision],
# against the left side, the reference), the layer suite's blocks and the transfer and models suites' models.
KINDS = {"layers": "blocks", "transfer": "models", "models": "models"}
FAILED = ("failed", "error", "crashed")


@dataclass(frozen=True)
class Compatibility:
    side: str  # the side under test, framework:device[:precision]
    reference: str
    kind: str  # blocks | models
    passed: int
    failed: int
    others: int  # skipped, xfailed (named semantic differences), interrupted
    worst: float  # the largest error in units of its tolerance (TOLERANCE_RATIO) of a passed or failed test; nan if none
    worst_test: str


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def compatibility(rows) -> list[Compatibility]:
    """The table's rows, from a run's rows or a report's (whose cells are text)."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for row in rows:
        kind, (reference, _, side) = KINDS.get(row.get("suite") or ""), (row.get("pair") or "").partition("->")
        if kind and side:
            groups.setdefault((side, reference, kind), []).append(row)
    found = []
    for (side, reference, kind), group in sorted(groups.items()):
        # Judged tests only: an xfail is a named semantic difference, expected to be far over its tolerance.
        ratios = [(_number(r.get(TOLERANCE_RATIO)), r["nodeid"].split("::")[-1]) for r in group
                  if r["outcome"] == "passed" or r["outcome"] in FAILED]
        ratios = [(value, test) for value, test in ratios if not math.isnan(value)]
        worst, test = max(ratios, default=(math.nan, ""))
        passed = sum(r["outcome"] == "passed" for r in group)
        failed = sum(r["outcome"] in FAILED for r in group)
        found.append(Compatibility(side, reference, kind, passed, failed, len(group) - passed - failed, worst, test))
    return found


def compatibility_lines(rows) -> list[str]:
    found = compatibility(rows)
    if not found:
        return []
    width = max(len("side"), *(len(c.side) for c in found))
    reference_width = max(len("against"), *(len(c.reference) for c in found))
    table = [f"{'side':<{width}} {'against':<{reference_width}} {'kind':<6} {'passed':>6} {'failed':>6} "
             f"{'other':>6}  worst error / tolerance"]
    for c in found:
        worst = "-" if math.isnan(c.worst) else f"{c.worst:.3g} ({c.worst_test})"
        table.append(f"{c.side:<{width}} {c.reference:<{reference_width}} {c.kind:<6} {c.passed:>6} {c.failed:>6} "
                     f"{c.others:>6}  {worst}")
    return table

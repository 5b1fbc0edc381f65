"""The regression gate: a new report against a baseline report, test by test.

Rows are joined by node id. A test is *regressed* when its outcome got worse (passed ->
failed, xfailed -> error, ...) or a judged metric moved the wrong way by more than its
tolerance; *improved* when either moved the right way and nothing regressed; *new* or
*missing* when only one report has it; else *unchanged*. Skips are not judged: a skip says
what a machine lacked, not how the frameworks behaved.

Only the metrics in RULES are judged (first matching pattern wins); timings, throughput and
recorded table values are not, because they move with the machine, not with the frameworks.
A change counts when |new - old| > max(absolute, relative * |old|); a value that turns
non-finite is a regression, one that turns finite an improvement.
"""

from __future__ import annotations

import fnmatch
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cwtest.report.reader import Report, number

LOWER, HIGHER = "lower", "higher"


@dataclass(frozen=True)
class Rule:
    pattern: str  # fnmatch pattern on the metric name
    better: str  # LOWER or HIGHER
    absolute: float
    relative: float
    why: str


# Accuracies at the smoke budget are counted on 250 test images: 0.02 is five images. Reruns on
# one machine reproduce them exactly; a different thread count moved them by at most one image.
_IMAGES = "five of the 250 smoke-budget test images"
# Float32 elementwise errors move with summation order (threads, kernels) by small factors;
# a doubling above a 1e-6 floor is a change in behaviour, not round-off.
_ROUNDOFF = "float32 round-off moves errors by small factors; doubling above 1e-6 is a change"
RULES = (
    Rule("*accuracy_diff", LOWER, 0.02, 0.0, _IMAGES),
    Rule("*test_acc", HIGHER, 0.02, 0.0, _IMAGES),
    Rule("*argmax_agreement", HIGHER, 0.02, 0.0, _IMAGES),
    Rule("disagreement", LOWER, 0.02, 0.0, _IMAGES),
    Rule("*max_abs*", LOWER, 1e-6, 1.0, _ROUNDOFF),
    Rule("*max_rel*", LOWER, 1e-6, 1.0, _ROUNDOFF),
    Rule("*mean_abs", LOWER, 1e-6, 1.0, _ROUNDOFF),
    Rule("*relative_l2", LOWER, 1e-6, 1.0, _ROUNDOFF),
    Rule("layers_over_tolerance", LOWER, 0.0, 0.0, "a count of layers: any more is a change"),
    Rule("structure_mismatches", LOWER, 0.0, 0.0, "a count of unpaired layers: any more is a change"),
)

# Outcome quality: a move down this scale is a regression, up it an improvement.
_OUTCOME_SCORE = {"failed": 0, "error": 0, "crashed": 0, "interrupted": 0, "xfailed": 1, "passed": 2, "xpassed": 2}
STATUSES = ("regressed", "improved", "new", "missing", "unchanged")


def rule_for(metric: str) -> Rule | None:
    return next((r for r in RULES if fnmatch.fnmatchcase(metric, r.pattern)), None)


@dataclass(frozen=True)
class MetricChange:
    metric: str
    before: float
    after: float
    limit: float
    worse_by: float  # signed: > 0 is the wrong direction

    @property
    def severity(self) -> float:
        """How many tolerances the change spans (inf for a move to or from non-finite)."""
        if not math.isfinite(self.worse_by):
            return math.inf
        return abs(self.worse_by) / self.limit if self.limit else (math.inf if self.worse_by else 0.0)

    def describe(self) -> str:
        return f"{self.metric} {self.before:.4g} -> {self.after:.4g} (tolerance {self.limit:.2g})"


@dataclass(frozen=True)
class Change:
    nodeid: str
    status: str
    outcome_before: str = ""
    outcome_after: str = ""
    metrics: tuple[MetricChange, ...] = field(default_factory=tuple)  # the ones beyond tolerance, worst first

    @property
    def severity(self) -> float:
        outcome = math.inf if self.outcome_before != self.outcome_after else 0.0
        return max([outcome, *(m.severity for m in self.metrics)])

    def describe(self) -> str:
        parts = []
        if self.outcome_before != self.outcome_after:
            parts.append(f"{self.outcome_before or '-'} -> {self.outcome_after or '-'}")
        parts += [m.describe() for m in self.metrics[:2]]
        if len(self.metrics) > 2:
            parts.append(f"+{len(self.metrics) - 2} more")
        return "; ".join(parts)


def metric_change(metric: str, before: float, after: float) -> MetricChange | None:
    """The change of one judged metric, None when within tolerance or not judged."""
    rule = rule_for(metric)
    if rule is None or (before == after) or (math.isnan(before) and math.isnan(after)):
        return None
    limit = max(rule.absolute, rule.relative * abs(before)) if math.isfinite(before) else rule.absolute
    if math.isfinite(before) != math.isfinite(after):
        worse_by = math.inf if math.isfinite(before) else -math.inf
    else:
        worse_by = (after - before) if rule.better == LOWER else (before - after)
        if not math.isfinite(worse_by) or abs(worse_by) <= limit:
            return None
    return MetricChange(metric, before, after, limit, worse_by)


def _outcome_direction(before: str, after: str) -> int:
    """+1 better, -1 worse, 0 same or not judged (a skip on either side)."""
    if before not in _OUTCOME_SCORE or after not in _OUTCOME_SCORE:
        return 0
    return (_OUTCOME_SCORE[after] > _OUTCOME_SCORE[before]) - (_OUTCOME_SCORE[after] < _OUTCOME_SCORE[before])


def _test_change(nodeid: str, old: dict[str, str], new: dict[str, str], metrics: list[str]) -> Change:
    changes = []
    for metric in metrics:
        before, after = number(old, metric), number(new, metric)
        if before is not None and after is not None:
            found = metric_change(metric, before, after)
            if found is not None:
                changes.append(found)
    changes.sort(key=lambda c: (c.worse_by <= 0, -c.severity, c.metric))
    outcome = _outcome_direction(old["outcome"], new["outcome"])
    if outcome < 0 or any(c.worse_by > 0 for c in changes):
        status = "regressed"
    elif outcome > 0 or changes:
        status = "improved"
    else:
        status = "unchanged"
    return Change(nodeid, status, old["outcome"], new["outcome"], tuple(changes))


def compare(baseline: Report, new: Report) -> list[Change]:
    """Every test of either report, regressions first, then by how far they moved."""
    metrics = [m for m in baseline.metrics if m in new.metrics]
    found = []
    for nodeid in sorted(baseline.rows.keys() | new.rows.keys()):
        old, now = baseline.rows.get(nodeid), new.rows.get(nodeid)
        if old is None:
            found.append(Change(nodeid, "new", "", now["outcome"]))
        elif now is None:
            found.append(Change(nodeid, "missing", old["outcome"], ""))
        else:
            found.append(_test_change(nodeid, old, now, metrics))
    return sorted(found, key=lambda c: (STATUSES.index(c.status), -c.severity, c.nodeid))


def header(baseline: Report, new: Report) -> list[str]:
    """Both reports' versions and devices, and what differs between them."""
    def describe(role: str, report: Report) -> str:
        versions = ", ".join(f"{k} {v or '-'}" for k, v in report.versions.items())
        return f"{role:<9} {report.path}: {len(report.rows)} tests; {versions}; device {report.devices}"

    differs = [f"{k} {v or '-'} -> {new.versions.get(k) or '-'}"
               for k, v in baseline.versions.items() if v != new.versions.get(k, v)]
    if baseline.devices != new.devices:
        differs.append(f"device {baseline.devices} -> {new.devices}")
    return [describe("baseline:", baseline), describe("new:", new),
            "differs:  " + ("; ".join(differs) if differs else "nothing (same versions and devices)")]


def table(changes: list[Change]) -> list[str]:
    """One line per test that is not unchanged, largest changes first, then the counts."""
    shown = [c for c in changes if c.status != "unchanged"]
    width = max([len(c.nodeid) for c in shown] + [4])
    lines = [f"{'status':<10} {'test':<{width}} change"] if shown else []
    lines += [f"{c.status:<10} {c.nodeid:<{width}} {c.describe()}" for c in shown]
    counts = ", ".join(f"{sum(c.status == s for c in changes)} {s}" for s in STATUSES)
    return lines + [f"{len(changes)} tests: {counts}"]


def junit_xml(changes: list[Change]) -> str:
    """One testcase per test: a regression is a failure, a missing test a skip."""
    suite = ET.Element("testsuite", name="cwtest compare", tests=str(len(changes)),
                       failures=str(sum(c.status == "regressed" for c in changes)),
                       skipped=str(sum(c.status == "missing" for c in changes)), errors="0")
    for change in changes:
        classname, _, name = change.nodeid.rpartition("::")
        case = ET.SubElement(suite, "testcase", classname=classname.replace("/", ".").removesuffix(".py"),
                             name=name or change.nodeid)
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="status", value=change.status)
        if change.status == "regressed":
            ET.SubElement(case, "failure", message=change.describe())
        elif change.status == "missing":
            ET.SubElement(case, "skipped", message="missing from the new report")
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"

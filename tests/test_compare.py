"""`cwtest compare`: the gate's verdicts on real reports, its exit codes and its refusals of bad input.

The baseline is a real report: every published trial's recorded numbers (suites/trials), written
by the plugin. The "new" reports are that file with chosen rows changed.
"""

import csv
import fnmatch
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from replay import run_session

from cwtest.cli import main
from cwtest.report.compare import RULES, compare, metric_change, rule_for
from cwtest.report.reader import read_report
from cwtest.report.writer import CRASH_COLUMNS, SCHEMA_VERSION

REGRESSED = "suites/trials/test_recorded.py::test_recorded_numbers_agree[vgg16-dual_train_5e67eae2]"
REPO = Path(__file__).resolve().parents[1]
IMPROVED = "suites/trials/test_recorded.py::test_recorded_numbers_agree[densenet121-dual_train_0012c62a]"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, crossedwires_tables):
    """A real report: the recorded-numbers suite over all 1199 finished published trials."""
    folder = tmp_path_factory.mktemp("reports")
    path = folder / "baseline.csv"
    run_session(REPO, [str(REPO / "suites" / "trials" / "test_recorded.py"), "--crossedwires-trials",
                       str(crossedwires_tables), "--crossedwires-select", "all", "--crossedwires-report", str(path)])
    return path


def _rows(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def _write(path, columns, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _changed(baseline, path, edits):
    """The baseline with `edits` ({nodeid: {column: value}}) applied."""
    columns, rows = _rows(baseline)
    for row in rows:
        row.update(edits.get(row["nodeid"], {}))
    return _write(path, columns, rows)


def test_identical_reports_pass(baseline, tmp_path, capsys):
    assert main(["compare", str(baseline), str(baseline)]) == 0
    out = capsys.readouterr().out
    assert "1199 tests: 0 regressed, 0 improved, 0 new, 0 missing, 1199 unchanged" in out
    assert "differs:  nothing (same versions and devices)" in out


def test_one_regressed_one_improved(baseline, tmp_path, capsys):
    new = _changed(baseline, tmp_path / "new.csv", {
        REGRESSED: {"recorded_accuracy_diff": "0.75"},  # recorded 0.68152: worse by more than 0.02
        IMPROVED: {"recorded_accuracy_diff": "0.10"},  # recorded 0.1666
    })
    junit = tmp_path / "verdict.xml"
    assert main(["compare", str(baseline), str(new), "--junit-xml", str(junit)]) == 1
    lines = capsys.readouterr().out.splitlines()
    table = [line for line in lines if line.startswith(("regressed", "improved"))]
    assert table[0].startswith("regressed") and REGRESSED in table[0]
    assert "recorded_accuracy_diff 0.6815 -> 0.75 (tolerance 0.02)" in table[0]
    assert table[1].startswith("improved") and IMPROVED in table[1]
    assert "1199 tests: 1 regressed, 1 improved, 0 new, 0 missing, 1197 unchanged" in lines
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("1199", "1")
    failed = [case for case in suite if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == [REGRESSED.split("::")[1]]


def test_outcome_changes_new_and_missing(baseline, tmp_path, capsys):
    columns, rows = _rows(baseline)
    rows[0]["outcome"] = "failed"
    rows[1]["nodeid"] += "-renamed"
    new = _write(tmp_path / "new.csv", columns, rows)
    changes = compare(read_report(baseline, "baseline"), read_report(new, "new"))
    found = {c.status: c for c in changes if c.status != "unchanged"}
    assert found["regressed"].describe() == "passed -> failed"
    assert found["new"].nodeid.endswith("-renamed") and not found["missing"].nodeid.endswith("-renamed")
    assert main(["compare", str(baseline), str(new)]) == 1


def test_version_and_device_differences_in_the_header(baseline, tmp_path, capsys):
    columns, rows = _rows(baseline)
    for row in rows:
        row["tensorflow_version"], row["device"] = "9.9.9", "cuda"
    new = _write(tmp_path / "new.csv", columns, rows)
    assert main(["compare", str(baseline), str(new)]) == 0
    out = capsys.readouterr().out
    assert "differs:  tensorflow 2" in out and "-> 9.9.9; device cpu -> cuda" in out


@pytest.mark.parametrize("metric, before, after, expected", [
    ("accuracy_diff", 0.10, 0.119, None),  # within five images
    ("accuracy_diff", 0.10, 0.13, "worse"),
    ("left_test_acc", 0.50, 0.45, "worse"),  # accuracies: higher is better
    ("left_test_acc", 0.50, 0.55, "better"),
    ("eval_data_max_rel", 1e-6, 1.9e-6, None),  # round-off: less than double
    ("eval_data_max_rel", 1e-5, 3e-5, "worse"),
    ("eval_data_max_rel", 1e-5, float("nan"), "worse"),  # a NaN is never within tolerance
    ("eval_data_max_rel", float("nan"), 1e-5, "better"),
    ("left_seconds", 10.0, 100.0, None),  # timings are not judged
])
def test_tolerances(metric, before, after, expected):
    change = metric_change(metric, before, after)
    found = None if change is None else ("worse" if change.worse_by > 0 else "better")
    assert found == expected


def test_every_rule_explains_itself():
    assert all(rule.why and rule.better in ("lower", "higher") for rule in RULES)
    assert rule_for("accuracy_diff").absolute == 0.02 and rule_for("unknown_metric") is None


def _header_only(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda p, b: _header_only(p, ""), "empty file, not a cwtest report"),
    (lambda p, b: _header_only(p, "a,b\n1,2\n"), "not a cwtest report (no schema_version column)"),
    (lambda p, b: _header_only(p, b.read_text().splitlines()[0] + "\n"), "no test rows"),
    (lambda p, b: _header_only(p, b.read_text().replace(f"\n{SCHEMA_VERSION},", f"\n{SCHEMA_VERSION + 1},", 1)),
     f"line 2 has schema version '{SCHEMA_VERSION + 1}'; this cwtest reads version {SCHEMA_VERSION}"),
    (lambda p, b: _header_only(p, b.read_text().replace(",outcome,", ",result,", 1)), "missing column(s) outcome"),
    (lambda p, b: _header_only(p, b.read_text() + b.read_text().splitlines()[1] + "\n"), "duplicate row for *"),
    (lambda p, b: _header_only(p, b.read_text().replace(",passed,", ",passed,fast", 1)),
     "line 2: duration_s is not a number*"),
    (lambda p, b: p, "cannot read (No such file or directory)"),
], ids=["empty", "foreign", "header-only", "schema", "missing-column", "duplicate", "non-numeric", "absent"])
def test_bad_reports_are_one_line_and_exit_2(baseline, tmp_path, capsys, make, message):
    bad = make(tmp_path / "bad.csv", baseline)
    assert main(["compare", str(baseline), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"cwtest: new report {bad}: ")
    assert fnmatch.fnmatch(err, f"*: {message}")


def test_the_baseline_is_never_overwritten(baseline, tmp_path, capsys):
    before = baseline.read_bytes()
    assert main(["compare", str(baseline), str(baseline), "--junit-xml", str(baseline)]) == 2
    assert "--junit-xml" in capsys.readouterr().err
    assert baseline.read_bytes() == before


def test_a_report_with_a_crashed_row_is_read(baseline, tmp_path):
    """A crashed test's row carries text columns (what its worker was running): they are read as text, not as
    metrics, so that the report of a run with a crash can still be compared and plotted."""
    columns, rows = _rows(baseline)
    rows[0].update(outcome="crashed", crash_worker="gw0", crash_side="torch:cpu backward", crash_inputs="{}",
                   reproducer="pytest x -p no:xdist")
    crashed = _write(tmp_path / "crashed.csv", [*columns, *CRASH_COLUMNS], rows)
    report = read_report(crashed, "report")
    assert report.rows[rows[0]["nodeid"]]["crash_worker"] == "gw0" and not set(CRASH_COLUMNS) & set(report.metrics)

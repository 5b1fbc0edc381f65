"""`cwtest plot`: every figure drawn from real tables and reports, and what each figure is drawn from."""

import fnmatch

import pytest
from replay import replay_report

from cwtest.analysis.plot_data import from_report, from_trials, overview, report_losses, trial_losses
from cwtest.cli import main
from cwtest.inputs.selection import select
from cwtest.inputs.trials import load_table
from cwtest.report.reader import read_report

SELECT = "top:4"


@pytest.fixture(scope="module")
def replay(tmp_path_factory, crossedwires_tables):
    return replay_report(tmp_path_factory.mktemp("replay"), crossedwires_tables, SELECT)


def _drawn(tmp_path, name):
    png, svg = tmp_path / f"{name}.png", tmp_path / f"{name}.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "<svg" in svg.read_text()[:1000]
    return png


def test_a_report_shows_the_same_accuracies_as_the_table(replay, crossedwires_tables):
    groups, names = from_report(read_report(replay, "--report"), None)
    table = from_trials(select(load_table(crossedwires_tables).finished, SELECT))
    assert names == ("PyTorch", "TensorFlow")
    assert [(g.arch, sorted(g.first), sorted(g.second)) for g in groups] == \
           [(g.arch, sorted(g.first), sorted(g.second)) for g in table]


def test_accuracy_figure_from_the_table_and_from_a_report(replay, crossedwires_tables, tmp_path, capsys):
    assert main(["plot", "accuracy", "--trials", str(crossedwires_tables), "--out", str(tmp_path / "table")]) == 0
    assert main(["plot", "accuracy", "--report", str(replay), "--arch", "vgg16,resnet50",
                 "--out", str(tmp_path / "report.png")]) == 0
    assert capsys.readouterr().out.splitlines() == [f"wrote {tmp_path}/table.png", f"wrote {tmp_path}/table.svg",
                                                    f"wrote {tmp_path}/report.png", f"wrote {tmp_path}/report.svg"]
    _drawn(tmp_path, "table")
    _drawn(tmp_path, "report")


def test_loss_curves_from_the_table_and_from_a_report(replay, crossedwires_tables, tmp_path):
    trials = list(load_table(crossedwires_tables).trials)
    trial, recorded = trial_losses(trials, "dual_train_5e67eae2")
    nodeid, replayed = report_losses(read_report(replay, "--report"), "dual_train_5e67eae2")
    assert list(replayed.values()) == [list(trial.pt_average_training_loss), list(trial.tf_training_loss)]
    assert len(recorded) == 3 and nodeid.endswith("[vgg16-dual_train_5e67eae2]")
    assert main(["plot", "losses", "--trials", str(crossedwires_tables), "--trial", "dual_train_5e67eae2",
                 "--out", str(tmp_path / "table")]) == 0
    assert main(["plot", "losses", "--report", str(replay), "--test", "dual_train_5e67eae2",
                 "--out", str(tmp_path / "report")]) == 0
    _drawn(tmp_path, "table")
    _drawn(tmp_path, "report")


def test_overview_of_a_report(replay, tmp_path):
    counts, seconds = overview(read_report(replay, "report"))
    assert counts == {f"(outside suites) {arch}": {"passed": 4} for arch in ("densenet121", "resnet50", "vgg16")}
    assert all(s > 0 for s in seconds.values())
    assert main(["plot", "overview", str(replay), "--out", str(tmp_path / "overview")]) == 0
    _drawn(tmp_path, "overview")


@pytest.mark.parametrize("args, message", [
    (["accuracy", "--out", "{tmp}"], "--out: * is a folder; give a file name without suffix*"),
    (["accuracy", "--out", "{tmp}/no/fig"], "--out: cannot write */no/fig: folder */no does not exist"),
    (["accuracy", "--arch", "alexnet", "--out", "{tmp}/f"], "--arch: unknown architecture alexnet*"),
    (["losses", "--trial", "nope", "--out", "{tmp}/f"], "--trial: 'nope' matches 0 trials*"),
    (["losses", "--report", "{replay}", "--out", "{tmp}/f"], "--test: name the report row*"),
    (["losses", "--report", "{replay}", "--test", "vgg16", "--out", "{tmp}/f"], "--test: 'vgg16' matches 4 rows*"),
    (["accuracy", "--report", "{replay}", "--test", "test_harmonized", "--out", "{tmp}/f"],
     "report *: no row from test_harmonized with left_test_acc and right_test_acc*"),
    (["overview", "{tmp}/missing.csv", "--out", "{tmp}/f"], "report */missing.csv: cannot read*"),
], ids=["out-folder", "out-parent", "arch", "trial", "no-test", "ambiguous-test", "no-trained-rows", "no-report"])
def test_bad_input_is_one_line_and_exit_2(replay, tmp_path, capsys, args, message):
    args = [a.format(tmp=tmp_path, replay=replay) for a in args]
    assert main(["plot", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and fnmatch.fnmatch(err, f"cwtest: {message}"), err
    assert not list(tmp_path.glob("f.*"))

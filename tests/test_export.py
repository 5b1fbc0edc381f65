"""`cwtest export`: a report's trained pairs in the CrossedWires export schema, read back by the
trial table reader with the numbers they had."""

import csv

import pytest
from replay import replay_report

from cwtest.cli import main
from cwtest.inputs.selection import select
from cwtest.inputs.trials import load_table
from cwtest.report.export import EXTRA, PUBLISHED


@pytest.fixture(scope="module")
def replay(tmp_path_factory, crossedwires_tables):
    return replay_report(tmp_path_factory.mktemp("replay"), crossedwires_tables, "bottom:3")


def test_export_reads_back_as_the_trials_it_came_from(replay, crossedwires_tables, tmp_path, capsys):
    out = tmp_path / "new_results.csv"
    assert main(["export", str(replay), "--trials", str(crossedwires_tables), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 9 trial rows to {out}"
    with open(out, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames[:len(PUBLISHED) + len(EXTRA)] == [*PUBLISHED, *EXTRA]
    assert {"torch_version", "tensorflow_version"} <= set(reader.fieldnames) and "schema_version" not in reader.fieldnames
    assert {(r["device"], r["State"], r["budget"]) for r in rows} == {("cpu", "finished", "smoke")}
    exported = {t.id: t for t in load_table(out).trials}  # the architecture column names each row's
    published = {t.id: t for t in select(load_table(crossedwires_tables).finished, "bottom:3")}
    assert exported.keys() == published.keys()
    for key, trial in published.items():
        again = exported[key]
        assert (again.learning_rate, again.batch_size, again.epochs, again.adam_epsilon) == \
               (trial.learning_rate, trial.batch_size, trial.epochs, trial.adam_epsilon)
        assert (again.pt_test_acc, again.tf_test_acc) == (trial.pt_test_acc, trial.tf_test_acc)
        assert again.pt_average_training_loss == trial.pt_average_training_loss
        assert again.tf_training_loss == trial.tf_training_loss


def test_export_never_overwrites_its_report(replay, capsys):
    before = replay.read_bytes()
    assert main(["export", str(replay), "--out", str(replay)]) == 2
    assert capsys.readouterr().err.startswith("cwtest: --out: ")
    assert replay.read_bytes() == before


def test_trials_the_table_lacks_are_named(replay, tmp_path, capsys):
    assert main(["export", str(replay), "--out", str(tmp_path / "x.csv")]) == 2  # the built-in table
    err = capsys.readouterr().err
    assert err.startswith("cwtest: --trials: no trial dual_train_") and err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()

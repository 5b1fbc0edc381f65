"""The trial table against the published exports, the built-in table and malformed input."""

import math

import pytest

from cwtest.core.errors import InputError
from cwtest.inputs.trials import ARCHITECTURES, BUILTIN, load_table

HEADER = "Name,State,learning_rate,batch_size,epochs,adam_epsilon,pt_test_acc,tf_test_acc,accuracy_diff"
GOOD_ROW = "dual_train_x,finished,0.01,100,2,0.001,0.5,0.4,0.1"


def test_published_exports(crossedwires_tables):
    table = load_table(crossedwires_tables)
    for arch in ARCHITECTURES:
        assert sum(t.arch == arch for t in table.trials) == 400
    assert [t.id for t in table.unfinished] == ["resnet50-dual_train_3450eb44"]
    assert len(table.finished) == 1199
    vgg = [t for t in table.trials if t.arch == "vgg16"]
    assert round(max(t.accuracy_diff for t in vgg), 4) == 0.6815


def test_loss_curves_keep_blown_up_values(crossedwires_tables):
    table = load_table(crossedwires_tables / "vgg_cifar10_wandb_export.csv")
    top = next(t for t in table.trials if t.name == "dual_train_5e67eae2")
    assert len(top.pt_average_training_loss) == len(top.tf_training_loss) == top.epochs == 50
    assert max(top.pt_latest_training_loss) > 1e19  # the PyTorch run diverged in epoch 47
    empty = next(t for t in table.trials if t.name == "dual_train_d24e215e")
    assert empty.tf_training_loss == ()


def test_builtin_table_is_the_papers_tables_4_to_6():
    table = load_table()
    assert table.source == BUILTIN
    assert len(table.finished) == 18
    assert {a: sum(t.arch == a for t in table.trials) for a in ARCHITECTURES} == dict.fromkeys(ARCHITECTURES, 6)
    top = max(table.trials, key=lambda t: t.accuracy_diff)
    assert (top.id, top.batch_size, top.epochs) == ("vgg16-dual_train_5e67eae2", 202, 50)


def test_builtin_rows_agree_with_the_exports(crossedwires_tables):
    published = {t.id: t for t in load_table(crossedwires_tables).trials}
    for trial in load_table().trials:
        if trial.arch == "resnet50":
            assert trial.id not in published  # Table 5 came from an earlier sweep than the export
            continue
        row = published[trial.id]
        assert (row.batch_size, row.epochs) == (trial.batch_size, trial.epochs)
        assert math.isclose(row.accuracy_diff, trial.accuracy_diff, abs_tol=5e-6)


def test_dataframe():
    frame = load_table().to_frame()
    assert len(frame) == 18
    assert {"arch", "name", "accuracy_diff", "adam_epsilon"} <= set(frame.columns)


def test_folder_without_csv(tmp_path):
    with pytest.raises(InputError, match="no \\*.csv file in folder"):
        load_table(tmp_path)


def test_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load_table(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "content, message",
    [
        ("Name,State,learning_rate\nx,finished,0.1\n", "missing column\\(s\\) batch_size, epochs"),
        (HEADER + "\n", "no trial rows"),
        (HEADER + "\n" + GOOD_ROW.replace("0.01", "fast"), "learning_rate is not a number: 'fast'"),
        (HEADER + "\n" + GOOD_ROW.replace(",100,", ",5000,"), "batch_size=5000 is outside the search range"),
        (HEADER + "\n" + GOOD_ROW.replace(",100,", ",10.5,"), "batch_size=10.5 is not a whole number"),
        (HEADER + "\n" + GOOD_ROW.replace(",0.5,", ",1.5,"), "pt_test_acc=1.5 is outside"),
        (HEADER + ",tf_training_loss\n" + GOOD_ROW + ',"[1.0, oops]"', "tf_training_loss is not a list of numbers"),
        (HEADER + "\n" + GOOD_ROW + "\n" + GOOD_ROW, "trial dual_train_x \\(vgg16\\) also appears"),
    ],
    ids=["missing-columns", "empty", "non-numeric", "out-of-range", "not-whole", "accuracy-range",
         "bad-curve", "duplicate"],
)
def test_malformed_exports(tmp_path, content, message):
    path = tmp_path / "vgg_cifar10_wandb_export.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as caught:
        load_table(path)
    assert "\n" not in str(caught.value)


def test_architecture_must_be_known(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text(HEADER + "\n" + GOOD_ROW)
    with pytest.raises(InputError, match="cannot tell the architecture"):
        load_table(path)
    path.write_text("architecture," + HEADER + "\nalexnet," + GOOD_ROW)
    with pytest.raises(InputError, match="unknown architecture 'alexnet'"):
        load_table(path)

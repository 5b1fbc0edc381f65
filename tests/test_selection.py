"""--crossedwires-select over the published trials."""

import pytest

from cwtest.core.errors import InputError
from cwtest.inputs.selection import select
from cwtest.inputs.trials import load_table


@pytest.fixture(scope="module")
def finished(crossedwires_tables):
    return load_table(crossedwires_tables).finished


def test_all(finished):
    assert len(select(finished, "all")) == 1199


def test_top_and_bottom_are_per_architecture(finished):
    top = select(finished, "top:1")
    assert sorted(t.id for t in top) == ["densenet121-dual_train_a0e76fd4", "resnet50-dual_train_85721cc8",
                                         "vgg16-dual_train_5e67eae2"]
    bottom = select(finished, "bottom:2")
    assert len(bottom) == 6
    assert max(t.accuracy_diff for t in bottom) < min(t.accuracy_diff for t in top)


def test_sample_is_deterministic_and_seeded(finished):
    assert select(finished, "sample:5") == select(finished, "sample:5:0")
    assert select(finished, "sample:5:1") != select(finished, "sample:5:2")
    assert len(select(finished, "sample:5:1")) == 15


def test_names_and_ids(finished):
    chosen = select(finished, "name:dual_train_5e67eae2, resnet50-dual_train_85721cc8")
    assert [t.id for t in chosen] == ["resnet50-dual_train_85721cc8", "vgg16-dual_train_5e67eae2"]


def test_query(finished):
    chosen = select(finished, "epochs<=3 and batch_size>500")
    assert chosen and all(t.epochs <= 3 and t.batch_size > 500 for t in chosen)
    assert len(select(finished, "not (epochs<=3 and batch_size>500)")) == 1199 - len(chosen)
    assert all(0.01 < t.learning_rate < 0.02 for t in select(finished, "0.01 < learning_rate < 0.02"))


@pytest.mark.parametrize(
    "spec, message",
    [
        ("epochs > 50", "matches no trial"),
        ("name:dual_train_nothing", "unknown trial name\\(s\\) dual_train_nothing"),
        ("top:0", "the count must be a positive whole number"),
        ("top:2:7", "only sample takes a seed"),
        ("lr < 0.1", "unknown field 'lr'"),
        ("epochs < __import__('os').getpid()", "compare fields with numbers only"),
        ("epochs +", "is neither all, top:N"),
        ("epochs", "a query is comparisons joined by and/or/not"),
    ],
)
def test_bad_selections(finished, spec, message):
    with pytest.raises(InputError, match=message):
        select(finished, spec)

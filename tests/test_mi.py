"""`cwtest trials mi`: the estimator on variables whose information is known, and the paper's Figure 4
findings on the published trials."""

import math

import numpy as np
import pytest

from cwtest.analysis.mutual_information import BINS, analyse, digitize, mutual_information
from cwtest.cli import main
from cwtest.inputs.trials import load_table


def test_digitize_normalizes_into_tenth_bins():
    assert digitize(np.array([2.0, 2.05, 2.5, 3.0])).tolist() == [0, 0, 5, BINS - 1]
    assert digitize(np.array([7.0, 7.0])).tolist() == [0, 0]  # no spread: one bin


def test_information_of_known_variables():
    x = np.repeat(np.arange(4), 25)
    assert mutual_information(x, x) == pytest.approx(2.0)  # a variable tells all of itself: log2(4) bits
    assert mutual_information(x, x[::-1] % 2) == pytest.approx(1.0)  # determines a fair coin
    independent = np.repeat(np.arange(4), 4), np.tile(np.arange(4), 4)  # every pairing once
    assert mutual_information(*independent) == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module")
def published(crossedwires_tables):
    return analyse(list(load_table(crossedwires_tables).finished), repeats=20)


def test_paper_findings_on_the_published_trials(published):
    """The paper (Figure 4): Adam epsilon matters most for VGG16, epochs for DenseNet121."""
    first = {arch: next(r.label for r in published if r.arch == arch and len(r.hyperparameters) == 1)
             for arch in ("vgg16", "densenet121")}
    assert first == {"vgg16": "adam_epsilon", "densenet121": "epochs"}


def test_every_single_and_pair_with_a_spread(published):
    assert len(published) == 3 * (4 + 6)
    assert all(0 < r.mean < math.log2(BINS) and r.std > 0 for r in published)


def test_command_prints_and_plots(crossedwires_tables, tmp_path, capsys):
    assert main(["trials", "mi", "--trials", str(crossedwires_tables), "--repeats", "5",
                 "--plot", str(tmp_path / "mi")]) == 0
    out = capsys.readouterr().out
    assert out.count("ranks first:") == 3 and "vgg16: mutual information with accuracy_diff" in out
    assert "  learning_rate × batch_size " in out
    assert (tmp_path / "mi.png").stat().st_size > 10_000 and (tmp_path / "mi.svg").is_file()


def test_command_refuses_a_bad_plot_path(crossedwires_tables, tmp_path, capsys):
    assert main(["trials", "mi", "--plot", str(tmp_path / "no" / "mi")]) == 2
    assert capsys.readouterr().err.startswith("cwtest: --plot: cannot write")

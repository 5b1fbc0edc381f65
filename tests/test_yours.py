"""Your own models, as a user's project has them: the README's example as written, a functional Keras
model of a non-image model both ways, a structure that differs and is named, and the sides fixture.
Each project runs in a pytest process of its own (they import torch and Keras)."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def readme_example(page: str = "README.md") -> str:
    text = (REPO / page).read_text()
    block = re.search(r"example, `test_my_model.py`:\n\n((?:    .*\n|\n)+?)\S", text).group(1)
    return "\n".join(line[4:] for line in block.splitlines()) + "\n"


def test_the_site_shows_the_example_the_readme_runs():
    assert readme_example("docs/your-models.md") == readme_example()


def test_the_readme_example_runs_as_written(pytester):
    pytester.makepyfile(test_my_model=readme_example())
    report = pytester.path / "mine.csv"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--crossedwires-report", str(report))
    result.assert_outcomes(passed=4)
    rows = {row["nodeid"].split("::")[1]: row for row in csv.DictReader(report.open())}
    for test in ("test_twins_agree", "test_a_transformer_both_ways"):
        twins = rows[test]
        assert float(twins["eval_max_rel"]) < 1e-5 and float(twins["structure_mismatches"]) == 0
        assert twins["pair"] == "torch:cpu->tensorflow:cpu"


TABULAR = """
import numpy as np
import pytest
import torch

from cwtest import assert_equivalent, compare_models, import_keras

keras = import_keras()

ROWS = np.random.default_rng(1).standard_normal((32, 5)).astype(np.float32)


def torch_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.BatchNorm1d(16), torch.nn.Tanh(),
                               torch.nn.Dropout(0.5), torch.nn.Linear(16, 1))


def keras_mlp(batchnorm=True):
    inputs = keras.Input((5,))
    x = keras.layers.Dense(16)(inputs)
    if batchnorm:
        x = keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)
    x = keras.layers.Dropout(0.5)(keras.layers.Activation("tanh")(x))
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@pytest.mark.parametrize("direction", ["torch->keras", "keras->torch"])
def test_a_functional_regression_model_both_ways(direction):
    result = assert_equivalent(torch_mlp(), keras_mlp(), ROWS, direction=direction)
    assert result.eval.max_rel < 1e-5 and len(result.gradients) == 6


def test_a_missing_layer_is_named():
    with pytest.raises(AssertionError) as failed:
        assert_equivalent(torch_mlp(), keras_mlp(batchnorm=False), ROWS)
    message = str(failed.value)
    assert "structure: 1 / dense_" in message and "kind batchnorm vs dense" in message
    assert "structure: 4 / -: missing dense" in message


def test_a_different_activation_is_found_at_the_first_layer_after_it():
    torch_model = torch_mlp()
    torch_model[2] = torch.nn.ReLU()  # no weights: the structures still match
    result = compare_models(torch_model, keras_mlp(), ROWS)
    assert not result.equivalent and result.mismatches == ()
    first = result.first_layer_over("eval")
    assert (first.torch_name, first.index) == ("4", 2)
    assert "outputs in eval mode" in result.report() and "the first layer over tolerance is #2 4 / dense_" in result.report()
"""


def test_a_user_project_with_a_non_image_model(pytester):
    pytester.makepyfile(test_tabular=TABULAR)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


SIDES = """
import torch

def test_runs_on_each_side(crossedwires_side):
    assert crossedwires_side.framework == "torch"
    torch.ones(2, device=crossedwires_side.device).sum()
"""


def test_sides_parametrize_a_test_and_a_missing_device_skips_naming_it(pytester):
    # asked in a child: torch imported here, before torchvision, would crash a later Keras test of this process
    probe = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                           capture_output=True, text=True, check=True)
    if probe.stdout.strip() == "True":
        pytest.skip("checks a pair whose accelerator is missing; this machine has CUDA")
    pytester.makepyfile(test_sides=SIDES)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "-v", "--crossedwires-pair",
                                           "torch:cpu,torch:cuda")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*test_runs_on_each_side?torch:cpu? PASSED*",
                                 "*SKIPPED*torch:cuda: no CUDA device is visible to torch on this machine*"])


def test_compare_skips_a_pair_that_is_not_torch_against_keras(pytester):
    pytester.makepyfile(test_pair="def test_c(crossedwires_compare):\n    crossedwires_compare(None, None, None)\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", "--crossedwires-pair",
                                           "torch:cpu,onnxruntime:cpu")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*crossedwires_compare compares torch with Keras, and the pair is torch:cpu->onnxruntime:cpu*"])

"""Option combinations that no test could run are refused by `resolve`, before any test, in one line."""

import csv
from pathlib import Path

import pytest

from cwtest.core.errors import InputError
from cwtest.report.writer import HEAD, SCHEMA_VERSION
from cwtest.session.settings import resolve

ONNX_PAIR = ["--crossedwires-pair", "torch:cpu,onnxruntime:cpu"]


def _baseline(path):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, HEAD)
        writer.writeheader()
        writer.writerow({name: "" for name in HEAD} | {"schema_version": SCHEMA_VERSION, "nodeid": "t.py::t",
                                                       "outcome": "passed", "duration_s": "0.1"})
    return str(path)


def _refused(pytester, *args) -> str:
    with pytest.raises(InputError) as refused:
        resolve(pytester.parseconfig(*args))
    return str(refused.value)


@pytest.mark.parametrize("option, value", [
    ("harmonize", "adam_epsilon"), ("attribution", None), ("repeats", "2"), ("baseline", "BASELINE"),
    ("checkpoints", "pairs"),
])
def test_trial_options_with_a_side_that_cannot_train(pytester, option, value):
    value = _baseline(pytester.path / "old.csv") if value == "BASELINE" else value
    args = [f"--crossedwires-{option}", *([value] if value else [])]
    assert _refused(pytester, *ONNX_PAIR, *args) == (
        f"--crossedwires-{option}: only the trial suite reads it, and it cannot train onnxruntime:cpu "
        f"(trainable: torch, tensorflow, keras-jax, keras-torch); name trainable sides in --crossedwires-pair or drop "
        f"--crossedwires-{option}")


def test_a_side_that_cannot_train_is_fine_without_trial_options(pytester):
    """The transfer suite compares an ONNX Runtime side; the trial suite skips, naming the side."""
    assert str(resolve(pytester.parseconfig(*ONNX_PAIR)).pair) == "torch:cpu->onnxruntime:cpu"


@pytest.mark.parametrize("pair", ["torch:cpu,torch:cuda", "tensorflow:cpu,tensorflow:gpu"])
def test_checkpoints_need_torch_against_tensorflow(pytester, pair):
    assert _refused(pytester, "--crossedwires-pair", pair, "--crossedwires-checkpoints", "pairs") == (
        f"--crossedwires-checkpoints: the CrossedWires layout holds one torch and one tensorflow model per trial, "
        f"and {pair.replace(',', '->')} is not torch against tensorflow; name one side of each in "
        f"--crossedwires-pair, or drop --crossedwires-checkpoints")


@pytest.mark.parametrize("pair", ["torch:cpu,keras-torch:cpu", "keras-torch:cpu,keras-jax:cpu", "torch:cpu:bf16,tensorflow:cpu"])
def test_decompose_needs_torch_against_keras_on_another_backend(pytester, pair):
    assert _refused(pytester, "--crossedwires-pair", pair, "--crossedwires-decompose") == (
        f"--crossedwires-decompose: splits a torch side's difference from a Keras side on TensorFlow or JAX, and "
        f"{pair.replace(',', '->')} is not such a pair; name e.g. torch:cpu,tensorflow:cpu or torch:cpu,keras-jax:cpu, "
        f"or drop --crossedwires-decompose")


@pytest.mark.parametrize("knobs", ["init", "init,loss"])
def test_init_on_the_published_resnet50_needs_the_architecture_knob(pytester, knobs):
    assert _refused(pytester, "--crossedwires-harmonize", knobs) == (
        "--crossedwires-harmonize: init cannot copy torch's resnet50 weights into the published Keras resnet50 "
        "(stride_placement, conv_bias); add the architecture knob (init,architecture) or leave resnet50 out "
        "of --crossedwires-arch")


@pytest.mark.parametrize("args", [
    ["--crossedwires-harmonize", "init,architecture"],
    ["--crossedwires-harmonize", "all"],
    ["--crossedwires-harmonize", "init", "--crossedwires-arch", "vgg16,densenet121"],
    ["--crossedwires-harmonize", "init", "--crossedwires-pair", "torch:cpu,torch:cuda"],  # a state dict copy
    ["--crossedwires-checkpoints", "pairs", "--crossedwires-attribution", "--crossedwires-repeats", "2"],
])
def test_combinations_that_can_run(pytester, args):
    resolve(pytester.parseconfig(*args))


def test_trial_tests_skip_a_side_that_cannot_train(pytester):
    suite = Path(__file__).resolve().parent.parent / "suites" / "trials" / "test_training.py"
    result = pytester.runpytest_subprocess(str(suite), *ONNX_PAIR, "--crossedwires-arch", "vgg16",
                                           "--crossedwires-select", "top:1", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED * onnxruntime:cpu: onnxruntime cannot train; the trial suite needs trainable "
                                 "sides in --crossedwires-pair (torch, tensorflow, keras-jax, keras-torch)"] * 2)

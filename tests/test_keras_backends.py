"""The suites with Keras on JAX and on torch, at small sizes: each against torch, the two against each
other (the second Keras backend in a child process), and the decomposition of a smoke trial.

Each run is a pytest session of its own: Keras picks its backend once per process.
"""

import collections
import csv
import math
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SUITES = REPO / "suites"
# A few blocks of each kind, and the catalogued difference whose harmonized twin stays on jax and torch;
# the transfer suite's logits and gradients, and the published protocol of a smoke trial. (Keras on JAX
# runs a block's ops eagerly, one dispatch each: its whole layer suite takes minutes.)
SELECTION = ("(test_transfer and not roundtrip) or adam_small_weights or test_published or "
             "(test_blocks and ((conv2d and not transpose) or batchnorm_train or cross_entropy_softmax))")


def _session(pytester, monkeypatch, *args, arch: str | None = "vgg16") -> tuple[dict, list[dict], list[str]]:
    """A run of the suites on VGG16 (arch None: every architecture, so the layer suite runs every block)."""
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    report = pytester.path / "report.csv"
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist",
                                           "--rootdir", str(REPO), "-rfEsx", "--hypothesis-profile", "ci",
                                           *(("--crossedwires-arch", arch) if arch else ()), "--crossedwires-select",
                                           "top:1", "--crossedwires-report", str(report), *args)
    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes and "error" not in outcomes and "errors" not in outcomes, (
        outcomes, "\n".join(result.stdout.lines[-60:]))
    with report.open() as handle:
        return outcomes, list(csv.DictReader(handle)), result.stdout.lines


def _with_every_block(pytester, monkeypatch, models: list[str], layers: str, *args) -> tuple[dict, list[dict], list[str]]:
    """The model suites' `models` on VGG16, then the layer suite's `layers` on every block (with VGG16 named it would
    run VGG16's blocks only): their outcomes added up, their rows and lines one after the other."""
    runs = [_session(pytester, monkeypatch, *models, *args), _session(pytester, monkeypatch, layers, *args, arch=None)]
    outcomes = collections.Counter()
    for found, _, _ in runs:
        outcomes.update(found)
    return dict(outcomes), [row for _, rows, _ in runs for row in rows], [line for *_, lines in runs for line in lines]


@pytest.mark.crossedwires_trains
@pytest.mark.parametrize("keras_side, version", [("keras-jax:cpu", "jax_version"), ("keras-torch:cpu", "torch_version")])
def test_every_suite_against_torch(pytester, monkeypatch, keras_side, version):
    outcomes, rows, lines = _with_every_block(
        pytester, monkeypatch, [str(SUITES / "transfer" / "test_transfer.py"), str(SUITES / "trials" / "test_training.py")],
        str(SUITES / "layers"), "--crossedwires-pair", f"torch:cpu,{keras_side}", "--crossedwires-flavour", "published",
        "-k", SELECTION)
    assert outcomes.get("passed", 0) >= 15 and outcomes.get("xfailed", 0) >= 4, outcomes
    suites = {row["suite"] for row in rows if row["outcome"] == "passed"}
    assert suites == {"transfer", "layers", "trials"}, suites
    twin = next(r for r in rows if r["nodeid"].endswith("test_forward[cross_entropy_softmax]"))
    assert twin["outcome"] == "xfailed", twin  # its difference stays on this backend, and says why:
    assert any("test_forward[cross_entropy_softmax] - " in line and "only Keras on TensorFlow keeps the logits" in line
               for line in lines), "\n".join(line for line in lines if line.startswith("XFAIL"))
    trial = next(r for r in rows if "test_published" in r["nodeid"])
    assert trial["pair"] == f"torch:cpu->{keras_side}" and trial["keras_version"] and trial[version], trial


@pytest.mark.crossedwires_trains
def test_two_keras_backends_in_one_pair(pytester, monkeypatch):
    """keras-torch in the session's process, keras-jax in its child: trained, compared with one weight set,
    and each block run on both."""
    outcomes, rows, _ = _with_every_block(
        pytester, monkeypatch, [str(SUITES / "transfer" / "test_devices.py"), str(SUITES / "trials" / "test_training.py")],
        str(SUITES / "layers" / "test_blocks.py"), "--crossedwires-pair", "keras-torch:cpu,keras-jax:cpu",
        "-k", "test_device_logits or test_published or conv2d_same_stride2 or batchnorm_train_offset")
    blocks = {r["nodeid"].split("::")[1]: r for r in rows if r["suite"] == "layers"}
    assert outcomes.get("passed") == 2 + 3, (outcomes, blocks)
    # A torch/Keras difference is not one between two Keras backends: skipped, with its reason.
    assert {n for n, r in blocks.items() if r["outcome"] == "skipped"} == {
        "test_forward[conv2d_same_stride2-published_same_padding_stride2]",
        "test_gradients[conv2d_same_stride2-published_same_padding_stride2]"}, blocks
    # Keras on torch's own one-pass batch variance is one: its strict xfail runs on both backends.
    assert {n for n, r in blocks.items() if r["outcome"] == "xfailed"} == {
        "test_forward[batchnorm_train_offset-published_bn_one_pass_variance]"}, blocks
    # Two backends' own round-off: the child's results are what is compared, not this process's twice.
    assert any(float(r["error_eps_units"]) > 0 for r in blocks.values() if r["outcome"] == "passed"), blocks
    logits = next(r for r in rows if "test_device_logits" in r["nodeid"])
    assert float(logits["eval_data_max_abs"]) <= float(logits["eval_data_allowed_max_abs"]), logits
    trial = next(r for r in rows if "test_published" in r["nodeid"])
    assert math.isfinite(float(trial["left_test_acc"])) and math.isfinite(float(trial["right_test_acc"])), trial


@pytest.mark.crossedwires_trains
def test_decomposition_of_a_smoke_trial(pytester, monkeypatch):
    outcomes, rows, _ = _session(pytester, monkeypatch, str(SUITES / "trials" / "test_training.py"),
                              "--crossedwires-pair", "torch:cpu,keras-jax:cpu", "--crossedwires-decompose",
                              "-k", "published")
    (row,) = rows
    torch_acc, on_torch, other = (float(row[f"decompose_{n}_test_acc"]) for n in ("torch", "keras_on_torch", "keras_other"))
    assert torch_acc == float(row["left_test_acc"]) and other == float(row["right_test_acc"])  # the pair's own runs
    assert float(row["decompose_semantics"]) == pytest.approx(torch_acc - on_torch)
    assert float(row["decompose_kernels"]) == pytest.approx(on_torch - other)

"""A device route names the layer where the target parts from the source: a planted accelerator (tests/vendors/
oddpixel.py, a plugin with a strided 1x1 convolution that reads the wrong phase) fails the device logits test,
and the failure leads with that convolution, read on the target while the target's own adapter runs it."""

from __future__ import annotations

import numpy as np
import pytest

from cwtest.frameworks import adapter_for, plugins
from cwtest.frameworks.precision import MODES, allowed_relative
from cwtest.frameworks.sides import Side
from cwtest.models.device_transfer import copied
from cwtest.models.localize import first_over, same_code_layer_errors
from cwtest.models.parity import agreement_line, decidable_agreement
from test_accelerator import REPO
from vendors import oddpixel

SOURCE, TARGET = Side("torch", "cpu"), Side("oddpixel", "cpu")
ENTRY_POINT = "oddpixel = vendors.oddpixel"


@pytest.fixture
def vendor(monkeypatch):
    monkeypatch.setattr(plugins, "registered", lambda: {"oddpixel": oddpixel})


def _images() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)


def _first_defective(model) -> str:
    conv = oddpixel.defective(model)[0]
    return next(name for name, module in model.named_modules() if module is conv)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
def test_the_first_layer_over_is_the_planted_convolution(vendor, training):
    models = copied("resnet50", SOURCE, TARGET)
    rows = same_code_layer_errors(models, _images(), SOURCE, TARGET, training)
    first = first_over(rows, allowed_relative(MODES["fp32"]))
    assert first is not None and first.torch_name == first.keras_name == _first_defective(models[0]), first
    assert all(row.errors.max_abs == 0.0 for row in rows[:first.index]), "the layers before it were not exact"


def test_an_intact_copy_has_no_layer_over(vendor, monkeypatch):
    monkeypatch.setattr(oddpixel, "defective", lambda model: [])
    rows = same_code_layer_errors(copied("resnet50", SOURCE, TARGET), _images(), SOURCE, TARGET)
    assert rows and first_over(rows, allowed_relative(MODES["fp32"])) is None


def test_an_agreement_over_no_decidable_row_is_not_a_figure():
    reference = np.array([[1.0, 1.0 + 1e-7], [2.0, 2.0]])
    agreement, decidable = decidable_agreement(reference[:, ::-1], reference, 1e-3)
    assert decidable == 0 and "not judged" in agreement_line(agreement, decidable)
    assert agreement_line(0.5, 4) == "argmax agreement 0.500 over 4 decidable rows"


def test_the_suite_names_the_layer(pytester, monkeypatch):
    """The device logits test, run as a vendor runs it: the plugin installed (an entry point), the pair named."""
    distribution = pytester.mkdir("site") / "oddpixel-0.1.dist-info"
    distribution.mkdir()
    (distribution / "METADATA").write_text("Metadata-Version: 2.1\nName: oddpixel\nVersion: 0.1\n")
    (distribution / "entry_points.txt").write_text(f"[{plugins.GROUP}]\n{ENTRY_POINT}\n")
    monkeypatch.setenv("PYTHONPATH", f"{REPO}:{REPO / 'tests'}:{distribution.parent}")
    result = pytester.runpytest_subprocess(
        str(REPO / "suites" / "transfer" / "test_devices.py"), "-p", "no:randomly", "-p", "no:cacheprovider",
        "--rootdir", str(REPO), "-k", "logits", "--crossedwires-arch", "resnet50",
        "--crossedwires-pair", "torch:cpu,oddpixel:cpu")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    first = _first_defective(copied("resnet50", SOURCE, SOURCE)[0])
    assert "first layer over tolerance: #" in output and f" {first}\n" in output, output[-3000:]
    assert "over 0 decidable rows" not in output


def test_a_route_between_two_keras_backends_reads_both_sides_layers():
    """Each Keras backend's child reads the layers of its own model: a copy on another backend is located layer by
    layer, and a layer whose weights the copy lost is the first over."""
    source, target = Side("tensorflow", "cpu"), Side("keras-jax", "cpu")
    models = copied("vgg16", source, target)
    rows = same_code_layer_errors(models, _images(), source, target)
    assert len(rows) == 16 and first_over(rows, allowed_relative(MODES["fp32"])) is None, rows
    adapter = adapter_for(target)
    layer = adapter.layers(models[1]).layers[5]
    adapter.set_layer_weights(layer.handle, [array * 1.01 for array in adapter.layer_weights(layer.handle)])
    first = first_over(same_code_layer_errors(models, _images(), source, target), allowed_relative(MODES["fp32"]))
    assert first is not None and first.index == 5 and first.keras_name == layer.name, first

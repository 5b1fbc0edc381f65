"""The transfer suite catches planted faults and names the layer, and its options reject bad input.

Each fault is planted in a correctly transferred, real model pair (torchvision and
keras.applications, matched flavour); the suite's own measurements must then fail the
logits check and localize the fault to the planted layer, while the intact pair passes.
"""

from __future__ import annotations

import numpy as np
import pytest

from cwtest.frameworks.sides import Side
from cwtest.core.errors import InputError
from cwtest.core.metrics import measure
from cwtest.registries.architectures import REGISTRY, parse_flavours
from cwtest.models.localize import first_over, layer_errors
from cwtest.models.parity import logits
from cwtest.adapters.keras import models as keras_models
from cwtest.adapters.torch import models as torch_models
from cwtest.models.structure import compare
from cwtest.registries.tolerances import DEFAULTS, parse, tolerance
from cwtest.models.transfer import Transferred, copy_weights, transferred
from cwtest.session.settings import parse_layers

# Faults are planted in Keras's builders and layers of this process (tests/conftest.py: keras_here).
pytestmark = pytest.mark.usefixtures("keras_here")

TORCH, KERAS = Side("torch", "cpu"), Side("tensorflow", "cpu")
LIMIT = DEFAULTS["logits_eval"]


def _images(size: int = 32) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (8, size, size, 3), dtype=np.uint8)


def _eval_error(pair, images):
    return measure(logits(pair.torch_model, TORCH, images), logits(pair.keras_model, KERAS, images))


def _layer(pair, torch_name: str):
    return next((i, k) for i, (t, k) in enumerate(pair.structure.pairs) if t.name == torch_name)


def _assert_caught_at(pair, images, index: int) -> None:
    error = _eval_error(pair, images)
    assert error.max_rel > LIMIT, f"the fault went unnoticed: {error}"
    first = first_over(layer_errors(pair, images, TORCH, KERAS), LIMIT)
    assert first is not None and first.index == index, f"localized to {first}, planted at #{index}"


def test_conv_kernel_copied_without_transpose_is_caught_at_that_conv():
    pair = transferred("vgg16", "matched", "torch->keras", TORCH, KERAS)
    images = _images()
    assert _eval_error(pair, images).max_rel <= LIMIT
    index, keras_layer = _layer(pair, "features.7")
    weight = pair.structure.pairs[index][0].handle.weight.detach().numpy()
    bias = keras_layer.handle.get_weights()[1]
    keras_layer.handle.set_weights([weight.reshape(keras_layer.handle.kernel.shape), bias])  # no transpose
    _assert_caught_at(pair, images, index)


def test_dense_after_flatten_copied_without_reordering_is_caught_at_that_dense():
    # At 64x64 VGG16's last feature map is 2x2x512, so the Flatten order matters (at 32x32 it is 1x1).
    import torch

    flavour = REGISTRY["vgg16"].flavours["matched"]
    torch.manual_seed(0)
    torch_model = torch_models.BUILDERS[flavour.torch](64)
    keras_model = keras_models.BUILDERS[flavour.keras](64)
    structure = compare(torch_model, keras_model)
    assert structure.equivalent, structure.mismatches
    copy_weights(structure.pairs, "torch->keras")
    pair = Transferred("vgg16", "matched", "torch->keras", torch_model, keras_model, structure)
    images = _images(64)
    assert _eval_error(pair, images).max_rel <= LIMIT, "the Flatten reordering is wrong"
    index, keras_layer = _layer(pair, "classifier.0")
    assert keras_layer.flattened == (2, 2, 512)
    torch_layer = pair.structure.pairs[index][0].handle
    keras_layer.handle.set_weights([torch_layer.weight.detach().numpy().T,  # C,H,W rows kept
                                    torch_layer.bias.detach().numpy()])
    _assert_caught_at(pair, images, index)


def test_batchnorm_with_swapped_mean_and_variance_is_caught_at_that_batchnorm():
    import torch

    pair = transferred("resnet50", "matched", "torch->keras", TORCH, KERAS)
    images = _images()
    index, keras_layer = _layer(pair, "layer2.0.bn1")
    module = pair.structure.pairs[index][0].handle
    with torch.no_grad():
        module.running_mean.uniform_(-0.5, 0.5)  # statistics a trained net could have
        module.running_var.uniform_(0.5, 2.0)
    copy_weights([pair.structure.pairs[index]], "torch->keras")
    assert _eval_error(pair, images).max_rel <= LIMIT
    gamma, beta, mean, variance = keras_layer.handle.get_weights()
    keras_layer.handle.set_weights([gamma, beta, variance, mean])
    _assert_caught_at(pair, images, index)


ONNX = Side("onnxruntime", "cpu")


def _sessions_with_a_wrong_initializer(monkeypatch, suffix: str) -> None:
    """Every InferenceSession built from here on holds the initializer whose name ends in `suffix` 1% off: an
    exporter or a runtime that reads one layer's weights wrongly."""
    import onnx
    import onnxruntime
    from onnx import numpy_helper

    session = onnxruntime.InferenceSession

    def planted(model: bytes, *args, **kwargs):
        graph = onnx.load_from_string(model)
        for index, initializer in enumerate(graph.graph.initializer):
            if initializer.name.endswith(suffix):
                wrong = numpy_helper.to_array(initializer) * np.float32(1.01)
                graph.graph.initializer[index].CopyFrom(numpy_helper.from_array(wrong, initializer.name))
                break
        else:
            raise AssertionError(f"no initializer ends in {suffix}")
        return session(graph.SerializeToString(), *args, **kwargs)

    monkeypatch.setattr(onnxruntime, "InferenceSession", planted)


@pytest.mark.parametrize("route", [(TORCH, ONNX), (ONNX, KERAS)], ids=["torch->onnxruntime", "onnxruntime->keras"])
def test_an_onnx_route_is_located_at_the_layer_the_graph_gets_wrong(monkeypatch, route):
    pair = transferred("vgg16", "matched", "torch->keras", TORCH, KERAS)
    images, limit = _images(), DEFAULTS["onnxruntime"]
    assert first_over(layer_errors(pair, images, TORCH, KERAS, route=route), limit) is None
    _sessions_with_a_wrong_initializer(monkeypatch, "features.7.weight")
    index, _ = _layer(pair, "features.7")
    first = first_over(layer_errors(pair, images, TORCH, KERAS, route=route), limit)
    assert first is not None and first.index == index, f"localized to {first}, planted at #{index}"


def test_published_resnet50_differs_for_its_named_reasons():
    pair = transferred("resnet50", "published", "torch->keras", TORCH, KERAS)
    fields = {m.field for m in pair.structure.mismatches}
    named = {f for d in REGISTRY["resnet50"].flavours["published"].differences for f in d.fields}
    assert fields and fields <= named, fields
    assert any(m.torch_name == "layer2.0.conv2" and m.field == "stride" for m in pair.structure.mismatches)


@pytest.mark.parametrize("text, message", [
    ("logits_eval", "is not name=value"),
    ("bogus=1", "unknown tolerance 'bogus'"),
    ("logits_eval=abc", "is not a number"),
    ("logits_eval=-1", "positive, finite"),
    ("gradients=inf", "positive, finite"),
])
def test_bad_tolerances_are_one_line_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse(text)


def test_tolerance_precedence_default_marker_run():
    assert tolerance("logits_eval", {}, {}) == DEFAULTS["logits_eval"]
    assert tolerance("logits_eval", {"logits_eval": 1e-4}, {}) == 1e-4
    assert tolerance("logits_eval", {"logits_eval": 1e-4}, parse("logits_eval=1e-3")) == 1e-3


def test_flavours_and_layers_are_checked():
    assert parse_flavours("all") == ("published", "matched")
    with pytest.raises(InputError, match="unknown flavour 'x'|unknown flavour x"):
        parse_flavours("x")
    assert parse_layers("layer3, fc") == ("layer3", "fc")
    with pytest.raises(InputError, match="not a layer name"):
        parse_layers("layer 3")


def test_bad_option_is_a_usage_error(pytester):
    pytester.makepyfile(test_x="def test_t(): pass")
    result = pytester.runpytest("--crossedwires-tolerance", "logits_eval=x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--crossedwires-tolerance: logits_eval='x' is not a number*"])

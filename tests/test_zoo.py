"""The zoo: model pairs beyond the CrossedWires trials (cwtest.registries.architectures.ZOO).

`--crossedwires-arch` takes their names and `zoo`, while `all` keeps meaning the three CrossedWires architectures;
the zoo's pairs differ for their named reasons only, and a fault planted in one of MobileNetV2's depthwise
convolutions, a layout no CrossedWires model has, is caught at that layer. Its gradients check tells round-off from
a wrong gradient where torch's own fp32 gradient is noise.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from cwtest.core.errors import InputError
from cwtest.core.metrics import measure
from cwtest.frameworks.sides import Side
from cwtest.inputs.trials import ARCHITECTURES
from cwtest.models.localize import first_over, layer_errors
from cwtest.models.parity import GradientError, logits
from cwtest.models.transfer import transferred
from cwtest.registries.architectures import REGISTRY, ZOO, parse_archs
from cwtest.registries.converted import CONVERTED, VOCABULARY
from cwtest.registries.tolerances import DEFAULTS

TORCH, KERAS = Side("torch", "cpu"), Side("tensorflow", "cpu")
LIMIT = DEFAULTS["logits_eval"]


@pytest.mark.parametrize("text, expected", [
    ("all", ARCHITECTURES),
    ("zoo", ZOO),
    ("zoo,vgg16", ("vgg16", *ZOO)),
    ("mobilenet_v2, all", (*ARCHITECTURES, "mobilenet_v2")),
])
def test_all_is_the_crossedwires_three_and_zoo_the_rest(text, expected):
    assert parse_archs(text) == expected


@pytest.mark.parametrize("text, message", [("", "no architecture given"), ("mobilenet", "unknown architecture mobilenet")])
def test_a_bad_architecture_is_a_one_line_error(text, message):
    with pytest.raises(InputError, match=message):
        parse_archs(text)


def test_the_zoo_has_no_trials_and_a_matched_flavour_each():
    assert ZOO and not set(ZOO) & set(ARCHITECTURES)
    assert all(set(REGISTRY[name].flavours) == {"published", "matched"} for name in ZOO if name in REGISTRY)
    assert set(CONVERTED) <= set(ZOO)


def _images() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)


@pytest.mark.usefixtures("keras_here")
@pytest.mark.parametrize("arch", [name for name in ZOO if name in REGISTRY])
def test_a_published_zoo_pair_differs_in_its_stride_2_paddings_only(arch):
    """Keras pads (k // 2 - 1, k // 2) where torch pads k // 2 on both sides, on exactly the five stride-2 convs."""
    pair = transferred(arch, "published", "torch->keras", TORCH, KERAS)
    mismatches = pair.structure.mismatches
    assert {m.field for m in mismatches} == {"padding"} and len(mismatches) == 5
    for mismatch in mismatches:
        torch_layer = next(t for t, _ in pair.structure.pairs if t.name == mismatch.torch_name)
        half = (torch_layer.handle.kernel_size[0] // 2,) * 2
        assert torch_layer.stride == (2, 2) and mismatch.torch_value == half * 2
        assert mismatch.keras_value == (half[0] - 1, half[0]) * 2


@pytest.mark.usefixtures("keras_here")
def test_a_depthwise_kernel_copied_unflipped_is_caught_at_that_layer():
    pair = transferred("mobilenet_v2", "matched", "torch->keras", TORCH, KERAS)
    images = _images()
    assert measure(logits(pair.torch_model, TORCH, images), logits(pair.keras_model, KERAS, images)).max_rel <= LIMIT
    index = next(i for i, (t, _) in enumerate(pair.structure.pairs) if t.name == "features.4.conv.1.0")
    keras_layer = pair.structure.pairs[index][1].handle
    kernel = keras_layer.get_weights()[0]
    keras_layer.set_weights([kernel[::-1, ::-1]])  # a layout that forgets the kernel's orientation
    first = first_over(layer_errors(pair, images, TORCH, KERAS), LIMIT)
    assert first is not None and first.index == index, f"localized to {first}, planted at #{index}"


LIMIT_GRADIENTS = DEFAULTS["gradients"]


@pytest.mark.parametrize("error, passes", [
    # torch's fp32 gradient is noise (1e8 off float64): Keras as far off passes, whatever their difference
    (GradientError("noise", 2.3, 1e-7, float64_floor=2.6e8, keras_float64=5.4e8), True),
    (GradientError("noise", 2.3, 1e-7, float64_floor=2.6e8, keras_float64=2e9), False),
    # a real gradient: the tolerance decides, Keras's distance from float64 cannot excuse it
    (GradientError("real", 0.01, 1e-3, float64_floor=1e-6, keras_float64=0.01), True),
    (GradientError("real", 0.5, 1e-1, float64_floor=1e-6, keras_float64=0.5), False),
    (GradientError("unmeasured", 0.5, 1e-1, float64_floor=1e-6), False),
    (GradientError("exact zero", 0.0, 0.0, float64_floor=0.0, keras_float64=0.0), True),
])
def test_a_gradient_passes_on_the_tolerance_or_on_round_off(error, passes):
    assert (error.ratio(LIMIT_GRADIENTS) <= 1) is passes
    assert not math.isnan(error.ratio(LIMIT_GRADIENTS))


def test_zoo_only_runs_skip_the_trial_suite_naming_why(pytester):
    pytester.makepyfile(test_x="""
        def test_trial(crossedwires_trial):
            pass

        def test_model(crossedwires_arch):
            assert crossedwires_arch in ZOO
    """.replace("ZOO", repr(ZOO)))
    result = pytester.runpytest("--crossedwires-arch", "zoo", "-rs")
    result.assert_outcomes(passed=len(ZOO) - len(CONVERTED), skipped=1)  # crossedwires_arch: the image models
    result.stdout.fnmatch_lines(["*the trials are CrossedWires's (vgg16, resnet50, densenet121)*"])


@pytest.mark.skipif(not (importlib.util.find_spec("transformers") and importlib.util.find_spec("keras_hub")),
                    reason="needs the `transformers` extra and keras-hub (README: the project's tests)")
@pytest.mark.usefixtures("keras_here")
@pytest.mark.parametrize("name", [name for name, entry in CONVERTED.items() if not entry.images])
def test_a_converted_pair_agrees_until_one_weight_is_off(name, tmp_path):
    """Keras Hub's converter carries the weights exactly (outputs within fp32 rounding); one attention kernel 1% off,
    a converter that reads one tensor wrongly, is over the tolerance."""
    from cwtest.adapters.keras import converted as keras_converted
    from cwtest.adapters.torch import converted as torch_converted

    entry = CONVERTED[name].harmonized()  # as Keras Hub computes (BERT's known difference harmonized)
    torch_model = torch_converted.saved(entry, tmp_path)
    keras_model = keras_converted.load(entry, tmp_path)
    rng = np.random.default_rng(0)
    ids, mask = rng.integers(0, VOCABULARY, (2, 8)), np.ones((2, 8), np.int64)
    cotangent = rng.standard_normal((2, 8, torch_model.config.hidden_size)).astype(np.float32)
    reference, _ = torch_converted.run(entry, torch_model, ids, mask, cotangent)
    assert measure(reference, keras_converted.run(entry, keras_model, ids, mask, cotangent)[0]).max_rel <= LIMIT
    kernel = next(w for w in keras_model.weights if "query/kernel" in w.path)
    kernel.assign(np.asarray(kernel.numpy()) * np.float32(1.01))
    assert measure(reference, keras_converted.run(entry, keras_model, ids, mask, cotangent)[0]).max_rel > LIMIT

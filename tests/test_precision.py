"""Precision modes: the tolerance rule against the reference figures, and the modes read back from
the frameworks' own settings (the TF32 flags can be set and read without a GPU)."""

import pytest

from cwtest.frameworks import observed
from cwtest.frameworks.determinism import prepare_environment, torch_kernels, torch_state
from cwtest.frameworks.precision import (
    FLOOR_MARGIN,
    MODES,
    NUDGE_MARGIN,
    NUDGE_UNITS,
    GradientAllowance,
    allowed,
    gradient_allowance,
    looser,
    nudge_size,
    torch_in_force,
    torch_mode,
    unit_ratio,
)
from cwtest.frameworks.sides import PRECISIONS, Side
from cwtest.models.device_transfer import nudged

# H200, torch 2.11, eval mode, batch 256, random inputs, CPU fp32 as reference: the largest logit
# and the max abs logit error per mode (reference figures from an H200, ../shared/docs/gpu.md).
REFERENCE = {
    "vgg16": (0.012, {"fp32": 2.6e-8, "tf32": 1.7e-5, "bf16": 1.4e-4}),
    "resnet50": (1.2, {"fp32": 6.4e-6, "tf32": 4.1e-3, "bf16": 3.9e-2}),
    "densenet121": (0.38, {"fp32": 4.5e-7, "tf32": 2.8e-4, "bf16": 3.0e-3}),
}
ORDER = ("fp32", "tf32", "bf16")  # most precise first
# "Cleanly": every figure is this far inside the tolerance it must pass and outside the one it must fail.
# Against the largest logit, ResNet50's tf32 figure (3.4e-3) and DenseNet121's bf16 one (7.9e-3) are 2.3x
# apart: no single rule of this form separates them by more than 1.5x on both sides.
MARGIN = 1.4


def test_every_precision_has_a_mode():
    assert set(MODES) == set(PRECISIONS)
    assert (MODES["fp32"].rtol, MODES["bf16"].rtol, MODES["fp16"].rtol) == (1.3e-6, 1.6e-2, 1e-3)  # torch.testing
    assert all(m.atol == 1e-5 for m in MODES.values())


@pytest.mark.parametrize("arch", REFERENCE)
def test_reference_figures_separate_the_modes(arch):
    scale, measured = REFERENCE[arch]
    for i, mode in enumerate(ORDER):
        limit = allowed(MODES[mode], scale)
        for j, figure in enumerate(ORDER):
            if j <= i:
                assert measured[figure] * MARGIN <= limit, f"{arch}: {figure} figure fails {mode}'s tolerance {limit:.3g}"
            else:
                assert measured[figure] >= limit * MARGIN, f"{arch}: {figure} figure passes {mode}'s tolerance {limit:.3g}"


def test_looser_side_sets_the_mode():
    assert looser(Side("torch", "cpu"), Side("torch", "cuda", "bf16")).name == "bf16"
    assert looser(Side("torch", "cuda", "tf32"), Side("torch", "cpu")).name == "tf32"
    assert unit_ratio(MODES["fp32"]) == 1 and unit_ratio(MODES["tf32"]) == 2 ** 13


def test_gradient_allowance_names_the_term_that_sets_it():
    fp32, tf32 = MODES["fp32"], MODES["tf32"]
    assert gradient_allowance(fp32, 0.0) == GradientAllowance(pytest.approx(5 * 1.3e-6), "rtol")
    assert gradient_allowance(fp32, 1e-2) == GradientAllowance(pytest.approx(16 * 1e-2), "floor")
    assert gradient_allowance(tf32, 1e-6) == GradientAllowance(pytest.approx(44 * 1e-6 * 2 ** 13), "floor")
    assert gradient_allowance(fp32, 1e-5, 1e-3) == GradientAllowance(pytest.approx(NUDGE_MARGIN * 1e-3), "nudge")
    assert gradient_allowance(fp32, 1e-3, 1e-5).term == "floor"  # the spread only ever widens it


def test_nudge_follows_the_mode():
    assert nudge_size(MODES["fp32"]) == NUDGE_UNITS["fp32"] * 2.0 ** -24
    assert nudge_size(MODES["bf16"]) == NUDGE_UNITS["bf16"] * 2.0 ** -8
    assert set(NUDGE_UNITS) == set(MODES) == set(FLOOR_MARGIN)


def test_nudges_are_an_antithetic_pair_of_the_stated_size():
    import numpy as np

    x = np.random.default_rng(3).random((2, 3, 4, 4), dtype=np.float32) + 0.5
    up, down = nudged(x, 2.0 ** -10, 1.0), nudged(x, 2.0 ** -10, -1.0)
    moved = (up.astype(np.float64) - x) / x
    assert np.allclose(np.abs(moved), 2.0 ** -10, rtol=1e-3)  # float32 rounding of the nudged value
    assert np.allclose((down.astype(np.float64) - x) / x, -moved, rtol=1e-3)
    assert np.array_equal(nudged(x, 2.0 ** -10, 1.0), up)  # a fixed pattern: the same nudge on every call


PLANTED = 1e-3  # a wrong kernel: each weight of VGG16's first convolution off by 0.1%, with a random sign


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")  # torch says so when oneDNN's flags change
def test_device_gradient_criterion_through_vgg16():
    """Real VGG16, fp32 on this CPU, the first batch of 16 of the suite's default data. A second, correct
    computation with oneDNN off (other convolution kernels) takes a ReLU the other way on this batch: on a
    2-core x86 CPU with torch 2.14.1 the rtol and floor terms alone gave 299 x the allowance; the nudge term
    must cover it. The same model with a planted wrong kernel must still fail."""
    import numpy as np
    import torch

    from cwtest.inputs.budgets import BUDGETS
    from cwtest.inputs.data import synthetic_cifar10
    from cwtest.adapters.torch.adapter import float_gradients
    from cwtest.models.device_transfer import compared, copied, float_images, source_gradients
    from cwtest.models.parity import comparable

    side, mode = Side("torch", "cpu"), MODES["fp32"]
    data = synthetic_cifar10().subset(BUDGETS["smoke"])
    x, labels = float_images(data.x_test[:16]), data.y_test[:16]
    source, target = copied("vgg16", side, side)

    def over(found):
        return [g.name for g in found if g.relative_l2 > gradient_allowance(mode, g.float64_floor, g.nudge_spread).limit]

    with comparable(source, "torch"), comparable(target, "torch"):
        own = source_gradients(source, x, labels, side, mode)
        with torch.backends.mkldnn.flags(enabled=False):
            other_kernels = compared(own, float_gradients(target, x, labels, side))
        weight = target.features[0].weight
        signs = torch.from_numpy(np.random.default_rng(99).choice((-1.0, 1.0), size=tuple(weight.shape))).float()
        with torch.no_grad():
            weight.mul_(1 + PLANTED * signs)
        planted = compared(own, float_gradients(target, x, labels, side))
    assert not over(other_kernels), over(other_kernels)
    assert over(planted), "a wrong first convolution passed the device-gradient criterion"


def test_tf32_flags_read_back_on_cuda_only():
    import torch

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = False, True  # torch's default
        assert torch_in_force("cuda") == "tf32 (conv only)" and torch_in_force("cpu") == "fp32"
        with torch_mode(Side("torch", "cuda")):
            assert torch_in_force("cuda") == "fp32"
        with torch_mode(Side("torch", "cuda", "tf32")):
            assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (False, True)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_modes_in_force_are_recorded_as_read_back():
    import torch

    observed.clear()
    with torch_mode(Side("torch", "cpu", "bf16")):
        assert torch.ones(2, 2).matmul(torch.ones(2, 2)).dtype == torch.bfloat16
    with torch_mode(Side("torch", "cpu", "tf32")):  # no TF32 on a CPU: it computes in fp32, and says so
        pass
    assert observed.columns()["precision"] == "torch:cpu:bf16=bf16 torch:cpu:tf32=fp32"
    assert torch_in_force("cpu") == "fp32"


def test_tensorflow_fp32_turns_its_default_tf32_off():
    from cwtest.frameworks import imports
    from cwtest.frameworks.precision import tensorflow_mode

    experimental = imports.tensorflow().config.experimental
    assert experimental.tensor_float_32_execution_enabled()  # TensorFlow's default
    observed.clear()
    with tensorflow_mode(Side("tensorflow", "gpu")):
        assert not experimental.tensor_float_32_execution_enabled()
    with tensorflow_mode(Side("tensorflow", "gpu:1", "tf32")):
        assert experimental.tensor_float_32_execution_enabled()
    assert experimental.tensor_float_32_execution_enabled()
    assert observed.columns()["precision"] == "tensorflow:gpu=fp32 tensorflow:gpu:1:tf32=tf32"


def test_deterministic_kernels_switch_and_read_back():
    assert torch_state() == "off"
    with torch_kernels(True):
        assert torch_state() == "on (warn only)"
        with torch_kernels(False):  # without the knob, the run's setting stays
            assert torch_state() == "on (warn only)"
    assert torch_state() == "off"
    environ = {}
    prepare_environment(environ)
    assert environ == {"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    prepare_environment(environ := {"CUBLAS_WORKSPACE_CONFIG": ":16:8"})
    assert environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"  # the user's setting is kept

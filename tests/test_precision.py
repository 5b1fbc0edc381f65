"""Precision modes: the tolerance rule against the reference figures, and the modes read back from
the frameworks' own settings (the TF32 flags can be set and read without a GPU)."""

import pytest

from cwtest import observed
from cwtest.determinism import prepare_environment, torch_kernels, torch_state
from cwtest.precision import MODES, allowed, gradient_allowed, looser, torch_in_force, torch_mode, unit_ratio
from cwtest.sides import PRECISIONS, Side

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


def test_gradient_allowance_follows_the_fp32_floor():
    assert gradient_allowed(MODES["fp32"], 0.0) == pytest.approx(5 * 1.3e-6)
    assert gradient_allowed(MODES["fp32"], 1e-2) == pytest.approx(0.16)
    assert gradient_allowed(MODES["tf32"], 1e-6) == pytest.approx(44 * 1e-6 * 2 ** 13)


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
    from cwtest import frameworks
    from cwtest.precision import tensorflow_mode

    experimental = frameworks.tensorflow().config.experimental
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

"""The float64-referenced rule (cwtest.models.float64_rule): its terms, and on the CPU stand-ins for other devices
(oneDNN off for fp32, TF32 emulated by rounding, bf16 autocast) over several batches: every stand-in passes, and a
planted kernel error, products rounded to bf16 where fp32 is claimed, or TF32 by truncation fail on every batch."""

from contextlib import contextmanager, nullcontext

import numpy as np
import pytest

from cwtest.frameworks.emulation import emulated_products, onednn_off, rounded
from cwtest.frameworks.precision import MODES
from cwtest.frameworks.sides import parse_side
from cwtest.models.float64_rule import FLOOR_UNITS, MULTIPLE, judged

FP32, TF32, BF16 = MODES["fp32"], MODES["tf32"], MODES["bf16"]


def test_the_target_may_reach_a_multiple_of_the_source_error_scaled_to_its_mode():
    exact = np.array([1.0, -2.0, 4.0])
    source = exact + [1e-6, 0.0, 0.0]  # RMS error 1e-6 / sqrt(3)
    verdict = judged(exact + [0.0, 3e-6, 0.0], source, exact, FP32, FP32)
    assert verdict.term == "source" and verdict.limit == pytest.approx(MULTIPLE["fp32"] * 1e-6 / 3 ** 0.5)
    assert verdict.passed and verdict.ratio < 1
    scaled = judged(exact, source, exact, TF32, FP32)
    assert scaled.limit == pytest.approx(MULTIPLE["tf32"] * 2 ** 13 * 1e-6 / 3 ** 0.5)


def test_a_source_exact_in_fp32_leaves_the_floor():
    exact = np.array([0.5, -4.0])
    verdict = judged(exact + [0.0, 1e-7], exact, exact, FP32, FP32)
    assert verdict.term == "floor" and verdict.limit == pytest.approx(FLOOR_UNITS * 2.0 ** -24 * 4.0)
    assert verdict.passed
    assert not judged(exact + [0.0, 1e-5], exact, exact, FP32, FP32).passed


def test_a_nan_fails():
    exact = np.ones(3)
    assert not judged(np.array([1.0, np.nan, 1.0]), exact + 1e-3, exact, BF16, FP32).passed


def test_tf32_rounding_keeps_ten_mantissa_bits():
    import torch

    x = torch.tensor([1.0 + 2.0 ** -10, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 1.0 + 2.0 ** -12, -3.0])
    assert rounded(x, 10).tolist() == [1.0 + 2.0 ** -10, 1.0, 1.0 + 2 * 2.0 ** -10, 1.0, -3.0]  # ties to even
    assert rounded(x, 10, nearest=False).tolist() == [1.0 + 2.0 ** -10, 1.0, 1.0 + 2.0 ** -10, 1.0, -3.0]


@contextmanager
def _tf32_without_onednn(nearest: bool = True):
    with onednn_off(), emulated_products("tf32", nearest):
        yield


# (mode, the side the stand-in runs as, its context): scripts/false_alarms.py's stand-ins, the one each mode's
# rule is closest to failing on.
STAND_INS = {
    "fp32 with oneDNN off": ("fp32", "torch:cpu", onednn_off),
    "tf32 emulated, oneDNN off": ("tf32", "torch:cpu", lambda: _tf32_without_onednn()),
    "bf16 autocast": ("bf16", "torch:cpu:bf16", nullcontext),
}


def _batches(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8) for _ in range(count)]


def _verdicts(model, mode: str, side: str, context, training: bool = False, target_model=None, batches: int = 3):
    """The rule's verdict on each batch: `model` on the CPU in fp32 the source, the same model (or `target_model`)
    run as `side` inside `context` the target."""
    from cwtest.adapters.torch.adapter import comparable, float64_forward, forward

    found = []
    for images in _batches(batches):
        with comparable(model):
            exact = float64_forward(model, images, training)
            source = forward(model, images, parse_side("torch:cpu"), training)
            with context():
                target = forward(target_model or model, images, parse_side(side), training)
        found.append(judged(target, source, exact, MODES[mode], FP32))
    return found


@pytest.fixture(scope="module")
def models():
    from cwtest.adapters.torch.adapter import build

    return {arch: build(arch, parse_side("torch:cpu"), seed=3) for arch in ("vgg16", "resnet50")}


@pytest.mark.parametrize("stand_in", STAND_INS)
@pytest.mark.parametrize("arch, training, batches", [("vgg16", False, 3), ("resnet50", True, 2)])
def test_every_stand_in_passes_on_every_batch(models, stand_in, arch, training, batches):
    verdicts = _verdicts(models[arch], *STAND_INS[stand_in], training, batches=batches)
    assert all(v.passed for v in verdicts), [str(v) for v in verdicts]


def test_a_kernel_error_of_a_thousandth_fails_in_fp32_on_every_batch(models):
    import copy

    import torch

    moved = copy.deepcopy(models["vgg16"])
    weight = moved.features[0].weight
    signs = np.random.default_rng(9).choice((-1.0, 1.0), tuple(weight.shape))
    with torch.no_grad():
        weight.mul_(1 + 1e-3 * torch.from_numpy(signs).float())
    verdicts = _verdicts(models["vgg16"], "fp32", "torch:cpu", nullcontext, target_model=moved)
    assert not any(v.passed for v in verdicts), [str(v) for v in verdicts]


def test_products_in_bf16_fail_where_fp32_is_claimed(models):
    verdicts = _verdicts(models["vgg16"], "fp32", "torch:cpu", lambda: emulated_products("bf16"))
    assert not any(v.passed for v in verdicts), [str(v) for v in verdicts]


def test_tf32_by_truncation_fails_in_eval_mode(models):
    """Truncated operands err 5 to 15 times rounded ones, with a bias: a device that converts so is flagged."""
    verdicts = _verdicts(models["vgg16"], "tf32", "torch:cpu", lambda: _tf32_without_onednn(nearest=False))
    assert not any(v.passed for v in verdicts), [str(v) for v in verdicts]

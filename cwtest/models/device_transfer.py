"""One model code on two devices, precisions or Keras backends: the "transfer" is a copy of the weights
onto the other side, and the comparison is of the same model computed in two places. Gradients are
compared where the source's adapter gives a float64 reference (the role ReferenceGradients: torch's), against the
target's own gradients (the role Gradients: a plugin's side, say).

Gradients are compared with the source's own sensitivity to rounding beside them (the "nudge
spread", cwtest.frameworks.precision.gradient_allowance): the source's gradients again with its input images
and weights moved by NUDGE_UNITS units of the comparison mode's roundoff. A ReLU whose input is zero
within rounding can take the other branch on the other device, a step that no rounding margin covers;
such a step shows in the source's own gradients under the nudge, on that batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cwtest.frameworks import adapter_for
from cwtest.frameworks.precision import Mode, nudge_pattern, nudge_size
from cwtest.frameworks.sides import Side
from cwtest.models.parity import comparable, relative_l2

# Random patterns per batch, each nudged up and down; the spread is the largest change over them. One: where
# a 64-unit nudge missed a ReLU step the target took, a second pattern missed it too, and a larger nudge
# (cwtest.frameworks.precision.NUDGE_UNITS) covered it.
NUDGE_PATTERNS = 1


def copied(arch: str, source: Side, target: Side, seed: int = 0) -> tuple[object, object]:
    """The source's model and a copy of its weights and statistics on the target (another device, precision
    or Keras backend: one model code); the target is built from another seed, so that only the copy can
    make the two agree."""
    first = adapter_for(source).build(arch, source, seed)
    second = adapter_for(target).build(arch, target, seed + 1)
    adapter_for(target).set_weights(second, adapter_for(source).weights(first))
    return first, second


def float_images(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC images as the torch side feeds them: float32 NCHW in [0, 1]."""
    return images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def nudged(x: np.ndarray, size: float, sign: float, seed: int = 0) -> np.ndarray:
    """x * (1 + sign * size * s) for a fixed random +-1 pattern s, computed in float64 and rounded to float32."""
    return (x.astype(np.float64) * (1.0 + sign * size * nudge_pattern(x.shape, np.random.default_rng(seed)))).astype(np.float32)


@dataclass(frozen=True)
class DeviceGradientError:
    name: str  # the torch parameter
    relative_l2: float  # ||g_target - g_source|| / ||g_source||
    max_abs: float
    float64_floor: float  # ||g_source - g_source_float64|| / ||g_source_float64||: the source's fp32 rounding
    nudge_spread: float  # the larger ||g_source(nudged x) - g_source(x)|| / ||g_source(x)|| of the two nudges


@dataclass(frozen=True)
class SourceGradients:
    """The source's side of a comparison, for one batch."""
    value: dict[str, np.ndarray]  # parameter name -> gradient
    float64: dict[str, np.ndarray]  # the same on a float64 copy of the model
    nudged: list[dict[str, np.ndarray]]  # the same with inputs and parameters nudged up and down


def source_gradients(model, x: np.ndarray, labels: np.ndarray, side: Side, mode: Mode,
                     patterns: int = NUDGE_PATTERNS) -> SourceGradients:
    """The source's gradients on float inputs `x`, its float64 reference, and the same under the mode's nudges.

    A nudge moves every operand, the inputs and each parameter, by the mode's nudge size: rounding enters
    at every layer, and a nudge of the inputs alone fades with depth where rounding grows (measured in
    cwtest.frameworks.precision, NUDGE_UNITS). Each random pattern is used with both signs (an antithetic pair): a ReLU
    input that the nudge moves by more than its distance from zero changes sides under one of the two.
    """
    reference = adapter_for(side)  # the role ReferenceGradients (cwtest.frameworks.roles)
    value, exact = reference.float_gradients(model, x, labels, side), reference.float_gradients(model, x, labels, side,
                                                                                              float64=True)
    size = nudge_size(mode)
    moved = [reference.float_gradients(reference.nudged(model, size, sign, 2 * seed + 1), nudged(x, size, sign, 2 * seed),
                                       labels, side) for seed in range(patterns) for sign in (1.0, -1.0)]
    return SourceGradients(value, exact, moved)


def compared(source: SourceGradients, actual: dict[str, np.ndarray]) -> list[DeviceGradientError]:
    """Every parameter's gradient in `actual` (the target's) against the source's."""
    found = []
    for name, value in source.value.items():
        spread = max(relative_l2(m[name], value) for m in source.nudged)
        found.append(DeviceGradientError(name, relative_l2(actual[name], value),
                                         float(np.abs(actual[name] - value).max()),
                                         relative_l2(value, source.float64[name]), spread))
    return found


def gradient_errors(models, images: np.ndarray, labels: np.ndarray, source: Side, target: Side,
                    mode: Mode) -> list[DeviceGradientError]:
    """Every parameter's gradient on the target against the source's, one training-mode pass each
    (dropout off), with the source's fp32-against-float64 floor and its spread under `mode`'s nudge."""
    x = float_images(images)
    with comparable(models[0], source), comparable(models[1], target):
        found = source_gradients(models[0], x, labels, source, mode)
        # The same float inputs: the target's adapter scales the uint8 images as float_images does.
        return compared(found, adapter_for(target).gradients(models[1], images, labels, target))

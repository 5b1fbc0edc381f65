"""How far one side's numbers are from the reference side's: the one set of errors every suite measures.

`max_rel` is the largest absolute error over the reference's scale: its largest magnitude, or a larger
scale the caller knows (the size of the terms a sum adds up, cwtest.blocks.layer_parity). Element-wise
relative errors explode where the reference is near zero (logits, a sum that cancelled) and say nothing
there; `max_rel_elementwise` is that one, kept to show where a reference is small. `eps_units` is
`max_rel` in units of fp32 epsilon, the layer suite's yardstick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)
# A quantity over its tolerance still passes when the other side is no further from the reference
# side's float64 result than FLOAT64_MARGIN times the reference side's own fp32 result is: then the
# two differ by round-off that the reference side carries as well (the way PyTorch's OpInfo tests
# decide which of two results is closer to exact). It matters where a gradient is zero in exact
# arithmetic and both sides return noise: resnet_bottleneck_v1, one-channel input at scale 0.1,
# training mode, d shortcut_conv.bias (a bias before a training-mode BatchNorm): exact 1e-11, torch
# 8.4e-3, Keras 1.1e-2 apart from exact, 1270 units apart from each other; ratio 1.3.
FLOAT64_MARGIN = 4.0
# A test's worst error over its tolerance, recorded by the tests that judge against one: over 1 fails.
# The column of the compatibility table (cwtest.report.summary.compatibility_lines).
TOLERANCE_RATIO = "tolerance_ratio"


@dataclass(frozen=True)
class Errors:
    max_abs: float
    max_rel: float  # max_abs over the reference's scale
    mean_abs: float
    max_rel_elementwise: float  # over the elements where the reference is not zero
    # The other side's largest distance from the reference side's float64 result over the reference
    # side's own (nan where there is no float64 result): at most FLOAT64_MARGIN is round-off. Where the
    # reference is not the float64 result's own framework, the further of the two sides' distances over
    # that framework's fp32 one (see `measure`).
    float64_ratio: float = math.nan

    @property
    def eps_units(self) -> float:
        return self.max_rel / EPS32

    @property
    def within_round_off(self) -> bool:
        return self.float64_ratio <= FLOAT64_MARGIN

    def __str__(self) -> str:
        return f"max abs {self.max_abs:.3g}, max rel {self.max_rel:.3g}, mean abs {self.mean_abs:.3g}"


def measure(reference, candidate, scale: float = 0.0, exact=None, round_off=None) -> Errors:
    """Errors of `candidate` against `reference`, relative to the larger of `scale` and the reference's
    largest magnitude; with `exact` (the reference computed in float64), how much further from it the
    candidate is than the reference. A NaN on either side is the largest error, never a pass.

    `round_off`, where `exact` is another framework's float64 result (two Keras backends judged against
    torch's): that framework's fp32 result, whose distance from `exact` is the round-off. Then the further
    of the two sides is measured against it: a reference that is far from `exact` by a convention of its own
    (a different gradient at a kink) is no yardstick, and would excuse any other side."""
    ref, cand = np.asarray(reference, np.float64), np.asarray(candidate, np.float64)
    if ref.shape != cand.shape:
        raise ValueError(f"shapes differ: {cand.shape} vs {ref.shape} (reference)")
    if ref.size == 0:
        return Errors(0.0, 0.0, 0.0, 0.0)
    diff = np.abs(ref - cand)
    diff[np.isnan(diff)] = math.inf
    magnitude = np.abs(ref)
    max_abs, scale = float(diff.max()), max(scale, float(np.nanmax(magnitude)))
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else math.inf)
    nonzero = ref != 0
    elementwise = float((diff[nonzero] / magnitude[nonzero]).max()) if nonzero.any() else 0.0
    ratio = math.nan
    if exact is not None:
        exact = np.asarray(exact, np.float64)
        own, theirs = float(np.abs(ref - exact).max()), float(np.abs(cand - exact).max())
        if round_off is not None:
            own, theirs = float(np.abs(np.asarray(round_off, np.float64) - exact).max()), max(own, theirs)
        ratio = theirs / own if own > 0 else (0.0 if theirs == 0 else math.inf)
    return Errors(max_abs, max_rel, float(diff.mean()), elementwise, ratio)

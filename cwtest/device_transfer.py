"""One framework on two devices (or precisions): the "transfer" is a state-dict copy onto the
other side's device, and the comparison is of the same torch model computed in two places."""

from __future__ import annotations

import numpy as np

from cwtest.adapters import torch_side
from cwtest.parity import GradientError, comparable, relative_l2
from cwtest.sides import Side


def copied(arch: str, source: Side, target: Side, seed: int = 0) -> tuple[object, object]:
    """The source's model and a copy of its weights and statistics on the target's device; the target
    is built from another seed, so that only the copy can make the two agree."""
    first = torch_side.build(arch, source, seed)
    second = torch_side.build(arch, target, seed + 1)
    second.load_state_dict(first.state_dict())
    return first, second


def gradient_errors(models, images: np.ndarray, labels: np.ndarray, source: Side,
                    target: Side) -> list[GradientError]:
    """Every parameter's gradient on the target against the source's, one training-mode pass each
    (dropout off), with the source's fp32-against-float64 floor."""
    with comparable(models[0], "torch"), comparable(models[1], "torch"):
        reference = torch_side.gradients(models[0], images, labels, source)
        exact = torch_side.gradients(models[0], images, labels, source, float64=True)
        actual = torch_side.gradients(models[1], images, labels, target)
    return [GradientError(name, relative_l2(actual[name], value), float(np.abs(actual[name] - value).max()),
                          relative_l2(value, exact[name])) for name, value in reference.items()]

"""Measuring whether two sides compute the same numbers: outputs and gradients.

Errors are cwtest.core.metrics's: against the reference side's scale (`max_rel`), since element-wise
relative errors explode at logits near zero and say nothing there.
Logits are compared on both sides, also for a Keras model with a softmax head (its head
is read before the softmax), and in training mode with dropout off (batch statistics on).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import math

import numpy as np

from cwtest.frameworks import adapter_for
from cwtest.frameworks.sides import TORCH_CPU, Side, keras_in_process
from cwtest.core.metrics import FLOAT64_MARGIN
from cwtest.core.layouts import owned


def image_batches(data, size: int) -> dict[str, np.ndarray]:
    """Uniform random pixels, and the run's dataset images (real CIFAR-10 with --crossedwires-data)."""
    random = np.random.default_rng(0).integers(0, 256, (size, 32, 32, 3), dtype=np.uint8)
    return {"random": random, "data": data.x_test[:size]}


def decidable_agreement(actual: np.ndarray, reference: np.ndarray, max_abs: float) -> tuple[float, int]:
    """Argmax agreement over the rows whose top two reference logits differ by more than twice the
    largest error (closer ones may swap within the error), and how many rows that is."""
    top2 = np.sort(reference, axis=1)[:, -2:]
    decidable = (top2[:, 1] - top2[:, 0]) > 2 * max_abs
    if not decidable.any():
        return 1.0, 0
    same = actual.argmax(axis=1) == reference.argmax(axis=1)
    return float(same[decidable].mean()), int(decidable.sum())


def agreement_line(agreement: float, decidable: int) -> str:
    """What `decidable_agreement` found, in words: an agreement over no decidable row is not a figure."""
    if not decidable:
        return ("argmax not judged: no row's top two reference logits are further apart than twice the largest "
                "error")
    return f"argmax agreement {agreement:.3f} over {decidable} decidable rows"


def comparable(model, side: Side | str):
    """Dropout off and a softmax head read as logits, put back afterwards (the side's adapter knows how)."""
    return adapter_for(side).comparable(model)


def logits(model, side: Side, images: np.ndarray, training: bool = False) -> np.ndarray:
    with comparable(model, side):
        return adapter_for(side).forward(model, images, side, training=training)


@contextmanager
def preserved(torch_model, keras_model):
    """Both models' weights and statistics as they were before (a training-mode pass updates
    BatchNorm statistics, by different momenta on the two sides): copies, since an adapter's arrays may
    share memory with the tensors they came from."""
    sides = ((adapter_for(TORCH_CPU), torch_model), (adapter_for(keras_in_process()), keras_model))
    saved = [[owned(a) for a in adapter.weights(model)] for adapter, model in sides]
    try:
        yield
    finally:
        for (adapter, model), arrays in zip(sides, saved):
            adapter.set_weights(model, arrays)


@dataclass(frozen=True)
class GradientError:
    name: str  # the torch parameter
    relative_l2: float  # ||g_keras - g_torch|| / ||g_torch||
    max_abs: float
    float64_floor: float  # ||g_torch - g_torch_float64|| / ||g_torch_float64||: torch's own fp32 rounding
    keras_float64: float = math.nan  # ||g_keras - g_torch_float64|| / ||g_torch_float64||, where measured

    def ratio(self, limit: float) -> float:
        """Over 1 fails: the smaller of relative_l2 over the tolerance and Keras's distance from the float64
        gradient over FLOAT64_MARGIN times torch's fp32 one; a gradient passes on either. The second decides where
        torch's own fp32 gradient is noise: a bias before a training-mode BatchNorm has a zero gradient in exact
        arithmetic (MobileNetV2's projection biases, through linear layers only, are 1e8 off float64)."""
        allowed = FLOAT64_MARGIN * self.float64_floor
        by_round_off = (self.keras_float64 / allowed if allowed else (0.0 if self.keras_float64 == 0 else math.inf))
        return min(self.relative_l2 / limit, math.inf if math.isnan(by_round_off) else by_round_off)


def relative_l2(actual: np.ndarray, reference: np.ndarray) -> float:
    scale = float(np.linalg.norm(reference))
    difference = float(np.linalg.norm(actual.astype(np.float64) - reference))
    return difference / scale if scale else (0.0 if difference == 0 else np.inf)


def gradient_errors(pair, images: np.ndarray, labels: np.ndarray, torch_side: Side,
                    keras_side: Side) -> list[GradientError]:
    """Every torch parameter's gradient against the Keras one mapped back through the transfer layout,
    after one backward pass of the mean cross-entropy of the logits in training mode (dropout off)."""
    from cwtest.core.layouts import to_torch

    torch_adapter = adapter_for(torch_side)
    with preserved(pair.torch_model, pair.keras_model):
        with comparable(pair.torch_model, torch_side):
            torch_grads = torch_adapter.gradients(pair.torch_model, images, labels, torch_side)
            exact = torch_adapter.gradients(pair.torch_model, images, labels, torch_side, float64=True)
        with comparable(pair.keras_model, keras_side):
            keras_grads = adapter_for(keras_side).gradients(pair.keras_model, images, labels, keras_side)
    found = []
    for torch_layer, keras_layer in pair.structure.pairs:
        names = [f"{torch_layer.name}.{n}" for n in ("weight", "bias") if f"{torch_layer.name}.{n}" in torch_grads]
        keras_values = [keras_grads[key] for key in keras_layer.gradient_keys]
        for name, value in zip(names, to_torch(keras_layer, keras_values), strict=True):
            reference = torch_grads[name]
            found.append(GradientError(name, relative_l2(value, reference), float(np.abs(value - reference).max()),
                                       relative_l2(reference, exact[name]), relative_l2(value, exact[name])))
    if len(found) != len(torch_grads):
        raise AssertionError(f"{len(torch_grads) - len(found)} torch parameters have no Keras counterpart")
    return found

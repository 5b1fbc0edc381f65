"""The optimizer registry: torch and Keras optimizers stepped with identical gradients.

Both sides start from the same parameters and get the same gradient at every step, so any
gap is the optimizers' own arithmetic. The entries hand their builders (cwtest.backends.torch_blocks,
cwtest.backends.keras_blocks) to the backends, which step them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st

from cwtest.backends import keras_blocks, torch_blocks

# Per step, in fp32-eps units of the largest parameter or step along the way (path_scale).
# The gap grows linearly: with weight decay torch multiplies by fl(1 - lr*wd) while Keras
# subtracts lr*wd*theta, about one ulp of theta apart at every step, always the same way.
# Measured over 150 examples per entry (up to 30 steps): at most 0.83 units per step (Adam,
# wd 0.01, 26 steps: 21.6 units); limit about twice that. adam_small_weights, harmonized: at most
# 0.99 units per step over 150 examples (its published adam_bias_correction: 3.8 to 40 per step).
OPTIMIZER_EPS_UNITS_PER_STEP = 2.0


@dataclass(frozen=True)
class Optimizer:
    name: str
    params: st.SearchStrategy  # dicts with "seed", "size", "steps", "grad_scale" and the optimizer's options
    torch: Callable  # (torch, [tensor], params, published) -> step(t), which applies the t-th step (t from 1)
    keras: Callable  # (keras, params, published) -> a Keras optimizer
    differences: tuple[str, ...] = ()
    tolerance_per_step: float = OPTIMIZER_EPS_UNITS_PER_STEP
    checks: tuple[str, ...] = ("optimizer",)  # the checks the layer suite runs on it


def _common(draw):
    # Gradients down to 1e-8 are where the epsilons matter.
    return {"seed": draw(st.integers(0, 2**16)), "size": draw(st.integers(1, 32)), "steps": draw(st.integers(1, 30)),
            "grad_scale": draw(st.sampled_from([1e-6, 1.0, 1e-3, 1e-8])),
            "lr": draw(st.sampled_from([1e-3, 1e-2, 1e-4]))}


@st.composite
def _adam_params(draw):
    return {**_common(draw), "beta1": draw(st.sampled_from([0.9, 0.5])), "beta2": draw(st.sampled_from([0.999, 0.99])),
            "eps": draw(st.sampled_from([1e-7, 1e-8])), "weight_decay": draw(st.sampled_from([0.01, 0.1, 0.0]))}


@st.composite
def _sgd_params(draw):
    momentum = draw(st.sampled_from([0.0, 0.9, 0.5]))
    return {**_common(draw), "momentum": momentum, "nesterov": momentum > 0 and draw(st.booleans())}


@st.composite
def _adam_small_weights_params(draw):
    # Parameters about the size of the step (lr 1e-2): there a systematic relative error of the step
    # size shows against the parameters' own scale. Steps of unit-sized gradients, no decay; at least
    # four parameters, so that the largest, which sets the error's scale, is not itself near zero.
    return {"seed": draw(st.integers(0, 2**16)), "size": draw(st.integers(4, 8)), "steps": draw(st.integers(1, 5)),
            "grad_scale": 1.0, "theta_scale": 0.03, "lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7,
            "weight_decay": 0.0}


OPTIMIZERS = (
    # adam_bias_correction is harmonized in every Adam case; its published form shows only where the
    # parameters are small against the step, which adam_small_weights draws (and adam rarely does).
    Optimizer("adam", _adam_params(), torch_blocks.adam, keras_blocks.adam, differences=("adam_epsilon", "adam_weight_decay")),
    Optimizer("adam_small_weights", _adam_small_weights_params(), torch_blocks.adam, keras_blocks.adam,
              differences=("adam_bias_correction",)),
    Optimizer("sgd", _sgd_params(), torch_blocks.sgd, keras_blocks.sgd),
)
REGISTRY = {entry.name: entry for entry in OPTIMIZERS}


def start(params: dict, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The initial parameters and the gradient of every step, drawn from the case's seed."""
    rng = np.random.default_rng(params["seed"])
    theta = (rng.standard_normal(params["size"]) * params.get("theta_scale", 1.0)).astype(np.float32)
    return theta, (rng.standard_normal((steps, params["size"])) * params["grad_scale"]).astype(np.float32)


def trajectories(entry: Optimizer, params: dict, published: frozenset = frozenset(),
                 checkpoints: tuple[int, ...] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(torch, Keras) parameters after each checkpoint step (default: the case's last step)."""
    checkpoints = checkpoints or (params["steps"],)
    theta, gradients = start(params, max(checkpoints))
    torch_path = torch_blocks.optimizer_path(entry.torch, theta, gradients, params, published, checkpoints)
    keras_path = keras_blocks.optimizer_path(entry.keras, theta, gradients, params, published, checkpoints)
    return list(zip(torch_path, keras_path))


def keras_pair_trajectories(entry: Optimizer, params: dict, other, checkpoints: tuple[int, ...]
                            ) -> list[tuple[np.ndarray, np.ndarray]]:
    """As `trajectories` for a harmonized case, on this process's Keras backend and on `other`, a Keras side
    on another backend in its own process (cwtest.backends.remote)."""
    from cwtest.backends.remote import keras_on

    theta, gradients = start(params, max(checkpoints))
    ours = keras_blocks.optimizer_path(entry.keras, theta, gradients, params, frozenset(), checkpoints)
    return list(zip(ours, keras_on(other.keras_backend).optimizer_on_cpu(entry.name, params, checkpoints)))


def path_scale(theta: np.ndarray, path: list[np.ndarray]) -> float:
    """What a trajectory's errors are measured against: the largest parameter and the largest single
    step along it (torch's side). A step subtracts an update from a parameter, and where the result
    cancels towards zero it keeps the round-off of both terms: a thorough draw stepped 0.0034 by
    0.0066 (Adam, a gradient of 6e-7 next to eps 1e-8), 2.5 units of the result apart, 1.2 of the step."""
    before = [theta, *path[:-1]]
    return max(float(max(np.abs(a).max(), np.abs(b).max(), np.abs(b - a).max())) for a, b in zip(before, path))


def adam_reference(theta: np.ndarray, gradients: np.ndarray, lr: float, beta1: float, beta2: float, eps: float,
                   epsilon_hat: bool, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """Adam in float64 as the catalogue states it: eps after bias correction (torch) or on sqrt(v)
    (Keras's epsilon hat)."""
    theta, m, v, found = theta.astype(np.float64), 0.0, 0.0, []
    for t, g in enumerate(gradients.astype(np.float64), start=1):
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        if epsilon_hat:
            theta = theta - lr * math.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps)
        else:
            theta = theta - lr / (1 - beta1**t) * m / (np.sqrt(v) / math.sqrt(1 - beta2**t) + eps)
        if t in checkpoints:
            found.append(theta)
    return found

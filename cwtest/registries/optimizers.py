"""The optimizer registry: torch and Keras optimizers stepped with identical gradients.

Both sides start from the same parameters and get the same gradient at every step, so any
gap is the optimizers' own arithmetic. An entry names its builders by key (each framework's
cwtest.adapters.<framework>.blocks.OPTIMIZERS); the cases are stepped by cwtest.blocks.optimizer_paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from cwtest.registries.tolerances import OPTIMIZER_EPS_UNITS_PER_STEP


@dataclass(frozen=True)
class Optimizer:
    name: str
    params: st.SearchStrategy  # dicts with "seed", "size", "steps", "grad_scale" and the optimizer's options
    # The key of its builders: torch's (torch, [tensor], params, kept) -> step(t), which applies the t-th step
    # (t from 1); Keras's (keras, params, kept) -> a Keras optimizer. `kept`: the differences left in.
    builds: str
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
    Optimizer("adam", _adam_params(), "adam", differences=("adam_epsilon", "adam_weight_decay")),
    Optimizer("adam_small_weights", _adam_small_weights_params(), "adam",
              differences=("adam_bias_correction",)),
    Optimizer("sgd", _sgd_params(), "sgd"),
)
REGISTRY = {entry.name: entry for entry in OPTIMIZERS}


def start(params: dict, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The initial parameters and the gradient of every step, drawn from the case's seed."""
    rng = np.random.default_rng(params["seed"])
    theta = (rng.standard_normal(params["size"]) * params.get("theta_scale", 1.0)).astype(np.float32)
    return theta, (rng.standard_normal((steps, params["size"])) * params["grad_scale"]).astype(np.float32)

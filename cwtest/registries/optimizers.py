"""The optimizer registry: torch and Keras optimizers stepped with identical gradients.

Both sides start from the same parameters and get the same gradient at every step, so any
gap is the optimizers' own arithmetic. An entry names its builders by key (each framework's
cwtest.adapters.<framework>.blocks.OPTIMIZERS); the cases are stepped by cwtest.blocks.optimizer_paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from cwtest.registries.releases import too_old
from cwtest.registries.tolerances import MUON_EPS_UNITS_PER_STEP, OPTIMIZER_EPS_UNITS_PER_STEP


@dataclass(frozen=True)
class Optimizer:
    name: str
    params: st.SearchStrategy  # dicts with "seed", "size" (or a matrix's "shape"), "steps", "grad_scale" and its options
    # The key of its builders: torch's (torch, [tensor], params, kept) -> step(t), which applies the t-th step
    # (t from 1); Keras's (keras, params, kept) -> a Keras optimizer. `kept`: the differences left in.
    builds: str
    differences: tuple[str, ...] = ()
    tolerance_per_step: float = OPTIMIZER_EPS_UNITS_PER_STEP
    checks: tuple[str, ...] = ("optimizer",)  # the checks the layer suite runs on it
    # The first releases whose optimizer computes what the builders harmonize (None: every release the extras admit);
    # on older ones its cases skip, naming the release.
    keras_since: str | None = None
    torch_since: str | None = None

    def unavailable(self) -> str | None:
        """Why the installed torch or Keras cannot run its cases, None where both can."""
        return too_old(self.name, {"torch": self.torch_since, "keras": self.keras_since})


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


@st.composite
def _adamw_params(draw):
    return {**draw(_adam_params()), "weight_decay": draw(st.sampled_from([0.004, 0.01, 0.1]))}


# The optimizers that divide by a root of squared gradients draw gradients of 1e-4 and less: against eps 1e-8 to 1e-6
# there every step shows where eps sits (sqrt_epsilon_placement), so that the published case fails on every draw.
# Harmonized, with eps 0, their steps do not depend on the gradients' scale.
_SMALL_GRADIENTS = st.sampled_from([1e-4, 1e-6, 1e-8])
_EPSILONS = st.sampled_from([1e-7, 1e-8, 1e-6])


@st.composite
def _rmsprop_params(draw, centered=False, momentum=False):
    return {**_common(draw), "grad_scale": draw(_SMALL_GRADIENTS), "rho": draw(st.sampled_from([0.9, 0.99, 0.5])),
            "eps": draw(_EPSILONS), "centered": centered,
            "momentum": draw(st.sampled_from([0.9, 0.5])) if momentum else 0.0}


@st.composite
def _adagrad_params(draw):
    # A sum that starts at zero (or next to it): where it starts at Keras's 0.1, eps is lost against it.
    return {**_common(draw), "grad_scale": draw(_SMALL_GRADIENTS), "eps": draw(_EPSILONS),
            "initial_accumulator": draw(st.sampled_from([0.0, 1e-8]))}


@st.composite
def _adadelta_params(draw):
    return {**_common(draw), "lr": draw(st.sampled_from([1.0, 1e-3, 0.1])), "rho": draw(st.sampled_from([0.9, 0.95])),
            "eps": draw(st.sampled_from([1e-6, 1e-7]))}


@st.composite
def _adamax_params(draw):
    # Gradients of 1e-3 and more against eps 1e-7 or less: where eps sits (adamax_epsilon) moves a step by less than
    # eps / |g| * (1 - beta2), under a float32 rounding (adamax_small_gradients draws where it shows).
    return {**_common(draw), "grad_scale": draw(st.sampled_from([1.0, 1e-3])), "lr": draw(st.sampled_from([2e-3, 1e-3, 1e-2])),
            "beta1": draw(st.sampled_from([0.9, 0.5])), "beta2": draw(st.sampled_from([0.999, 0.99])),
            "eps": draw(st.sampled_from([1e-7, 1e-8]))}


@st.composite
def _adamax_small_gradients_params(draw):
    # Gradients of eps's size, whose running maximum torch decays with eps inside: every step after the first where an
    # element's maximum decays moves by about (1 - beta2) / 2 of a step, over a float32 rounding at beta2 0.99 or less.
    scale = draw(st.sampled_from([1e-6, 1e-8]))
    return {**_common(draw), "size": draw(st.integers(4, 32)), "steps": draw(st.integers(2, 30)), "grad_scale": scale,
            "lr": draw(st.sampled_from([1e-2, 2e-3])), "beta1": draw(st.sampled_from([0.9, 0.5])),
            "beta2": draw(st.sampled_from([0.99, 0.9])), "eps": scale * draw(st.sampled_from([1.0, 0.3]))}


@st.composite
def _nadam_params(draw):
    return {**_common(draw), "lr": draw(st.sampled_from([2e-3, 1e-3, 1e-2])), "beta1": draw(st.sampled_from([0.9, 0.5])),
            "beta2": draw(st.sampled_from([0.999, 0.99])), "eps": draw(_EPSILONS)}


@st.composite
def _adafactor_params(draw):
    # Steps scaled by the parameters' RMS and by 1 / sqrt(t) against lr, second moments decaying as 1 - t^decay;
    # gradients below 1e-7, where torch's floor (adafactor_epsilon1) decides every step. Harmonized, a step
    # does not depend on the gradients' scale.
    return {**_common(draw), "grad_scale": draw(st.sampled_from([1e-8, 1e-9, 1e-10])),
            "lr": draw(st.sampled_from([1e-2, 1e-3, 0.1])), "beta2_decay": draw(st.sampled_from([-0.8, -0.5])),
            "eps2": draw(st.sampled_from([1e-3, 1e-2])), "clip": draw(st.sampled_from([1.0, 2.0]))}


@st.composite
def _muon_params(draw):
    # One matrix (Muon orthogonalizes 2-D parameters only; torch's refuses others, Keras's steps them with AdamW), wide,
    # square or tall (both transpose a tall one), at a weight matrix's scale. Learning rates of Muon's use (0.02 is
    # the reference's), where a bfloat16 rounding of the step shows against the parameters' float32. Gradients of 0.1
    # and up: the epsilon each adds to (Keras) or floors (torch) the gradient's norm with, 1e-7, is below a float32
    # rounding of a step there.
    return {"seed": draw(st.integers(0, 2**16)), "shape": (draw(st.integers(2, 16)), draw(st.integers(2, 16))),
            "steps": draw(st.integers(1, 20)), "theta_scale": 0.1, "grad_scale": draw(st.sampled_from([1.0, 0.1])),
            "lr": draw(st.sampled_from([0.02, 0.05, 0.1])),
            "momentum": draw(st.sampled_from([0.95, 0.9])), "nesterov": draw(st.booleans()),
            "weight_decay": draw(st.sampled_from([0.004, 0.1, 0.0]))}


OPTIMIZERS = (
    # adam_bias_correction is harmonized in every Adam case; its published form shows only where the
    # parameters are small against the step, which adam_small_weights draws (and adam rarely does).
    Optimizer("adam", _adam_params(), "adam", differences=("adam_epsilon", "adam_weight_decay")),
    Optimizer("adam_small_weights", _adam_small_weights_params(), "adam",
              differences=("adam_bias_correction",)),
    Optimizer("sgd", _sgd_params(), "sgd"),
    Optimizer("adamw", _adamw_params(), "adamw", differences=("adam_epsilon", "adamw_default_weight_decay")),
    Optimizer("rmsprop", _rmsprop_params(), "rmsprop", differences=("rmsprop_rho", "sqrt_epsilon_placement")),
    Optimizer("rmsprop_centered", _rmsprop_params(centered=True), "rmsprop",
              differences=("rmsprop_rho", "sqrt_epsilon_placement")),
    Optimizer("rmsprop_momentum", _rmsprop_params(momentum=True), "rmsprop",
              differences=("rmsprop_rho", "sqrt_epsilon_placement")),
    Optimizer("adagrad", _adagrad_params(), "adagrad",
              differences=("adagrad_initial_accumulator", "sqrt_epsilon_placement")),
    Optimizer("adadelta", _adadelta_params(), "adadelta", differences=("adadelta_defaults",)),
    Optimizer("adamax", _adamax_params(), "adamax"),
    Optimizer("adamax_small_gradients", _adamax_small_gradients_params(), "adamax_small_gradients",
              differences=("adamax_epsilon",)),
    Optimizer("nadam", _nadam_params(), "nadam", differences=("nadam_momentum_decay",)),
    Optimizer("adafactor", _adafactor_params(), "adafactor", differences=("adafactor_epsilon1",)),
    # torch's Muon since 2.9.0; Keras's since 3.13.0 with Moonlight's learning-rate scale (rms_rate), 5 Newton-Schulz
    # steps and weight decay 0.004 by default (3.10.0 to 3.12.x: no scale, 6 steps, 0.1).
    Optimizer("muon", _muon_params(), "muon", keras_since="3.13.0", torch_since="2.9.0",
              tolerance_per_step=MUON_EPS_UNITS_PER_STEP,
              differences=("muon_orthogonalization_bfloat16", "muon_lr_adjustment", "muon_default_weight_decay")),
)
REGISTRY = {entry.name: entry for entry in OPTIMIZERS}


def start(params: dict, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The initial parameters and the gradient of every step, drawn from the case's seed."""
    rng = np.random.default_rng(params["seed"])
    shape = params["shape"] if "shape" in params else (params["size"],)  # a matrix, or a vector of `size`
    theta = (rng.standard_normal(shape) * params.get("theta_scale", 1.0)).astype(np.float32)
    return theta, (rng.standard_normal((steps, *shape)) * params["grad_scale"]).astype(np.float32)

"""Every named tolerance, with the measurements behind it: the transfer suite's (DEFAULTS, and how a run or a
test overrides them), the layer suite's per block (Tolerance), the optimizer cases' per step and the trial
suite's step-level parity. (Device and precision comparisons derive theirs from the precision mode:
cwtest.frameworks.precision.)

The transfer suite's:

Output tolerances bound a `max rel` error (cwtest.core.metrics: the largest absolute error over
the reference's largest magnitude); localization uses the tolerance of the check that
failed. Defaults hold with margin the measurements below (CPU, torch 2.14.1 / TensorFlow
2.21 / onnxruntime 1.32, 16 CIFAR-10 test images and 16 uniform random images, both
flavours, both directions, random initialization).

Precedence: default < `@pytest.mark.crossedwires_tolerance(name=value)` on a test <
`--crossedwires-tolerance name=value[,name=value]` (ini `crossedwires_tolerance`) for a run.
"""

from __future__ import annotations

from dataclasses import dataclass

from cwtest.core.errors import InputError

OPTION = "--crossedwires-tolerance"

DEFAULTS = {
    # Logits in eval mode. Measured worst: VGG16 7.5e-7, ResNet50 9.3e-7, DenseNet121 6.6e-7.
    "logits_eval": 1e-5,
    # Logits in training mode (batch statistics): BatchNorm divides by the batch's standard deviation,
    # which amplifies rounding in near-constant channels. Measured worst: VGG16 7.5e-7 (no BatchNorm),
    # ResNet50 2.3e-4, DenseNet121 2.7e-5.
    "logits_train": 1e-3,
    # Per parameter, the relative L2 error ||g_keras - g_torch|| / ||g_torch|| after one backward pass in
    # training mode. These randomly initialized BatchNorm nets are ill-conditioned at 16 images: torch's
    # own fp32 gradient differs from its float64 one by up to 3.1e-2 (ResNet50) and 1.4e-1 (DenseNet121).
    # Measured worst across frameworks: VGG16 4.2e-6, ResNet50 3.2e-2, DenseNet121 1.5e-1, each at the
    # level of that float64 floor. A wrong layout gives ~1.
    "gradients": 0.2,
    # ONNX Runtime against torch or Keras, eval mode. Measured worst: VGG16 1.4e-6, ResNet50 1.8e-6,
    # DenseNet121 1.1e-6.
    "onnxruntime": 1e-5,
}
# A fixed device tolerance's factor in training mode, where BatchNorm divides by the batch's standard deviation and
# so amplifies rounding in near-constant channels: the factor between the measured training and eval tolerances.
TRAIN_AMPLIFICATION = DEFAULTS["logits_train"] / DEFAULTS["logits_eval"]


def parse(text: str, option: str = OPTION) -> dict[str, float]:
    """`name=value[,name=value]` -> {name: value}; an empty text overrides nothing."""
    found = {}
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep:
            raise InputError(f"{option}: {item!r} is not name=value, e.g. logits_eval=1e-4")
        if name not in DEFAULTS:
            raise InputError(f"{option}: unknown tolerance {name!r} (known: {', '.join(DEFAULTS)})")
        try:
            number = float(value)
        except ValueError:
            raise InputError(f"{option}: {name}={value.strip()!r} is not a number") from None
        if not 0 < number < float("inf"):
            raise InputError(f"{option}: {name}={value.strip()} must be a positive, finite number")
        found[name] = number
    return found


def tolerance(name: str, per_test: dict[str, float], per_run: dict[str, float]) -> float:
    return per_run.get(name, per_test.get(name, DEFAULTS[name]))


# --- the layer suite (cwtest.registries.layers) ----------------------------------------------------------------

# Tolerances, in units of fp32 epsilon times the compared values' scale (layer_parity.compare).
# Measured as the worst harmonized case over 150 random examples per entry (torch 2.14.1,
# TensorFlow 2.21, CPU; re-measure with `pytest suites/layers --hypothesis-profile=thorough
# --crossedwires-report=r.csv`, column error_eps_units), then at least doubled. Planted bugs
# and catalogued differences measure 1e4 to 1e7 units.
# Forward: worst 19.0 (cross_entropy_softmax, a loss near zero from a cancelling log-softmax, before the
# losses were measured against their logits; a later draw reached 142.8, see cross_entropy_logits).
FORWARD_EPS_UNITS = 64.0
GRADIENT_EPS_UNITS = 32.0  # worst 8.9 (batchnorm_eval, d weight)


@dataclass(frozen=True)
class Tolerance:
    forward: float = FORWARD_EPS_UNITS
    gradients: float = GRADIENT_EPS_UNITS


# v1's conv biases sit before training-mode BatchNorms, which subtract them again: with
# inputs at scale 0.1 a bias is 10-100x the spread it is subtracted from, and round-off
# grows by that ratio. Measured worst: forward 118.7, gradients 430.8 units (a later thorough
# run: 756.3, against the largest gradient).
RESNET_V1_BLOCK = Tolerance(forward=256.0, gradients=1024.0)
# Input gradients of training-mode BatchNorm over 8 values per channel (after stride 2)
# cancel in the same way. Measured worst: gradients 43.8 units (a later thorough run: 98.0,
# against the largest gradient).
RESNET_V1_5_BLOCK = Tolerance(gradients=128.0)


# --- the optimizer cases (cwtest.registries.optimizers) ------------------------------------------------------

# Per step, in fp32-eps units of the largest parameter or step along the way (path_scale).
# The gap grows linearly: with weight decay torch multiplies by fl(1 - lr*wd) while Keras
# subtracts lr*wd*theta, about one ulp of theta apart at every step, always the same way.
# Measured over 150 examples per entry (up to 30 steps): at most 0.83 units per step (Adam,
# wd 0.01, 26 steps: 21.6 units); limit about twice that. adam_small_weights, harmonized: at most
# 0.99 units per step over 150 examples (its published adam_bias_correction: 3.8 to 40 per step).
OPTIMIZER_EPS_UNITS_PER_STEP = 2.0
# Muon's, harmonized (both orthogonalizing in float32): its Newton-Schulz iteration, a quintic of slope a = 3.4445 at
# zero, amplifies a rounding along a small singular value of the update up to a^5 = 487 times in its 5 steps, and
# torch computes it with fused addmm where Keras rounds each product and sum. Measured over 300 thorough examples
# per run, two runs on each of five pairs (torch against Keras on TensorFlow, JAX and torch, two Keras backends):
# at most 48.9 units per step (a 2 x 2 matrix, one step), the other runs' worst 1.9 to 8.8; limit about twice that.
# Its published cases measure 6.2e3 (torch's bfloat16) to 1.6e6 units per step.
MUON_EPS_UNITS_PER_STEP = 100.0


# --- the trial suite's step-level parity (cwtest.training.protocol.step_parity) ------------------------------

# Step-level parity: the two sides' per-step losses may differ by at most STEP_PARITY_MARGIN
# times what the same framework differs from itself when its initial weights move by one ulp
# (the round-off noise floor of that training trajectory, a running maximum over the steps),
# and never need to agree better than STEP_LOSS_FLOOR.
# Measured on smoke budgets (CPU, synthetic data, first built-in trial, harmonized):
#   VGG16: torch vs Keras <= 2.5e-6 over 20 steps, torch vs nudged torch <= 4.1e-7;
#   DenseNet121: torch vs Keras 6.2e-7 at step 1 growing to 8.6e-2, torch vs nudged torch 8.2e-7
#   to 6.1e-2 (BatchNorm over 1x1 maps with a batch of 25 amplifies round-off ~10x per step),
#   torch vs Keras / torch vs nudged torch <= 1.6 at every step.
# A remaining semantic difference shows far above both: VGG16 without the adam_epsilon knob
# 2.8e-3 at step 2, without the dropout knob 1.5e-3 at step 1.
STEP_PARITY_MARGIN = 10.0
# A mean cross-entropy near 2.3 has an fp32 ulp of 2.4e-7; two correct implementations
# summing in different orders differ by ~10 ulps (measured 2.5e-6).
STEP_LOSS_FLOOR = 1e-5
# Step-level parity judges a step only while its allowance is below this (relative) difference:
# once the allowance reaches 100% of the loss, the same framework's trajectories have
# decorrelated from themselves, and two losses are two draws from the training's spread, which
# no ratio of them can tell from a semantic difference. Measured (smoke budget, synthetic data,
# ResNet50 paper_table5_top1, lr 0.056, batch 25, one thread per process): torch against
# nudged torch 0.043 at step 2, 0.2 at step 9, 6.4 at step 18; torch against Keras 0.047 at step 2,
# within the margin until step 10, then 2.6 at step 11: less than torch differs from itself later.
STEP_PARITY_DECORRELATED = 1.0

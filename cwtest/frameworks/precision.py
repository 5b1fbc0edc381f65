"""Precision modes of a side: what each switches on in torch and TensorFlow, what is read back
as in force while a side computes, and the tolerance that goes with each mode.

Modes: `fp32` is strict (TF32 off in every framework: TensorFlow turns it on by default, torch
for cuDNN convolutions, JAX for matmuls and convolutions on a GPU (its "default" precision)), `tf32`
turns TF32 on, `bf16` and `fp16` run torch under autocast. A Keras side runs in its Keras backend's
mode: TensorFlow's, JAX's (jax.default_matmul_precision) or torch's flags.
TF32 only exists on CUDA devices: a CPU side in `tf32` reads back as `fp32`, which the report shows.

Tolerance rule. Per-element rtol/atol are torch.testing's for the format (tf32 has fp16's 10-bit
mantissa, so fp16's 1e-3); a network's logits on two devices may then differ by

    max |a - b| <= atol + GROWTH * rtol * max |reference|

The error is taken against the largest logit, not element by element: logits near zero carry the
rounding of the whole network, not of their own size. GROWTH is the rounding a deep network
accumulates over its layers, in units of the format's rtol; the reference figures (H200, torch 2.11,
batch 256, CPU fp32 reference; tests/test_precision.py) measure 0.5 to 4.1 units in every mode, for
VGG16, ResNet50 and DenseNet121 alike, while one mode's units are 16 to 770 times the next one's.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np

from cwtest.frameworks import imports
from cwtest.frameworks import observed
from cwtest.frameworks.determinism import jax_state, tensorflow_state, torch_state
from cwtest.frameworks.sides import Side


@dataclass(frozen=True)
class Mode:
    name: str
    rtol: float
    atol: float
    unit: float  # unit roundoff of the format the mode multiplies in


MODES = {m.name: m for m in (
    Mode("fp32", 1.3e-6, 1e-5, 2.0 ** -24),
    Mode("tf32", 1e-3, 1e-5, 2.0 ** -11),
    Mode("bf16", 1.6e-2, 1e-5, 2.0 ** -8),
    Mode("fp16", 1e-3, 1e-5, 2.0 ** -11),
)}
GROWTH = 5.0


def looser(*sides: Side) -> Mode:
    """The mode of the least precise side: the one that sets a comparison's tolerance."""
    return max((MODES[s.precision] for s in sides), key=lambda m: m.unit)


def allowed(mode: Mode, scale: float) -> float:
    """The largest absolute error the mode allows on outputs whose reference's largest magnitude is `scale`."""
    return mode.atol + GROWTH * mode.rtol * scale


def allowed_relative(mode: Mode) -> float:
    """`allowed` as a share of the reference's largest magnitude, without the absolute floor: what one layer's
    outputs are held to when a failure is located layer by layer (an error that grows through the network stays
    under its logits' bound at every layer before the one that breaks it)."""
    return GROWTH * mode.rtol


def _kind(side: Side) -> str:
    return side.device.partition(":")[0]


def torch_in_force(kind: str) -> str:
    """The precision torch computes in on a device type ("cpu", "cuda") now."""
    import torch

    if torch.is_autocast_enabled(kind):
        return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(torch.get_autocast_dtype(kind), "autocast")
    if kind != "cuda":
        return "fp32"
    matmul, conv = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    if matmul and conv:
        return "tf32"
    return "tf32 (matmul only)" if matmul else "tf32 (conv only)" if conv else "fp32"


@contextmanager
def torch_mode(side: Side):
    """Run torch computations of `side` in its mode; the flags are put back afterwards."""
    import torch

    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = side.precision == "tf32"
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(side.precision)
    try:
        with torch.autocast(_kind(side), dtype=dtype, enabled=dtype is not None):
            observed.record(side, torch_in_force(_kind(side)), torch_state())
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def tensorflow_in_force(kind: str) -> str:
    tf, keras = imports.tensorflow(), imports.keras()
    compute = keras.mixed_precision.global_policy().compute_dtype
    if compute != "float32":
        return {"bfloat16": "bf16", "float16": "fp16"}.get(compute, compute)
    return "tf32" if kind != "cpu" and tf.config.experimental.tensor_float_32_execution_enabled() else "fp32"


@contextmanager
def tensorflow_mode(side: Side):
    """Run TensorFlow computations of `side` with TF32 on only in tf32 mode; put back afterwards."""
    tf = imports.tensorflow()
    saved = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(side.precision == "tf32")
    try:
        observed.record(side, tensorflow_in_force(_kind(side)), tensorflow_state())
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(saved)


@contextmanager
def jax_mode(side: Side):
    """Run JAX computations of `side` at the matmul precision of its mode: "float32" is fp32 on a GPU (the name
    every JAX the extras admit takes: 0.4.30 rejects "highest", its later alias)."""
    import jax

    with jax.default_matmul_precision("tensorfloat32" if side.precision == "tf32" else "float32"):
        in_force = "tf32" if side.precision == "tf32" and _kind(side) != "cpu" else "fp32"
        observed.record(side, in_force, jax_state())
        yield


def keras_mode(side: Side):
    """The mode of a Keras side, set in its Keras backend."""
    if side.keras_backend == "torch":  # Keras says "gpu" where torch's flags and autocast say "cuda"
        return torch_mode(replace(side, device=side.device.replace("gpu", "cuda")))
    return {"tensorflow": tensorflow_mode, "jax": jax_mode}[side.keras_backend](side)


def unit_ratio(mode: Mode) -> float:
    """How many times fp32's rounding the mode's is: it scales an error measured in fp32."""
    return mode.unit / MODES["fp32"].unit


# A gradient's rounding error in a mode, against its fp32 one (torch fp32 against float64, the "floor":
# it measures how much the network amplifies rounding) scaled by the unit ratio, may reach the mode's
# margin. Measured with scripts/gradient_rounding.py (16 images, random init, 3 batches; worst ratio per
# model VGG16 / ResNet50 / DenseNet121), margins about twice the worst:
#   bf16, CPU autocast: 7.3 / 0.29 / 2.6; H200: 7.1 / 0.42 / 4.2;
#   tf32, H200: 21.9 / 1.2 / 7.6 (VGG16's classifier.3.bias: TF32 rounds the operands of its 4096 x 10
#   backward matmul, an error fp32-against-float64 does not contain);
#   fp32, H200 against the CPU: 3.0 / 0.9 / 6.0 where no ReLU changed sides between the two devices
#   (one batch of three in ResNet50 and in DenseNet121 reached 159 and 2848: an activation at zero
#   within rounding turns its ReLU the other way, a step no rounding margin covers);
#   fp16: not measured; bf16's margin, as autocast rounds the same operands.
FLOOR_MARGIN = {"fp32": 16.0, "bf16": 16.0, "fp16": 16.0, "tf32": 44.0}

# The nudge term covers those steps. The source computes its gradients again with every operand (input
# images and parameters) moved by NUDGE_UNITS units of the mode's roundoff, up and down along one random
# pattern (cwtest.models.device_transfer.source_gradients); the larger relative L2 change per parameter is its
# "nudge spread". Where an activation sits within rounding of zero, the nudge takes it across as well, on
# that batch, and the spread holds the step. Measured with scripts/gradient_rounding.py on a 2-core x86 CPU
# (torch 2.14.1, the suite's default data, 6 batches of 16 per model, the first 3 being the test's), with
# a stand-in for another device's fp32: the same model with oneDNN off (other convolution kernels; its
# ReLU inputs move 2.5 to 4.6 times as far as fp32-against-float64 moves them). Worst error / allowance
# per batch, VGG16 / ResNet50 / DenseNet121:
#   rtol and floor terms alone: over 1 on 2 / 1 / 5 batches of 6, up to 1400 / 34 / 347 (the H200 finding);
#   with the nudge term: at most 0.50 / 0.23 / 0.49 on every batch. Where the old terms fail, error /
#   spread is at most 0.999 (VGG16's classifier.3.bias: the nudge took the very ReLU the target took, and
#   the two steps are the same): NUDGE_MARGIN is twice that.
#   A wrong kernel (the first convolution's weights off by 1e-3 relative, random signs) still fails on
#   every batch: 4.1-6.4 / 8.1-17 / 19-103 x the allowance.
#   The same computation twice (torch:cpu against torch:cpu): error 0.
# Nudge sizes tried (3 batches each, the first three on another draw of synthetic images): the inputs
# alone, 1 unit: error / spread up to 754 (DenseNet121) where the old terms fail; the inputs alone, 32
# units: up to 6.4e4 (VGG16): an input nudge fades with depth where rounding grows; inputs and parameters,
# 32 units: 345 (VGG16); 64 and 128 units: VGG16's first test batch still failed at 36 and 18 x (two
# patterns at 64: 36 x); 256 is the smallest size tried that covers every batch. The price:
# on batches without a step, a parameter's spread is 1.6 to 20 times its floor (median per batch), so
# the nudge term allows a quiet gradient up to 40 x its floor where the floor term allows 16 x.
# bf16 nudges by 1 unit, about the rounding autocast gives each operand. The CPU stand-in passes the old
# terms there (7.3 / 0.29 / 2.6 above: 0.48 / 0.02 / 0.18 of the allowance); with the nudge term the worst
# ratio is 0.37 / 0.02 / 0.18, the nudge widening only VGG16's classifier. tf32 and fp16: not measured;
# bf16's size, as they too round the operands of every product. fp32 CPU against CUDA is not measured with
# the nudge term (no GPU in that session): run scripts/gradient_rounding.py with torch:cuda on a GPU.
# The float64 reference does not take these steps at fp32's scale (its rounding is 2**-53 of the values),
# but the fp32 source does turn 0 to 28 ReLU inputs per batch the other way from it: a floor can then hold
# a step too, which only widens the floor term.
NUDGE_UNITS = {"fp32": 256.0, "bf16": 1.0, "fp16": 1.0, "tf32": 1.0}
NUDGE_MARGIN = 2.0


def nudge_pattern(shape: tuple, rng) -> np.ndarray:
    """The fixed random +-1 pattern a nudge moves each element of an array of `shape` by (a numpy Generator's)."""
    return rng.choice((-1.0, 1.0), size=shape)


def nudge_size(mode: Mode) -> float:
    """The relative size of the nudge of every operand that measures a source's own sensitivity in `mode`."""
    return NUDGE_UNITS[mode.name] * mode.unit


@dataclass(frozen=True)
class GradientAllowance:
    limit: float  # the largest relative L2 error allowed
    term: str  # the term that set it: "rtol", "floor" or "nudge"


def gradient_allowance(mode: Mode, floor: float, spread: float = 0.0) -> GradientAllowance:
    """The largest relative L2 error the mode allows on a gradient whose fp32 floor is `floor` and whose
    source moves by `spread` when its operands are nudged by nudge_size(mode) (cwtest.models.device_transfer), and
    the term that sets it: `rtol` (GROWTH x the mode's rtol), `floor` or `nudge`."""
    terms = {"rtol": GROWTH * mode.rtol, "floor": FLOOR_MARGIN[mode.name] * floor * unit_ratio(mode),
             "nudge": NUDGE_MARGIN * spread}
    term = max(terms, key=terms.__getitem__)
    return GradientAllowance(terms[term], term)

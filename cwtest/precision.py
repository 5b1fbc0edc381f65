"""Precision modes of a side: what each switches on in torch and TensorFlow, what is read back
as in force while a side computes, and the tolerance that goes with each mode.

Modes: `fp32` is strict (TF32 off in both frameworks: TensorFlow turns it on by default and torch
for cuDNN convolutions), `tf32` turns TF32 on, `bf16` and `fp16` run torch under autocast.
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
from dataclasses import dataclass

from cwtest import frameworks, observed
from cwtest.determinism import tensorflow_state, torch_state
from cwtest.sides import Side


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
    tf, keras = frameworks.tensorflow(), frameworks.keras()
    compute = keras.mixed_precision.global_policy().compute_dtype
    if compute != "float32":
        return {"bfloat16": "bf16", "float16": "fp16"}.get(compute, compute)
    return "tf32" if kind != "cpu" and tf.config.experimental.tensor_float_32_execution_enabled() else "fp32"


@contextmanager
def tensorflow_mode(side: Side):
    """Run TensorFlow computations of `side` with TF32 on only in tf32 mode; put back afterwards."""
    tf = frameworks.tensorflow()
    saved = tf.config.experimental.tensor_float_32_execution_enabled()
    tf.config.experimental.enable_tensor_float_32_execution(side.precision == "tf32")
    try:
        observed.record(side, tensorflow_in_force(_kind(side)), tensorflow_state())
        yield
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(saved)


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


def gradient_allowed(mode: Mode, floor: float) -> float:
    """The largest relative L2 error the mode allows on a gradient whose fp32 floor is `floor`."""
    return max(GROWTH * mode.rtol, FLOOR_MARGIN[mode.name] * floor * unit_ratio(mode))

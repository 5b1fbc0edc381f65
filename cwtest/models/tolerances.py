"""Named fp32 tolerances of the transfer suite, and how a run or a test overrides them.

Output tolerances bound a `max rel` error (cwtest.metrics: the largest absolute error over
the reference's largest magnitude); localization uses the tolerance of the check that
failed. Defaults hold with margin the measurements below (CPU, torch 2.14.1 / TensorFlow
2.21 / onnxruntime 1.32, 16 CIFAR-10 test images and 16 uniform random images, both
flavours, both directions, random initialization).

Precedence: default < `@pytest.mark.crossedwires_tolerance(name=value)` on a test <
`--crossedwires-tolerance name=value[,name=value]` (ini `crossedwires_tolerance`) for a run.
"""

from __future__ import annotations

from cwtest.errors import InputError

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

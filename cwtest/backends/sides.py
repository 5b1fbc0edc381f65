"""Sides of a comparison: `framework:device[:precision]`, two of them make a pair."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cwtest.errors import InputError

FRAMEWORKS = ("torch", "tensorflow", "onnxruntime")
# Each framework names its accelerator the way its users do: torch "cuda", TensorFlow "gpu".
DEVICES = {"torch": ("cpu", "cuda"), "tensorflow": ("cpu", "gpu"), "onnxruntime": ("cpu", "cuda")}
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
# bf16 and fp16 are torch autocast modes. Keras mixed precision is a build-time policy cwtest does not
# set, and cwtest runs ONNX graphs in float32: there they could only skip, so they are refused here.
FRAMEWORK_PRECISIONS = {"torch": PRECISIONS, "tensorflow": ("fp32", "tf32"), "onnxruntime": ("fp32", "tf32")}
DEFAULT_PAIR = "torch:cpu,tensorflow:cpu"

_SIDE = re.compile(r"^(?P<fw>[a-z]+):(?P<dev>[a-z]+)(?::(?P<idx>\d+))?(?::(?P<prec>[a-z0-9]+))?$")


@dataclass(frozen=True)
class Side:
    framework: str
    device: str  # "cpu", "cuda:0", "gpu:1", ...
    precision: str = "fp32"

    @property
    def accelerated(self) -> bool:
        return self.device != "cpu"

    def __str__(self) -> str:
        text = f"{self.framework}:{self.device}"
        return text if self.precision == "fp32" else f"{text}:{self.precision}"


def parse_side(text: str, option: str = "--crossedwires-pair") -> Side:
    match = _SIDE.match(text.strip())
    if not match:
        raise InputError(f"{option}: {text!r} is not framework:device[:precision], e.g. torch:cpu")
    framework, device = match["fw"], match["dev"]
    if framework not in FRAMEWORKS:
        raise InputError(f"{option}: unknown framework {framework!r} (known: {', '.join(FRAMEWORKS)})")
    if device not in DEVICES[framework]:
        known = ", ".join(DEVICES[framework])
        raise InputError(f"{option}: unknown device {device!r} for {framework} (known: {known})")
    if match["idx"] is not None:
        if device == "cpu":
            raise InputError(f"{option}: {text!r}: the cpu device takes no index")
        device = f"{device}:{match['idx']}"
    precision = match["prec"] or "fp32"
    if precision not in PRECISIONS:
        raise InputError(f"{option}: unknown precision {precision!r} (known: {', '.join(PRECISIONS)})")
    if precision not in FRAMEWORK_PRECISIONS[framework]:
        raise InputError(f"{option}: {text.strip()!r}: {precision} is a torch autocast mode; {framework} sides "
                         f"take {' or '.join(FRAMEWORK_PRECISIONS[framework])}")
    return Side(framework, device, precision)


@dataclass(frozen=True)
class Pair:
    left: Side
    right: Side

    def __str__(self) -> str:
        return f"{self.left}->{self.right}"

    @property
    def devices(self) -> str:
        return self.left.device if self.left.device == self.right.device else f"{self.left.device}/{self.right.device}"


def parse_pair(text: str, option: str = "--crossedwires-pair") -> Pair:
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise InputError(f"{option}: expected two sides separated by a comma, got {text!r}")
    left, right = (parse_side(p, option) for p in parts)
    if left == right:
        raise InputError(f"{option}: both sides are {left}; a pair compares two different sides")
    return Pair(left, right)

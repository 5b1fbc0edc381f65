"""Sides of a comparison: `framework:device[:precision]`, two of them make a pair.

A framework is torch, onnxruntime, or Keras on one of its three backends: `keras-tensorflow`
(also spelt `tensorflow`, its name in the CrossedWires dataset), `keras-jax` and `keras-torch`.
Names carry no brackets or other shell globs, so a pair needs no quoting in bash or zsh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cwtest.frameworks import plugins
from cwtest.frameworks.imports import chosen_keras_backend
from cwtest.core.errors import InputError

# The Keras sides and the Keras backend each runs on; "tensorflow" is Keras on TensorFlow.
KERAS_BACKENDS = {"tensorflow": "tensorflow", "keras-jax": "jax", "keras-torch": "torch"}
ALIASES = {"keras-tensorflow": "tensorflow"}
KERAS_SIDES = {backend: framework for framework, backend in KERAS_BACKENDS.items()}  # "jax" -> "keras-jax"
FRAMEWORKS = ("torch", *KERAS_BACKENDS, "onnxruntime")
# Each framework names its devices the way its users do: torch by its device types (c10's DeviceType, as
# torch.device spells them; a PrivateUse1 backend under the name it registers, "privateuseone" until then),
# Keras "gpu". ONNX Runtime by execution provider: any name, `openvino` for OpenVINOExecutionProvider,
# checked against the installed onnxruntime when a test runs (cwtest.adapters.onnxruntime.adapter).
TORCH_DEVICE_TYPES = ("cpu", "cuda", "xpu", "mps", "hpu", "mtia", "maia", "xla", "meta", "ipu", "ve", "lazy", "hip",
                      "vulkan", "privateuseone")
ANY = ()  # a framework whose device names its own backend checks
DEVICES = {"torch": TORCH_DEVICE_TYPES, "onnxruntime": ANY} | {k: ("cpu", "gpu") for k in KERAS_BACKENDS}
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
# bf16 and fp16 are torch autocast modes. Keras mixed precision is a build-time policy cwtest does not
# set, and cwtest runs ONNX graphs in float32: there they could only skip, so they are refused here.
FRAMEWORK_PRECISIONS = {"torch": PRECISIONS, "onnxruntime": ("fp32", "tf32")} | {
    k: ("fp32", "tf32") for k in KERAS_BACKENDS}
DEFAULT_PAIR = "torch:cpu,tensorflow:cpu"

_SIDE = re.compile(r"^(?P<fw>[a-z][a-z-]*):(?P<dev>[a-z]+)(?::(?P<idx>\d+))?(?::(?P<prec>[a-z0-9]+))?$")


@dataclass(frozen=True)
class Side:
    framework: str
    device: str  # "cpu", "cuda:0", "gpu:1", ...
    precision: str = "fp32"

    @property
    def keras_backend(self) -> str | None:
        """The Keras backend of a Keras side ("tensorflow", "jax", "torch"), None for other sides."""
        return KERAS_BACKENDS.get(self.framework)

    @property
    def api(self) -> str:
        """Whose model code the side runs: "torch" (torchvision), "keras" (keras.applications), "onnxruntime";
        a plugin's backend says (cwtest.frameworks.plugins)."""
        plugin = plugins.registered().get(self.framework)
        return plugin.API if plugin is not None else "keras" if self.keras_backend else self.framework

    @property
    def runs_keras_code(self) -> bool:
        """Whether the side runs Keras's model code (keras.applications): on a route with torch or ONNX Runtime, the
        side measured against the other."""
        return self.api == "keras"

    @property
    def runs_an_export(self) -> bool:
        """Whether the side runs a graph exported from torch's model code (ONNX Runtime), not a model of its own."""
        return self.api == "onnxruntime"

    @property
    def accelerated(self) -> bool:
        return self.device != "cpu"

    def __str__(self) -> str:
        text = f"{self.framework}:{self.device}"
        return text if self.precision == "fp32" else f"{text}:{self.precision}"


TORCH_CPU = Side("torch", "cpu")


def keras_last(route: tuple[Side, Side]) -> tuple[Side, Side]:
    """A route's two sides, a Keras side last: the reference first, the side measured against it second."""
    return tuple(sorted(route, key=lambda side: side.runs_keras_code))


def keras_in_process(device: str = "cpu") -> Side:
    """The run's first Keras side: Keras on the backend this process runs Keras on, or would (importing nothing);
    served by its child process outside cwtest.frameworks.keras_in_this_process."""
    return Side(KERAS_SIDES[chosen_keras_backend()], device)


def parse_side(text: str, option: str = "--crossedwires-pair") -> Side:
    match = _SIDE.match(text.strip())
    if not match:
        raise InputError(f"{option}: {text!r} is not framework:device[:precision], e.g. torch:cpu")
    framework, device = ALIASES.get(match["fw"], match["fw"]), match["dev"]
    frameworks, devices, precisions = _known()
    if framework not in frameworks:
        raise InputError(f"{option}: unknown framework {framework!r} (known: {', '.join(frameworks)})")
    if devices[framework] is not ANY and device not in devices[framework]:
        known = ", ".join(devices[framework])
        raise InputError(f"{option}: unknown device {device!r} for {framework} (known: {known})")
    if match["idx"] is not None:
        if device == "cpu":
            raise InputError(f"{option}: {text!r}: the cpu device takes no index")
        device = f"{device}:{match['idx']}"
    precision = match["prec"] or "fp32"
    if precision not in PRECISIONS:
        raise InputError(f"{option}: unknown precision {precision!r} (known: {', '.join(PRECISIONS)})")
    if precision not in precisions[framework]:
        raise InputError(f"{option}: {text.strip()!r}: {precision} is a torch autocast mode; {framework} sides "
                         f"take {' or '.join(precisions[framework])}")
    return Side(framework, device, precision)


def _known() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The frameworks, their devices and precisions: cwtest's own and the installed plugins'."""
    added = plugins.registered()
    return ((*FRAMEWORKS, *added), DEVICES | {name: getattr(m, "DEVICES", ANY) for name, m in added.items()},
            FRAMEWORK_PRECISIONS | {name: getattr(m, "PRECISIONS", ("fp32",)) for name, m in added.items()})


@dataclass(frozen=True)
class Pair:
    left: Side
    right: Side

    def __str__(self) -> str:
        return f"{self.left}->{self.right}"

    @property
    def keras_backends(self) -> tuple[str, ...]:
        """The Keras backends the pair's Keras sides run on, left side's first, each once."""
        return tuple(dict.fromkeys(s.keras_backend for s in (self.left, self.right) if s.keras_backend))

    @property
    def devices(self) -> str:
        return self.left.device if self.left.device == self.right.device else f"{self.left.device}/{self.right.device}"

    @property
    def one_model_code(self) -> bool:
        """Both sides run the same model code (two devices, precisions or Keras backends): one weight list."""
        return self.left.api == self.right.api

    @property
    def torch_and_keras(self) -> bool:
        """One side runs torch's model code, the other Keras's: weights move through the weight map."""
        return {self.left.api, self.right.api} == {"torch", "keras"}

    def torch_first(self, items: tuple | list) -> tuple | list:
        """The left and right side's items of a torch/Keras pair, the torch side's first."""
        return items if self.left.api == "torch" else items[::-1]

    @property
    def keras_then_torch(self) -> bool:
        return self.left.api == "keras" and self.right.api == "torch"

    @property
    def crossedwires_columns(self) -> tuple[str, str] | None:
        """("left", "right") or ("right", "left"): which side is the CrossedWires dataset's PyTorch (pt) and
        which its TensorFlow (tf) model; None for a pair that is not torch against Keras on TensorFlow."""
        frameworks = (self.left.framework, self.right.framework)
        if sorted(frameworks) != ["tensorflow", "torch"]:
            return None
        return ("left", "right") if frameworks[0] == "torch" else ("right", "left")


def decomposition_sides(pair: Pair) -> tuple[Side, Side, Side] | None:
    """(torch, Keras on torch, the pair's Keras side) for a pair of a torch side and a Keras side on
    another Keras backend, on the torch side's device and precision (fp32 or tf32); None for any other pair."""
    torch_side = next((s for s in (pair.left, pair.right) if s.framework == "torch"), None)
    keras_side = next((s for s in (pair.left, pair.right) if s.keras_backend not in (None, "torch")), None)
    if torch_side is None or keras_side is None or torch_side.precision not in FRAMEWORK_PRECISIONS["keras-torch"]:
        return None
    return torch_side, Side("keras-torch", torch_side.device.replace("cuda", "gpu"), torch_side.precision), keras_side


def reported_pair(text: str) -> Pair:
    """A pair as a report writes it (`str(Pair)`: `torch:cpu->tensorflow:cpu`)."""
    left, _, right = text.partition("->")
    return Pair(parse_side(left, "report pair"), parse_side(right, "report pair"))


def parse_pair(text: str, option: str = "--crossedwires-pair") -> Pair:
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise InputError(f"{option}: expected two sides separated by a comma, got {text!r}")
    left, right = (parse_side(p, option) for p in parts)
    if left == right:
        raise InputError(f"{option}: both sides are {left}; a pair compares two different sides")
    return Pair(left, right)

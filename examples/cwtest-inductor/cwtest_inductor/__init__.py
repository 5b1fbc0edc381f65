"""torch.compile's inductor backend as a cwtest side, the way a compiler vendor plugs in.

The side `torch-inductor:DEVICE` runs torchvision's models, and the layer suite's torch modules, as
`torch.compile(backend="inductor")` compiles them; everything else (weights, layers, gradients,
training) is cwtest's torch backend's. With `--crossedwires-pair torch:cpu,torch-inductor:cpu` the
transfer suite's device tests and the layer suite's blocks compare eager torch with inductor's
generated kernels on the same weights and inputs.

`Module.compile` compiles in place: parameter names, the state dict and hooks stay the module's own,
so the weight copies and per-layer reads of the suites work unchanged.
"""

from __future__ import annotations

from cwtest.backends import torch_backend
from cwtest.backends.sides import TORCH_DEVICE_TYPES, Side
from cwtest.backends.torch_backend import (  # noqa: F401  (the protocol's functions, as torch runs them)
    activations,
    comparable,
    deterministic,
    forward,
    gradients,
    layer_outputs,
    layer_weights,
    layers,
    precision,
    projection_gradients,
    run,
    set_layer_weights,
    set_weights,
    weights,
)

API = "torch"  # torchvision's models: the weights copy from a torch side as they are
DEVICES = TORCH_DEVICE_TYPES
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
BACKEND = "inductor"


def prepare(module, side: Side):
    """The module compiled in place by inductor (a module compiled once is left as it is)."""
    if getattr(module, "_compiled_call_impl", None) is None:
        module.compile(backend=BACKEND)
    return module


def available(side: Side) -> str | None:
    import importlib.util
    import shutil

    if side.device.partition(":")[0] == "cpu" and shutil.which("c++") is None and shutil.which("g++") is None:
        return f"{side}: inductor compiles C++ for the CPU and this machine has no C++ compiler (c++ or g++)"
    if side.device != "cpu" and importlib.util.find_spec("triton") is None:
        return f"{side}: inductor generates Triton kernels for {side.device} and Triton is not installed"
    return torch_backend.available(Side("torch", side.device, side.precision))


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    return prepare(torch_backend.build(arch, side, seed, flavour), side)


def versions(side: Side) -> dict[str, str]:
    from importlib import metadata

    return {**torch_backend.versions(side), "cwtest-inductor": metadata.version("cwtest-inductor")}

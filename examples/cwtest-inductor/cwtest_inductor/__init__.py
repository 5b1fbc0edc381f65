"""torch.compile's inductor backend as a cwtest side, the way a compiler vendor plugs in.

The side `torch-inductor:DEVICE` runs torchvision's models, and the layer suite's torch modules, as
`torch.compile(backend="inductor")` compiles them. This adapter implements the roles a compiler has
(cwtest.frameworks.roles): `Runner` (build and run a model), `Weights` (so that a torch side's weights are copied
onto the compiled model) and `Gradients`; and `prepare`, which the layer suite calls on every torch module it
runs. It offers no layers, training or checkpoints: the suites that need those skip this side, naming the role.

With `--crossedwires-pair torch:cpu,torch-inductor:cpu` the transfer suite's device tests and the layer suite's
blocks compare eager torch with inductor's generated kernels on the same weights and inputs. `Module.compile`
compiles in place: parameter names, the state dict and hooks stay the module's own.
"""

from __future__ import annotations

from importlib import metadata

import numpy as np

from cwtest.core.overrides import overridden
from cwtest.frameworks import adapter_for
from cwtest.frameworks.precision import torch_mode
from cwtest.frameworks.sides import TORCH_DEVICE_TYPES, Side

API = "torch"  # torchvision's models: the weights copy from a torch side as they are
DEVICES = TORCH_DEVICE_TYPES
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
BACKEND = "inductor"


def _eager(side: Side) -> Side:
    """The eager torch side on the same device and precision: the model this side compiles comes from it."""
    return Side("torch", side.device, side.precision)


# --- Runner ---

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
    return adapter_for("torch").available(_eager(side))


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    """cwtest's torch model of the architecture (its public dispatch builds it), compiled."""
    return prepare(adapter_for("torch").build(arch, _eager(side), seed, flavour), side)


def _images(images: np.ndarray, side: Side):
    """uint8 NHWC images as torchvision's models take them: float NCHW in [0, 1], on the side's device."""
    import torch

    return torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0).to(side.device)


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    import torch

    model.train(training)
    with torch.no_grad(), torch_mode(side):
        return model(_images(images, side)).float().cpu().numpy()  # autocast modes return half precision


def comparable(model):
    """Dropout off for the duration (a compiled module reads `p` when it runs: inductor guards on it)."""
    import torch

    return overridden([(m, "p", 0.0) for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)])


def precision(side: Side):
    return torch_mode(side)


def versions(side: Side) -> dict[str, str]:
    found = {}
    for name in ("torch", "torchvision", "cwtest-inductor"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = ""
    return found


# --- Weights ---
# A module compiled in place keeps its parameters and state dict: its weights are eager torch's, read and set by
# cwtest's torch adapter through the public dispatch.

def weights(model) -> list[np.ndarray]:
    return adapter_for("torch").weights(model)


def set_weights(model, arrays: list[np.ndarray]) -> None:
    adapter_for("torch").set_weights(model, arrays)


# --- Gradients ---

def gradients(model, images: np.ndarray, labels: np.ndarray, side: Side) -> dict[str, np.ndarray]:
    """Parameter name -> gradient of the mean cross-entropy of the logits, one training-mode pass through the
    compiled model (inductor compiles the backward too)."""
    import torch

    model.train(True)
    model.zero_grad(set_to_none=True)
    with torch_mode(side):
        logits = model(_images(images, side))
        torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels).long().to(side.device)).backward()
    found = {name: p.grad.cpu().numpy() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return found

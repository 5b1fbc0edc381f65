"""A planted accelerator for the project's own tests: a backend plugin written as the README tells a vendor to
write one (the roles Runner and Weights, torch's model code), whose kernels get one thing wrong: a 1x1
convolution of stride 2 reads the odd pixels instead of the even ones. Every other layer is torch's own.
Registered as the framework `oddpixel` by tests/test_device_localization.py (an entry point in a temporary
distribution, or `cwtest.frameworks.plugins.registered` for an in-process test)."""

from __future__ import annotations

import numpy as np

from cwtest.core.overrides import overridden
from cwtest.frameworks import adapter_for
from cwtest.frameworks.sides import Side

API = "torch"
DEVICES = ("cpu",)


def _odd_phase(conv):
    """The convolution's forward with the planted defect: the window starts one pixel late."""
    import torch.nn.functional as F

    return lambda x: F.conv2d(x[:, :, 1::2, 1::2], conv.weight, conv.bias, 1, 0, conv.dilation, conv.groups)


def defective(model) -> list:
    """The convolutions the defect hits, in the model's module order."""
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and tuple(m.kernel_size) == (1, 1)
            and tuple(m.stride) == (2, 2) and tuple(m.padding) == (0, 0)]


def available(side: Side) -> str | None:
    return adapter_for("torch").available(Side("torch", side.device))


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    return adapter_for("torch").build(arch, Side("torch", side.device), seed, flavour)


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    with overridden([(conv, "forward", _odd_phase(conv)) for conv in defective(model)]):
        return adapter_for("torch").forward(model, images, Side("torch", side.device), training)


def comparable(model):
    return adapter_for("torch").comparable(model)


def precision(side: Side):
    return adapter_for("torch").precision(Side("torch", side.device))


def versions(side: Side) -> dict[str, str]:
    return {"oddpixel": "0.1"}


def weights(model) -> list[np.ndarray]:
    return adapter_for("torch").weights(model)


def set_weights(model, arrays: list[np.ndarray]) -> None:
    adapter_for("torch").set_weights(model, arrays)

"""PyTorch side: torchvision models, NCHW float32 input scaled to [0, 1]."""

from __future__ import annotations

import numpy as np

from cwtest.backends.precision import torch_mode
from cwtest.backends.sides import Side
from cwtest.models.architectures import REGISTRY


def available(side: Side) -> str | None:
    """None when the side can run here, else why it cannot."""
    import torch

    if side.device.startswith("cuda") and not torch.cuda.is_available():
        return f"{side}: no CUDA device is visible to torch on this machine"
    return None


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    import torch

    torch.manual_seed(seed)
    return REGISTRY[arch].flavours[flavour].torch().to(side.device)


def _inputs(images: np.ndarray, side: Side):
    import torch

    return torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0).to(side.device)


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    import torch

    x = _inputs(images, side)
    model.train(training)
    with torch.no_grad(), torch_mode(side):
        return model(x).float().cpu().numpy()  # autocast modes return half-precision logits


def gradients(model, images: np.ndarray, labels: np.ndarray, side: Side,
              float64: bool = False) -> dict[str, np.ndarray]:
    """Parameter name -> gradient of the mean cross-entropy of the logits, one pass in training mode;
    `float64` computes it on a float64 copy of the model, as a reference for fp32 rounding."""
    return float_gradients(model, images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0, labels, side, float64)


def float_gradients(model, x: np.ndarray, labels: np.ndarray, side: Side,
                    float64: bool = False) -> dict[str, np.ndarray]:
    """`gradients` on float NCHW inputs (cwtest.models.device_transfer nudges them)."""
    import copy

    import torch

    inputs = torch.from_numpy(x).to(side.device)
    if float64:
        model, inputs = copy.deepcopy(model).double(), inputs.double()
    model.train(True)
    model.zero_grad(set_to_none=True)
    with torch_mode(side):  # backward too: its convolutions read the TF32 flags when they run
        torch.nn.functional.cross_entropy(model(inputs), torch.from_numpy(labels).long().to(side.device)).backward()
    found = {name: p.grad.cpu().numpy() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return found

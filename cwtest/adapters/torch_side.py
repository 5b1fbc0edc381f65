"""PyTorch side: torchvision models, NCHW float32 input scaled to [0, 1]."""

from __future__ import annotations

import numpy as np

from cwtest.architectures import REGISTRY
from cwtest.sides import Side


def available(side: Side) -> str | None:
    """None when the side can run here, else why it cannot."""
    import torch

    if side.device.startswith("cuda") and not torch.cuda.is_available():
        return f"{side}: no CUDA device is visible to torch on this machine"
    return None


def build(arch: str, side: Side, seed: int = 0):
    import torch

    torch.manual_seed(seed)
    return REGISTRY[arch].torch_published().to(side.device)


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    import torch

    x = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0).to(side.device)
    model.train(training)
    with torch.no_grad():
        return model(x).cpu().numpy()

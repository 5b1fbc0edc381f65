"""The torch side of the converted transformer pairs (cwtest.registries.converted): a Hugging Face `transformers`
model built from a fixed seed and saved for Keras Hub's converter, and its sequence output with the gradient of a
projection of it. transformers is imported when a function is called."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cwtest.registries.converted import Converted


def saved(entry: Converted, folder: Path, seed: int = 0):
    """The entry's model from `seed`, in eval mode (no dropout), written to `folder` as Hugging Face writes it."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = getattr(transformers, entry.config_class)(**entry.config, attn_implementation="eager")
    model = getattr(transformers, entry.torch_class)(config).eval()
    model.save_pretrained(folder)
    return model


def run(entry: Converted, model, inputs: np.ndarray, mask: np.ndarray | None, cotangent: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray]:
    """(the sequence output, the gradient of sum(output * cotangent)): for the token embedding table, or for a model
    of images for its NHWC input (`inputs`: token ids with their padding `mask`, or NHWC images)."""
    import torch

    model.zero_grad(set_to_none=True)
    backbone = getattr(model, entry.base) if entry.base else model
    if entry.images:
        pixels = torch.tensor(inputs.transpose(0, 3, 1, 2), requires_grad=True)
        output = backbone(pixel_values=pixels).last_hidden_state
    else:
        named = {"input_ids": torch.tensor(inputs, dtype=torch.long), "attention_mask": torch.tensor(mask, dtype=torch.long)}
        if entry.segments:
            named["token_type_ids"] = torch.zeros_like(named["input_ids"])
        output = backbone(**named).last_hidden_state
    (output * torch.tensor(cotangent)).sum().backward()
    if entry.images:
        gradient = pixels.grad.numpy().transpose(0, 2, 3, 1).copy()
    else:
        gradient = model.get_parameter(entry.embedding[0]).grad.numpy().copy()
    model.zero_grad(set_to_none=True)
    return output.detach().numpy(), gradient

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


def run(entry: Converted, model, ids: np.ndarray, mask: np.ndarray, cotangent: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray]:
    """(the sequence output, the gradient of sum(output * cotangent) for the token embedding table)."""
    import torch

    model.zero_grad(set_to_none=True)
    inputs = {"input_ids": torch.tensor(ids, dtype=torch.long), "attention_mask": torch.tensor(mask, dtype=torch.long)}
    if entry.segments:
        inputs["token_type_ids"] = torch.zeros_like(inputs["input_ids"])
    output = model(**inputs).last_hidden_state
    (output * torch.tensor(cotangent)).sum().backward()
    gradient = model.get_parameter(entry.embedding[0]).grad.numpy().copy()
    model.zero_grad(set_to_none=True)
    return output.detach().numpy(), gradient

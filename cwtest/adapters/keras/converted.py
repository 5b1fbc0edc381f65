"""The Keras side of the converted transformer pairs (cwtest.registries.converted): the Keras Hub backbone its
converter reads from the torch side's save_pretrained folder, on this process's Keras backend, and its sequence
output with the gradient of a projection of it. keras_hub is imported when a function is called."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cwtest.adapters.keras.adapter import differentiate
from cwtest.frameworks import imports
from cwtest.registries.converted import Converted


def load(entry: Converted, folder: Path):
    imports.keras()  # Keras after torch, as every Keras import of cwtest
    import keras_hub

    return getattr(keras_hub.models, entry.keras_class).from_preset(str(folder))


class _ByName:
    """A backbone called with a list of arrays (cwtest.adapters.keras.adapter.differentiate's inputs), handed over
    as the dict of named inputs it takes; its output the sequence output."""

    def __init__(self, entry: Converted, backbone) -> None:
        self.entry, self.backbone = entry, backbone
        self.trainable_weights = backbone.trainable_weights
        self.non_trainable_weights = backbone.non_trainable_weights

    def __call__(self, xs, training: bool = False):
        if self.entry.images:  # one input: handed over bare
            return self.backbone(xs, training=training)
        names = ["token_ids", "padding_mask"] + (["segment_ids"] if self.entry.segments else [])
        output = self.backbone(dict(zip(names, xs)), training=training)
        return output[self.entry.keras_output] if self.entry.keras_output else output


def run(entry: Converted, backbone, inputs: np.ndarray, mask: np.ndarray | None, cotangent: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray]:
    """(the sequence output, the gradient of sum(output * cotangent)): for the token embedding table, or for a model
    of images for its input (`inputs`: token ids with their padding `mask`, or NHWC images)."""
    keras = imports.keras()
    model = _ByName(entry, backbone)
    if entry.images:
        xs = [inputs.astype(np.float32)]
    else:
        xs = [inputs.astype(np.int32), mask.astype(np.int32)] + ([np.zeros_like(inputs, np.int32)] if entry.segments
                                                                 else [])
    output = np.asarray(keras.ops.convert_to_numpy(keras.ops.stop_gradient(model(xs if len(xs) > 1 else xs[0]))))
    weighting = keras.ops.convert_to_tensor(cotangent)
    input_gradients, gradients = differentiate(model, xs, lambda out: keras.ops.sum(keras.ops.multiply(out, weighting)),
                                               training=False)
    return output, input_gradients[0] if entry.images else gradients[entry.embedding[1]]

"""The framework half of cwtest.published.fixture: a trial's torch state dict and tf.keras SavedModel, written
with the calls the published training scripts made (cross_framework_hpo/parameter_sweep.py), from known weights.

Known weights: each trial's Keras weights are drawn once for a channels-last Keras 3 twin, then moved onto the
channels-first tf.keras (Keras 2, the `tf_keras` package) model that is saved, so a correct reader gives back the
twin's logits. BatchNorm statistics are drawn away from their initial 0 and 1, so that a statistic left unread shows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cwtest.frameworks import imports
from cwtest.frameworks import adapter_for, keras_in_this_process
from cwtest.frameworks.sides import TORCH_CPU, keras_in_process
from cwtest.published.savedmodel import keras3_name
from cwtest.inputs.trials import Trial
from cwtest.core.layouts import channels_first_rows

APPLICATIONS = {"vgg16": "VGG16", "resnet50": "ResNet50", "densenet121": "DenseNet121"}


def _statistics(rng: np.random.Generator, arrays: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    """BatchNorm statistics and affine weights moved off their initial values, keeping activations tame."""
    moved = []
    for array, name in zip(arrays, names):
        if name in ("moving_mean", "beta"):
            array = rng.normal(0.0, 0.1, array.shape).astype(array.dtype)
        elif name in ("moving_variance", "gamma"):
            array = rng.uniform(0.5, 1.5, array.shape).astype(array.dtype)
        moved.append(array)
    return moved


def _keras_here():
    """The Keras adapter in this process: the writer handles the Keras models themselves."""
    with keras_in_this_process():
        return adapter_for(keras_in_process())


def keras_twin(arch: str, seed: int):
    """The channels-last Keras 3 model the trial's saved weights come from."""
    model = _keras_here().build(arch, keras_in_process(), seed)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(_statistics(rng, layer.get_weights(), [w.name.split("/")[-1] for w in layer.weights]))
    return model


def write_keras(arch: str, trial: Trial, twin, folder: Path) -> Path:
    """The trial's tf.keras (Keras 2) channels-first model with the twin's weights, saved as published."""
    imports.tensorflow()  # torch's stack first (cwtest.frameworks.imports)
    import tf_keras

    tf_keras.backend.set_image_data_format("channels_first")
    try:
        model = getattr(tf_keras.applications, APPLICATIONS[arch])(weights=None, input_shape=(3, 32, 32), classes=10)
        flattened = {layer.name: layer.flattened for layer in _keras_here().layers(twin).layers
                     if layer.flattened}
        for layer in model.layers:
            if not layer.weights:
                continue
            source = twin.get_layer(keras3_name(layer.name))
            arrays = source.get_weights()
            if source.name in flattened:
                arrays[0] = channels_first_rows(arrays[0], flattened[source.name])
            layer.set_weights(arrays)
        model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate=trial.learning_rate, epsilon=trial.adam_epsilon),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        path = folder / f"{trial.name}tf_model"
        model.save(str(path))
        return path
    finally:
        tf_keras.backend.set_image_data_format("channels_last")


def save_on_cuda(state: dict, path: Path) -> None:
    """torch.save, recording every storage's location as `cuda:0`, as a state dict saved on a GPU does.

    torch writes a location tag per storage, from the first registered tagger that answers; loading
    such a file without map_location on a machine without CUDA fails, which the reader must handle.
    The tagger stays registered for the rest of the process: this module runs as its own process.
    """
    import torch

    global _TAGGED
    if not _TAGGED:
        torch.serialization.register_package(-1, lambda storage: "cuda:0" if storage.device.type == "cpu" else None,
                                             lambda storage, location: None)
        _TAGGED = True
    torch.save(state, path)


_TAGGED = False


def write_torch(arch: str, trial: Trial, seed: int, folder: Path) -> Path:
    import torch

    model = adapter_for(TORCH_CPU).build(arch, TORCH_CPU, seed)
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0.0, 0.1, generator=generator)
            module.running_var.uniform_(0.5, 1.5, generator=generator)
    path = folder / f"{trial.name}.pt_model.pt"
    save_on_cuda(model.state_dict(), path)
    return path

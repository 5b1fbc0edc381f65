"""TensorFlow side: keras.applications models, NHWC float32 input scaled to [0, 1]."""

from __future__ import annotations

import numpy as np

from cwtest import frameworks
from cwtest.architectures import REGISTRY
from cwtest.sides import Side


def _tf_device(side: Side) -> str:
    kind, _, index = side.device.partition(":")
    return f"/{kind.upper()}:{index or 0}"


def available(side: Side) -> str | None:
    tf = frameworks.tensorflow()

    if side.device.startswith("gpu") and not tf.config.list_physical_devices("GPU"):
        return f"{side}: no GPU is visible to TensorFlow on this machine"
    return None


def build(arch: str, side: Side, seed: int = 0):
    keras, tf = frameworks.keras(), frameworks.tensorflow()

    keras.utils.set_random_seed(seed)
    with tf.device(_tf_device(side)):
        return REGISTRY[arch].keras_published()


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    tf = frameworks.tensorflow()

    with tf.device(_tf_device(side)):
        return np.asarray(model(images.astype(np.float32) / 255.0, training=training))

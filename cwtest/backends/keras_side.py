"""TensorFlow side: keras.applications models, NHWC float32 input scaled to [0, 1]."""

from __future__ import annotations

import importlib.util

import numpy as np

from cwtest.backends import frameworks
from cwtest.backends.precision import tensorflow_mode
from cwtest.backends.sides import Side
from cwtest.models.architectures import REGISTRY


def tf_device(side: Side) -> str:
    """The TensorFlow device string of a side: gpu:1 -> /GPU:1."""
    kind, _, index = side.device.partition(":")
    return f"/{kind.upper()}:{index or 0}"


def available(side: Side) -> str | None:
    if importlib.util.find_spec("tensorflow") is None:
        return f"{side}: TensorFlow is not installed here (pip install tensorflow, or name no tensorflow side)"
    if side.precision in ("bf16", "fp16"):
        return f"{side}: Keras mixed precision is a build-time policy cwtest does not set; use fp32 or tf32"
    tf = frameworks.tensorflow()

    if side.device.startswith("gpu") and not tf.config.list_physical_devices("GPU"):
        return f"{side}: no GPU is visible to TensorFlow on this machine"
    return None


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    keras, tf = frameworks.keras(), frameworks.tensorflow()

    keras.utils.set_random_seed(seed)
    with tf.device(tf_device(side)):
        return REGISTRY[arch].flavours[flavour].keras()


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    tf = frameworks.tensorflow()

    with tf.device(tf_device(side)), tensorflow_mode(side):
        outputs = model(images.astype(np.float32) / 255.0, training=training)
    # A model with several outputs (intermediate activations, say) gives one array each.
    return [np.asarray(o) for o in outputs] if isinstance(outputs, (list, tuple)) else np.asarray(outputs)


def gradients(model, images: np.ndarray, labels: np.ndarray, side: Side) -> dict[str, np.ndarray]:
    """Weight path -> gradient of the mean cross-entropy of the logits (the model must return logits),
    one pass in training mode: the same loss as the torch adapter's."""
    keras, tf = frameworks.keras(), frameworks.tensorflow()

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.device(tf_device(side)), tensorflow_mode(side):
        with tf.GradientTape() as tape:
            value = loss(labels, model(images.astype(np.float32) / 255.0, training=True))
        found = tape.gradient(value, model.trainable_weights)
    return {w.path: np.asarray(g) for w, g in zip(model.trainable_weights, found)}

"""The Keras (TensorFlow) backend: keras.applications models, NHWC float32 input scaled to [0, 1];
forward and gradients for the transfer suite, and for paired training a model built under the
knobs, trained with the same steps as `Model.fit` (training=True forward, gradient tape, Adam),
predicted, nudged, saved and loaded as a SavedModel.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from cwtest.backends import frameworks, overridden
from cwtest.backends.precision import tensorflow_mode
from cwtest.backends.sides import Side
from cwtest.models.architectures import REGISTRY
from cwtest.training.harmonize import keras_flavour
from cwtest.training.protocol import Plan, Progress, SideRun, batches, run_epochs


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
    one pass in training mode: the same loss as the torch backend's."""
    keras, tf = frameworks.keras(), frameworks.tensorflow()

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.device(tf_device(side)), tensorflow_mode(side):
        with tf.GradientTape() as tape:
            value = loss(labels, model(images.astype(np.float32) / 255.0, training=True))
        found = tape.gradient(value, model.trainable_weights)
    return {w.path: np.asarray(g) for w, g in zip(model.trainable_weights, found)}


def comparable(model):
    keras = frameworks.keras()
    changes = [(layer, "rate", 0.0) for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    head = model.layers[-1]
    if getattr(head, "activation", None) is keras.activations.softmax:
        changes.append((head, "activation", keras.activations.linear))
    return overridden(changes)


# --- training ----------------------------------------------------------------------------------------

EVAL_BATCH = 500
KERAS_BN_MOMENTUM = 0.99  # Keras's default, as in the published runs
TORCH_BN_MOMENTUM = 0.9  # torch's momentum=0.1 in Keras's convention


def build_trainable(arch: str, knobs: frozenset[str], side: Side, seed: int = 0):
    """The published Keras model, or its torch-structured twin with `architecture`; logits out with `loss`."""
    keras, tf = frameworks.keras(), frameworks.tensorflow()
    keras.utils.set_random_seed(seed)
    flavour = REGISTRY[arch].flavours[keras_flavour(arch, knobs)]
    with tf.device(tf_device(side)):
        model = flavour.keras()
    head = model.layers[-1]
    # The head is one Dense layer; its activation decides whether the model returns logits.
    head.activation = keras.activations.linear if "loss" in knobs else keras.activations.softmax
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = TORCH_BN_MOMENTUM if "bn_momentum" in knobs else KERAS_BN_MOMENTUM
    return model


def nudge(model) -> None:
    """Move every weight by one ulp: the smallest change a training trajectory can feel."""
    model.set_weights([np.nextafter(w, np.inf).astype(w.dtype) for w in model.get_weights()])


def train(model, plan: Plan, x: np.ndarray, y: np.ndarray, knobs: frozenset[str], side: Side,
          progress: Progress) -> SideRun:
    keras, tf = frameworks.keras(), frameworks.tensorflow()
    if "deterministic" in knobs:
        tf.config.experimental.enable_op_determinism()
    optimizer = keras.optimizers.Adam(learning_rate=plan.learning_rate, epsilon=plan.adam_epsilon)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits="loss" in knobs)

    @tf.function
    def step(images, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(tf.cast(images, tf.float32) / 255.0, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    def run_step(start: int, stop: int, number: int) -> float:
        return float(step(x[start:stop], y[start:stop]))

    with tf.device(tf_device(side)), tensorflow_mode(side):
        return run_epochs(plan, len(y), run_step, str(side), progress)


def predict(model, x: np.ndarray, side: Side) -> np.ndarray:
    tf = frameworks.tensorflow()
    with tf.device(tf_device(side)), tensorflow_mode(side):
        return np.concatenate([np.asarray(_outputs(model, x[a:b].astype(np.float32) / 255.0)).argmax(1)
                               for a, b in batches(len(x), EVAL_BATCH)])


def _outputs(model, images):
    """A Keras model's inference outputs; a loaded SavedModel layer returns them by name."""
    keras = frameworks.keras()
    if isinstance(model, keras.layers.TFSMLayer):
        outputs = model(images)
        return next(iter(outputs.values())) if isinstance(outputs, dict) else outputs
    return model(images, training=False)


def save(model, folder: Path, trial: str) -> Path:
    """As the CrossedWires dataset stores it: `<trial>tf_model/`, a TensorFlow SavedModel."""
    path = folder / f"{trial}tf_model"
    model.export(str(path), format="tf_saved_model", verbose=False)
    return path


def load(arch: str, folder: Path, trial: str, side: Side):
    """The SavedModel's serving function as a layer: call it on [0, 1] NHWC float32 images.

    Runs no Python from the folder: a SavedModel holds TensorFlow graphs and variables, and
    TFSMLayer (tf.saved_model.load) restores those only, never Keras layer configs, whose Lambda
    layers carry Python code (keras.models.load_model, not used here, would read those). The graphs
    still run TensorFlow ops, file reads and writes among them: to TensorFlow a SavedModel is a
    program (its SECURITY.md), so load checkpoint folders you trust.
    """
    keras = frameworks.keras()
    return keras.layers.TFSMLayer(str(folder / f"{trial}tf_model"), call_endpoint="serve")

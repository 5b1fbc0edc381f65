"""The Keras side of a layer-suite case (cwtest.blocks.layer_parity), measured against torch's: the case's model
built from its registry entry with torch's weights set, run forward or differentiated against torch's cotangent;
an optimizer case's path (cwtest.blocks.optimizer_paths). `case_on_cpu` and `optimizer_on_cpu` take registry
names, for a second Keras backend's child process (cwtest.frameworks.child).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from cwtest.adapters.keras.adapter import differentiate, full_precision, on, traced
from cwtest.adapters.keras.blocks import BUILDERS, OPTIMIZERS
from cwtest.frameworks import imports
from cwtest.frameworks.sides import keras_in_process
from cwtest.registries.layer_strategies import dtype_of, inputs_for
from cwtest.registries.layers import REGISTRY as BLOCKS
from cwtest.registries.optimizers import REGISTRY, start

EAGER_STEPS = 100  # a trajectory longer than this steps Keras through one traced function


@contextmanager
def _dtype_policy(keras, name: str):
    """Layers made inside take the policy `name` (variables and computations in that type), as a layer built
    with `dtype=name` does: every layer of a block's builder, those it leaves at their defaults included."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def build(block, params: dict, kept: frozenset):
    """The case's Keras model (the registry entry's builder) in the case's dtype, its weights to be set from
    torch's."""
    keras = imports.keras()
    with _dtype_policy(keras, dtype_of(params)):
        return BUILDERS[block.builds](keras, params, kept)


def layer_weights(model, name: str) -> list[np.ndarray]:
    return [full_precision(w) for w in model.get_layer(name).weights]


def set_layer_weights(model, name: str, arrays: list[np.ndarray]) -> None:
    model.get_layer(name).set_weights(arrays)


def is_depthwise(model, name: str) -> bool:
    return isinstance(model.get_layer(name), imports.keras().layers.DepthwiseConv2D)


def forward(model, xs: list[np.ndarray], training: bool) -> np.ndarray:
    # Tensors, not arrays: a Keras layer given an array converts it through checks that cost more than
    # the conversion itself.
    keras_in = [imports.keras().ops.convert_to_tensor(x) for x in xs]
    return full_precision(model(keras_in if len(keras_in) > 1 else keras_in[0], training=training))


def gradients(model, names: list[str], xs: list[np.ndarray], cotangent: np.ndarray, training: bool
              ) -> tuple[list[np.ndarray], dict[str, list[np.ndarray]]]:
    """Gradients of sum(output * cotangent): per input, and per named layer its trainable weights' in order."""
    keras = imports.keras()
    weighting = keras.ops.convert_to_tensor(cotangent)  # a tensor: torch's `tensor * array` goes through numpy
    # keras.ops.multiply, not `*`: it promotes a half output against the float32 weighting (TensorFlow's `*` refuses).
    input_grads, weight_grads = differentiate(model, xs, lambda out: keras.ops.sum(keras.ops.multiply(out, weighting)),
                                              training)
    return input_grads, {name: [weight_grads[w.path] for w in model.get_layer(name).trainable_weights]
                         for name in names}


def case_on_cpu(block_name: str, params: dict, weights: dict[str, list[np.ndarray]], check: str,
                cotangent: np.ndarray | None, kept: list[str] = ()):
    """A layer-suite case (harmonized, or with the `kept` differences left in) on this process's Keras
    backend, on the CPU in fp32, holding `weights`
    (per layer): forward, the output and each layer's weights after the call; gradients, as `gradients`.
    What a pair of two Keras backends runs in its second backend's process (cwtest.frameworks.child)."""
    block = BLOCKS[block_name]
    training = params.get("training", block.training)
    with on(keras_in_process()):
        model = build(block, params, frozenset(kept))
        for name, arrays in weights.items():
            set_layer_weights(model, name, arrays)
        xs = inputs_for(params)
        if check == "gradients":
            return gradients(model, list(weights), xs, cotangent, training)
        return forward(model, xs, training), {name: layer_weights(model, name) for name in weights}


# --- optimizers (cwtest.registries.optimizers) ---------------------------------------------------------

def optimizer_path(entry, theta: np.ndarray, gradients: np.ndarray, params: dict, kept: frozenset,
                   checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """The parameters after each checkpoint step of the registry entry's optimizer, fed `gradients` in turn."""
    keras = imports.keras()
    variable = keras.Variable(theta)
    optimizer = OPTIMIZERS[entry.builds](keras, params, kept)
    optimizer.build([variable])

    def step(gradient):
        optimizer.apply_gradients([(gradient, variable)])

    if len(gradients) > EAGER_STEPS:
        # The same ops traced once: an eager Keras step on TensorFlow costs about 4 ms of Python, most of
        # a long trajectory's time (the Adam demonstration's 1000 steps), where tracing costs about 0.1 s.
        # The demonstration's parameters came out bit for bit as eagerly, at every checkpoint.
        step = traced(step)
    found = []
    for t, gradient in enumerate(gradients, start=1):
        step(keras.ops.convert_to_tensor(gradient))
        if t in checkpoints:
            found.append(np.array(variable.numpy()))
    return found


def optimizer_on_cpu(optimizer_name: str, params: dict, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """A harmonized optimizer case's path on this process's Keras backend, on the CPU (`optimizer_path`):
    what a pair of two Keras backends runs in its second backend's process (cwtest.frameworks.child)."""
    theta, gradients = start(params, max(checkpoints))
    with on(keras_in_process()):
        return optimizer_path(REGISTRY[optimizer_name], theta, gradients, params, frozenset(), checkpoints)

"""The Keras adapter, on any of Keras 3's own backends (TensorFlow, JAX, torch): keras.applications
models, NHWC float32 input scaled to [0, 1]; forward and gradients for the transfer and layer suites,
and for paired training a model built under the knobs, trained by Keras's own train step (the one
`Model.fit` runs, through `train_on_batch`), predicted, nudged, saved and loaded.

Keras runs on one backend per process (cwtest.frameworks.imports.keras): a side names it, and
`available` says so where this process runs Keras on another.
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np

from cwtest.core.overrides import overridden
from cwtest.frameworks import imports
from cwtest.frameworks.determinism import switch_on
from cwtest.frameworks.precision import keras_mode
from cwtest.frameworks.sides import Side
from cwtest.core.errors import InputError
from cwtest.registries.architectures import REGISTRY
from cwtest.core.records import Layer, Read, SavedKerasModel
from cwtest.registries import knobs as knobs_
from cwtest.adapters.keras.models import BUILDERS
from cwtest.core.training_loop import Plan, Progress, SideRun, batches, run_epochs


def available(side: Side) -> str | None:
    backend = side.keras_backend
    if importlib.util.find_spec(backend) is None:  # each Keras backend is the package of its name
        return f"{side}: {backend} is not installed here (pip install {backend})"
    if importlib.util.find_spec("keras") is None:
        return f"{side}: Keras is not installed here (pip install keras)"
    in_use = imports.keras_backend_in_use()
    if in_use is not None and in_use != backend:
        return (f"{side}: Keras runs on {in_use} in this process and picks its backend once; "
                f"name {side} in --crossedwires-pair to run it")
    if side.accelerated:
        keras = imports.keras(backend)
        if not keras.distribution.list_devices("gpu"):
            return f"{side}: no GPU is visible to {backend} on this machine"
    return None


@contextmanager
def on(side: Side):
    """Computations of `side`: on its device, in its precision mode."""
    keras = imports.keras(side.keras_backend)
    kind, _, index = side.device.partition(":")
    # On torch "cpu", not "cpu:0": Keras 3.15 on torch moves each new variable's Parameter with .to(device), and
    # torch.device("cpu:0") is another device to a tensor on "cpu": the copy is no leaf, gets no gradient,
    # and fit raises "No gradients provided for any variable". Elsewhere "cpu:0": Keras 3.5 to 3.8 on JAX
    # splits the name at its colon and rejects a bare "cpu" ("not enough values to unpack").
    bare = kind == "cpu" and keras.backend.backend() == "torch"
    with keras.device(kind if bare else f"{kind}:{index or 0}"), keras_mode(side):
        yield keras


def traced(step: Callable) -> Callable:
    """`step` as one traced graph where Keras runs on TensorFlow (whose eager ops cost milliseconds of
    Python each), as it is on the other backends (whose eager steps are what their users run)."""
    keras = imports.keras()
    return imports.tensorflow().function(step) if keras.backend.backend() == "tensorflow" else step


def build_model(key: str, image_size: int | None = None):
    """The architecture builder named `key` (cwtest.adapters.keras.models.BUILDERS), at `image_size` or its default."""
    return BUILDERS[key]() if image_size is None else BUILDERS[key](image_size)


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    with on(side) as keras:
        keras.utils.set_random_seed(seed)
        return build_model(REGISTRY[arch].flavours[flavour].keras)


def precision(side: Side):
    return keras_mode(side)


def versions(side: Side) -> dict[str, str]:
    return imports.framework_versions(("keras", side.keras_backend))


@contextmanager
def deterministic(side: Side, on: bool):
    """TensorFlow's op determinism, once on, stays on for the rest of the process (it has no switch back);
    JAX's is an XLA flag set before JAX starts (cwtest.frameworks.determinism.prepare_environment)."""
    if on:
        switch_on(side.keras_backend)
    yield


def weights(model) -> list[np.ndarray]:
    return model.get_weights()


def set_weights(model, arrays: list[np.ndarray]) -> None:
    model.set_weights(arrays)


def _inbound(layer):
    """The layer that feeds `layer` in a functional Keras model."""
    return layer.input._keras_history.operation


def _keras_padding(layer) -> tuple[int, ...]:
    """A convolution's zero padding, (before, after) per spatial axis: a ZeroPadding layer that feeds it folded in,
    then its own `same` (TensorFlow's rule: the odd pixel after) or `causal` (all before)."""
    spatial = len(layer.kernel_size)
    source = _inbound(layer)
    pad = ([int(n) for n in np.ravel(source.padding)] if type(source).__name__.startswith("ZeroPadding")
           else [0, 0] * spatial)
    channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    sizes = layer.input.shape[2:] if channels_first else layer.input.shape[1:-1]
    dilations = getattr(layer, "dilation_rate", (1,) * spatial)
    for axis, size in enumerate(sizes):
        stride, span = layer.strides[axis], dilations[axis] * (layer.kernel_size[axis] - 1) + 1
        if layer.padding == "same":
            total = max((-(-size // stride) - 1) * stride + span - size, 0)
            pad[2 * axis] += total // 2
            pad[2 * axis + 1] += total - total // 2
        elif layer.padding == "causal":
            pad[2 * axis] += span - 1
    return tuple(pad)


# Keras layer classes by the weight map's kind (cwtest.core.layouts); any other layer with weights is a kind of its
# own, its class name.
_KINDS = {"Conv1D": "conv", "Conv2D": "conv", "Conv3D": "conv", "DepthwiseConv2D": "conv",
          "Conv1DTranspose": "conv_transpose", "Conv2DTranspose": "conv_transpose", "Conv3DTranspose": "conv_transpose",
          "Dense": "dense", "BatchNormalization": "batchnorm", "LayerNormalization": "layernorm",
          "GroupNormalization": "groupnorm", "RMSNormalization": "rmsnorm", "Embedding": "embedding",
          "MultiHeadAttention": "attention"}


def _options(layer, kind: str) -> tuple[tuple[str, object], ...]:
    """What else decides the function (cwtest.core.records.Layer.options), as torch's adapter spells it."""
    found = []
    if kind in ("conv", "conv_transpose"):
        depthwise = type(layer).__name__ == "DepthwiseConv2D"
        groups = int(layer.input.shape[-1 if layer.data_format == "channels_last" else 1]) if depthwise \
            else getattr(layer, "groups", 1)
        found += [("groups", groups)] if groups > 1 else []
        found += [("dilation", tuple(layer.dilation_rate))] if max(layer.dilation_rate) > 1 else []
    elif kind == "groupnorm":
        found.append(("groups", layer.groups))
    elif kind == "attention":
        heads, size = layer.num_heads, layer.key_dim
        found += [("heads", heads), ("head_size", size)]
        # torch's heads are all one size: a value size of its own is a layout torch has no counterpart of
        found += [("value_size", layer.value_dim)] if (layer.value_dim or size) != size else []
    return tuple(found)


def layers(model, image_size: int | None = None, example: np.ndarray | None = None) -> Read:
    """The layers that hold weights, as the structure check compares them (cwtest.models.structure), and
    the image side of the model's input."""
    found = []
    for layer in model.layers:
        if not layer.weights:
            continue
        kind = _KINDS.get(type(layer).__name__, type(layer).__name__)
        flattened = None
        if kind == "dense" and type(_inbound(layer)).__name__ == "Flatten":
            flattened = tuple(_inbound(layer).input.shape[1:])
        convolution = kind in ("conv", "conv_transpose")
        found.append(Layer(
            layer.name, kind, tuple(layer.output.shape[1:]), int(sum(np.prod(w.shape) for w in layer.weights)),
            stride=tuple(layer.strides) if convolution else None,
            padding=_keras_padding(layer) if kind == "conv" else None,
            bias=layer.use_bias if kind in ("conv", "conv_transpose", "dense") else None,
            flattened=flattened, options=_options(layer, kind),
            layout="depthwise" if type(layer).__name__ == "DepthwiseConv2D" else None,
            handle=layer, gradient_keys=tuple(w.path for w in layer.trainable_weights)))
    shape = model.input_shape  # a list of shapes for a model of several inputs
    return Read(found, int(shape[1]) if isinstance(shape, tuple) and len(shape) == 4 else None)


def layer_weights(handle) -> list[np.ndarray]:
    """A layer's arrays (from `layers`), kernel first, in Keras's layout."""
    return handle.get_weights()


def set_layer_weights(handle, arrays: list[np.ndarray]) -> None:
    handle.set_weights(arrays)


def activations(model, handles: list, images: np.ndarray, side: Side, training: bool = False) -> list[np.ndarray]:
    """The outputs of the given layers (from `layers`) on uint8 NHWC images."""
    return layer_outputs(model, handles, images.astype(np.float32) / 255.0, side, training)


def layer_outputs(model, handles: list, inputs: np.ndarray, side: Side, training: bool = False) -> list[np.ndarray]:
    """The outputs of the given layers (from `layers`) on inputs as the model takes them."""
    # model.inputs: a Sequential has no .input; one input is given bare, as the models are called
    probe = imports.keras().Model(model.inputs[0] if len(model.inputs) == 1 else model.inputs,
                                     [layer.output for layer in handles])
    found = run(probe, inputs, side, training=training)
    return found if isinstance(found, list) else [found]


def to_numpy(tensor) -> np.ndarray:
    """A backend tensor as an array. Keras on torch converts through `np.array(tensor)`, which numpy 2
    warns about for every torch tensor (its __array__ takes no copy argument): torch's own call instead."""
    if hasattr(tensor, "detach"):
        return tensor.detach().cpu().numpy()
    return imports.keras().ops.convert_to_numpy(tensor)


def _numpy(outputs):
    # A model with several outputs (intermediate activations, say) gives one array each.
    if isinstance(outputs, (list, tuple)):
        return [to_numpy(o) for o in outputs]
    return to_numpy(outputs)


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    return run(model, images.astype(np.float32) / 255.0, side, training)


def run(model, inputs: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    """The model's output on inputs as it takes them (any shape and dtype)."""
    with on(side):
        return _numpy(model(inputs, training=training))


def full_precision(tensor) -> np.ndarray:
    """A backend tensor or variable as an array, a half one cast to float32 in the backend first (float32 holds its
    values exactly): numpy has no bfloat16 (torch's cannot convert one, and TensorFlow's and JAX's are ml_dtypes',
    which the parent process need not have)."""
    keras = imports.keras()
    # float32 too: a cast reads a variable as a tensor, which converts without numpy's copy-keyword warning.
    if keras.backend.standardize_dtype(tensor.dtype) in ("bfloat16", "float16", "float32"):
        tensor = keras.ops.cast(tensor, "float32")
    return to_numpy(tensor)


def differentiate(model, inputs: list[np.ndarray], loss: Callable, training: bool
                  ) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Gradients of `loss(outputs)` (written in keras.ops) with respect to the inputs and to each trainable
    weight (by path), one pass: Keras has no backend-neutral gradient, so each backend takes its own.
    Inputs of an integer dtype (token ids) have no gradient: zeros."""
    keras = imports.keras()
    weights = getattr(model, "trainable_weights", [])  # a loss is a plain function of its inputs

    def call_input(xs):  # a model of one input takes it bare
        return xs if len(xs) > 1 else xs[0]

    backend = keras.backend.backend()
    if backend == "tensorflow":
        tf = imports.tensorflow()
        xs = [tf.constant(x) for x in inputs]
        with tf.GradientTape() as tape:
            tape.watch([x for x in xs if x.dtype.is_floating])
            value = loss(model(call_input(xs), training=training))
        found = tape.gradient(value, xs + list(weights))
    elif backend == "torch":
        import torch

        xs = [torch.tensor(x, requires_grad=np.issubdtype(np.asarray(x).dtype, np.floating)) for x in inputs]
        value = loss(model(call_input(xs), training=training))
        wanted = [x for x in xs if x.requires_grad] + [w.value for w in weights]
        grads = iter(torch.autograd.grad(value, wanted, allow_unused=True))
        found = [next(grads) if x.requires_grad else None for x in xs] + list(grads)
    else:  # jax: a pure function of the inputs and weights
        import jax

        state = getattr(model, "non_trainable_weights", [])

        def pure(xs, values):
            with keras.StatelessScope(state_mapping=list(zip(weights, values))) as scope:
                outputs = model(call_input(xs), training=training)
            return loss(outputs), [scope.get_current_value(v) for v in state]

        if all(np.issubdtype(np.asarray(x).dtype, np.floating) for x in inputs):
            (_, updates), (gx, gw) = jax.value_and_grad(pure, argnums=(0, 1), has_aux=True)(
                list(inputs), [w.value for w in weights])
        else:  # jax differentiates floats only
            (_, updates), gw = jax.value_and_grad(pure, argnums=1, has_aux=True)(list(inputs), [w.value for w in weights])
            gx = [None] * len(inputs)
        for variable, value in zip(state, updates):
            if value is not None:  # as the other backends' training-mode call updates BatchNorm's statistics
                variable.assign(value)
        found = list(gx) + list(gw)
    arrays = [np.zeros(np.shape(v), np.float32) if g is None else full_precision(g)
              for v, g in zip(list(inputs) + list(weights), found)]
    return arrays[:len(inputs)], {w.path: g for w, g in zip(weights, arrays[len(inputs):])}


def gradients(model, images: np.ndarray, labels: np.ndarray, side: Side) -> dict[str, np.ndarray]:
    """Weight path -> gradient of the mean cross-entropy of the logits (the model must return logits),
    one pass in training mode: the same loss as the torch adapter's."""
    with on(side) as keras:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return differentiate(model, [images.astype(np.float32) / 255.0],
                             lambda logits: loss(labels, logits), training=True)[1]


def projection_gradients(model, inputs: np.ndarray, cotangent: np.ndarray, side: Side) -> dict[str, np.ndarray]:
    """Weight path -> gradient of sum(output * cotangent) / batch, one pass in training mode: the same loss
    as the torch adapter's `projection_gradients`."""
    with on(side) as keras:
        return differentiate(model, [inputs], lambda outputs: keras.ops.sum(
            keras.ops.multiply(outputs, keras.ops.convert_to_tensor(cotangent))) / len(inputs),
                             training=True)[1]


def comparable(model):
    keras = imports.keras()
    changes = [(layer, "rate", 0.0) for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    head = model.layers[-1]
    if getattr(head, "activation", None) is keras.activations.softmax:
        changes.append((head, "activation", keras.activations.linear))
    return overridden(changes)


# --- training ----------------------------------------------------------------------------------------

EVAL_BATCH = 500


def build_trainable(arch: str, knobs: frozenset[str], side: Side, seed: int = 0):
    """The published Keras model, or its torch-structured twin with `architecture`; logits out with `loss`."""
    flavour = REGISTRY[arch].flavours[knobs_.keras_flavour(arch, knobs)]
    with on(side) as keras:
        keras.utils.set_random_seed(seed)
        model = build_model(flavour.keras)
    head = model.layers[-1]
    # The head is one Dense layer; its activation decides whether the model returns logits.
    head.activation = keras.activations.linear if knobs_.keras_trains_on_logits(knobs) else keras.activations.softmax
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = knobs_.keras_bn_momentum(arch, knobs)
    return model


def nudge(model) -> None:
    """Move every weight by one ulp: the smallest change a training trajectory can feel."""
    model.set_weights([np.nextafter(w, np.inf).astype(w.dtype) for w in model.get_weights()])


def train(model, plan: Plan, x: np.ndarray, y: np.ndarray, knobs: frozenset[str], side: Side,
          progress: Progress) -> SideRun:
    """Keras's train step, batch by batch (`train_on_batch` runs the step `Model.fit` runs, and gives
    each step's loss): graph mode without XLA on TensorFlow and eager torch, as the published runs and
    native torch compute; JAX always compiles (XLA is how it runs)."""
    keras = imports.keras(side.keras_backend)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=plan.learning_rate, epsilon=plan.adam_epsilon),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=knobs_.keras_trains_on_logits(knobs)),
                  jit_compile=side.keras_backend == "jax")

    def run_step(start: int, stop: int, number: int) -> float:
        return float(model.train_on_batch(x[start:stop].astype(np.float32) / 255.0, y[start:stop]))

    with on(side), deterministic(side, knobs_.deterministic_kernels(knobs)):
        return run_epochs(plan, len(y), run_step, str(side), progress)


def predict(model, x: np.ndarray, side: Side) -> np.ndarray:
    with on(side):
        return np.concatenate([_numpy(_outputs(model, x[a:b].astype(np.float32) / 255.0)).argmax(1)
                               for a, b in batches(len(x), EVAL_BATCH)])


def _outputs(model, images):
    """A Keras model's inference outputs; a loaded SavedModel layer returns them by name."""
    keras = imports.keras()
    if isinstance(model, keras.layers.TFSMLayer):
        outputs = model(images)
        return next(iter(outputs.values())) if isinstance(outputs, dict) else outputs
    return model(images, training=False)


def save(model, folder: Path, trial: str) -> Path:
    """As the CrossedWires dataset stores it: `<trial>tf_model/`, a TensorFlow SavedModel (which
    Keras writes from a model on TensorFlow only)."""
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
    keras = imports.keras()
    return keras.layers.TFSMLayer(str(folder / f"{trial}tf_model"), call_endpoint="serve")


def load_published(arch: str, stored: SavedKerasModel, shown: str, side: Side):
    """A published trial's tf.keras SavedModel (channels-first Keras 2), read as arrays by cwtest.published, as the
    channels-last Keras 3 model of `arch` (cwtest.adapters.keras.published)."""
    from cwtest.adapters.keras.published import onto

    if stored.name != arch:  # keras.applications names its models as cwtest names the architectures
        raise InputError(f"{shown}: holds a model named {stored.name!r}, not a {arch}")
    size = stored.input_shape[-1] if stored.channels_first else stored.input_shape[0]
    with on(side):
        model = build_model(REGISTRY[arch].flavours["published"].keras, size)
    return onto(model, stored, arch, layers(model))

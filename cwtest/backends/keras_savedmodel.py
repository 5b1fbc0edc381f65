"""The published Keras models, read from their Keras-2 SavedModels onto channels-last Keras 3 models.

The published TensorFlow side was tf.keras (Keras 2) with the global image_data_format set to
channels_first, saved with `model.save(dir + "tf_model")`. Keras 3 cannot load a Keras-2 SavedModel, and
its channels-first graph is not the channels-last model cwtest compares (TensorFlow runs NCHW convolutions on
a CPU only through oneDNN), so neither the file nor its graph is used as it is. What is: the layer names and configurations in `keras_metadata.pb`, and the variables in the
SavedModel's checkpoint (`variables/`), tf.keras's `layer_with_weights-<n>/<weight>` entries.
Those are read as arrays (no graph runs, no Python from the folder) and set, layer by layer, onto
the channels-last keras.applications model cwtest builds for the architecture. Kernels do not depend on
the data format; only the Dense layer fed by a Flatten does, whose input rows were flattened in
(channel, row, column) order and are reordered to (row, column, channel).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cwtest.errors import InputError
from cwtest.models.transfer import channels_last_rows

WEIGHTED = re.compile(r"root\.layer_with_weights-(\d+)")


@dataclass(frozen=True)
class SavedLayer:
    name: str  # tf.keras's name, e.g. conv1/conv (Keras 3 writes conv1_conv)
    kind: str  # the class name, e.g. Conv2D
    data_format: str | None
    weights: dict[str, np.ndarray]  # kernel, bias, gamma, beta, moving_mean, moving_variance


@dataclass(frozen=True)
class SavedKerasModel:
    folder: str  # for messages
    name: str  # the model's name, e.g. densenet121
    input_shape: tuple[int, ...]  # without the batch, e.g. (3, 32, 32)
    layers: dict[str, SavedLayer]  # by name in Keras 3's spelling

    @property
    def channels_first(self) -> bool:
        return any(layer.data_format == "channels_first" for layer in self.layers.values())


def _metadata_protos():
    """tf.keras's SavedMetadata message; TensorFlow ships its definition, as does tf_keras."""
    try:
        from tensorflow.python.keras.protobuf import saved_metadata_pb2
    except ImportError:
        from tf_keras.protobuf import saved_metadata_pb2
    return saved_metadata_pb2


def keras3_name(name: str) -> str:
    """Keras 3 forbids `/` in layer names; its applications spell tf.keras's conv1/conv as conv1_conv."""
    return name.replace("/", "_")


def read(folder: Path, shown: str | None = None) -> SavedKerasModel:
    """The layers, configurations and variables of a tf.keras SavedModel folder, as arrays."""
    shown = shown or str(folder)
    metadata_file, variables = folder / "keras_metadata.pb", folder / "variables" / "variables"
    for needed in (metadata_file, variables.with_suffix(".index")):
        if not needed.is_file():
            raise InputError(f"{shown}: no {needed.relative_to(folder)}; not a tf.keras SavedModel as the "
                             f"published runs wrote them")
    from cwtest.backends import frameworks

    try:
        tf = frameworks.tensorflow()
    except ImportError:
        raise InputError(f"{shown}: reading a published Keras model needs TensorFlow to read its checkpoint "
                         f"(pip install 'cwtest[tensorflow-cpu]')") from None
    protos = _metadata_protos()
    metadata = protos.SavedMetadata()
    try:
        metadata.ParseFromString(metadata_file.read_bytes())
        nodes = {node.node_path: json.loads(node.metadata) for node in metadata.nodes}
    except Exception as exc:  # a damaged file: protobuf's and json's errors vary
        raise InputError(f"{shown}/keras_metadata.pb: not readable ({type(exc).__name__}: {exc})") from None
    try:
        checkpoint = tf.train.load_checkpoint(str(variables))
    except Exception as exc:  # tf.errors.* for a truncated or foreign checkpoint
        raise InputError(f"{shown}/variables: not a readable checkpoint ({str(exc).splitlines()[0]})") from None
    stored = checkpoint.get_variable_to_shape_map()
    layers = {}
    for path, node in nodes.items():
        match = WEIGHTED.fullmatch(path)
        if not match:
            continue
        index = int(match.group(1))
        prefix = f"layer_with_weights-{index}/"
        weights = {key[len(prefix):].split("/")[0]: checkpoint.get_tensor(key)
                   for key in stored if key.startswith(prefix) and key.endswith("/.ATTRIBUTES/VARIABLE_VALUE")}
        if not weights:
            raise InputError(f"{shown}: layer {node.get('name')} has no variables in the checkpoint")
        config = node.get("config", {})
        layers[keras3_name(node["name"])] = SavedLayer(node["name"], node.get("class_name", "?"),
                                                       config.get("data_format"), weights)
    root = nodes.get("root", {})
    shape = root.get("config", {}).get("layers", [{}])[0].get("config", {}).get("batch_input_shape", {})
    items = shape.get("items", shape) if isinstance(shape, dict) else shape
    return SavedKerasModel(shown, root.get("name", "?"), tuple(items[1:]) if items else (), layers)


def flatten_feeds(model) -> dict[str, tuple[int, int, int]]:
    """Dense layers fed by a Flatten, with the (rows, columns, channels) of what was flattened, channels last."""
    found, pending = {}, None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Flatten":
            pending = tuple(layer.input.shape[1:])
        elif kind == "Dense" and pending is not None:
            if len(pending) == 3:
                found[layer.name] = pending
            pending = None
    return found


def onto(model, saved: SavedKerasModel, arch: str):
    """Sets the saved variables onto a channels-last Keras 3 `model` of the same architecture."""
    reorder = flatten_feeds(model) if saved.channels_first else {}
    used = set()
    for layer in model.layers:
        if not layer.weights:
            continue
        source = saved.layers.get(layer.name)
        if source is None:
            raise InputError(f"{saved.folder}: no layer {layer.name} ({type(layer).__name__}) in the SavedModel, "
                             f"which a {arch} has; is it the {arch} of a published trial?")
        used.add(layer.name)
        arrays = []
        for variable in layer.weights:
            short = variable.name.split("/")[-1]
            if short not in source.weights:
                raise InputError(f"{saved.folder}: layer {source.name} has no variable {short!r} "
                                 f"(it has {', '.join(sorted(source.weights))})")
            array = source.weights[short]
            if short == "kernel" and layer.name in reorder:
                array = channels_last_rows(array, reorder[layer.name])
            if tuple(array.shape) != tuple(variable.shape):
                raise InputError(f"{saved.folder}: layer {source.name} variable {short} has shape {tuple(array.shape)}, "
                                 f"a channels-last {arch} needs {tuple(variable.shape)}")
            arrays.append(array)
        unused = sorted(set(source.weights) - {variable.name.split("/")[-1] for variable in layer.weights})
        if unused:
            raise InputError(f"{saved.folder}: layer {source.name} has variables {', '.join(unused)} that cwtest's "
                             f"{arch} layer {layer.name} lacks; is it the {arch} of a published trial?")
        layer.set_weights(arrays)
    extra = sorted(set(saved.layers) - used)
    if extra:
        raise InputError(f"{saved.folder}: layers {', '.join(extra[:3])}{'...' if len(extra) > 3 else ''} are not in "
                         f"cwtest's {arch}; is it the {arch} of a published trial?")
    return model

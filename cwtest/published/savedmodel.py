"""The published Keras models, read from their Keras-2 SavedModels as arrays (their Keras adapter sets them onto
channels-last Keras 3 models: cwtest.adapters.keras.published).

The published TensorFlow side was tf.keras (Keras 2) with the global image_data_format set to
channels_first, saved with `model.save(dir + "tf_model")`. Keras 3 cannot load a Keras-2 SavedModel, and
its channels-first graph is not the channels-last model cwtest compares (TensorFlow runs NCHW convolutions on
a CPU only through oneDNN), so neither the file nor its graph is used as it is. What is: the layer names and
configurations in `keras_metadata.pb`, and the variables in the SavedModel's checkpoint (`variables/`),
tf.keras's `layer_with_weights-<n>/<weight>` entries. Those are read as arrays (no graph runs, no Python from
the folder), and the Keras adapter sets them, layer by layer, onto the channels-last keras.applications model
cwtest builds for the architecture.
"""

from __future__ import annotations

import json
import re
from pathlib import Path


from cwtest.core.errors import InputError
from cwtest.core.records import SavedKerasModel, SavedLayer

WEIGHTED = re.compile(r"root\.layer_with_weights-(\d+)")


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
    from cwtest.frameworks import imports

    try:
        tf = imports.tensorflow()
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

"""The published Keras models (cwtest.published), as channels-last Keras 3 models: a Keras-2 SavedModel's variables,
read as arrays (cwtest.published.savedmodel), set layer by layer onto the architecture Keras 3 builds.

Kernels do not depend on the data format; only the Dense layer fed by a Flatten does, whose input rows were
flattened in (channel, row, column) order and are reordered to (row, column, channel).
"""

from __future__ import annotations

from cwtest.core.errors import InputError
from cwtest.core.layouts import channels_last_rows
from cwtest.core.records import Read, SavedKerasModel


def onto(model, saved: SavedKerasModel, arch: str, read: Read):
    """Sets the saved variables onto a channels-last Keras 3 `model` of the same architecture."""
    # Dense layers fed by a Flatten, with the (rows, columns, channels) of what was flattened, channels last.
    reorder = {layer.name: layer.flattened for layer in read.layers
               if saved.channels_first and layer.flattened and len(layer.flattened) == 3}
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

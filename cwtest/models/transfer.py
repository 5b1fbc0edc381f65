"""The weight map: weights moved between paired torch and Keras layers, in either direction, and read
side by side in one layout (the layer suite's blocks and the trainings' weight distance use it too).

Layouts (../shared/docs/semantics.md): a conv weight (O, I, kh, kw) is a Keras kernel
(kh, kw, I, O); a Linear weight (out, in) is a Dense kernel (in, out), and where a Flatten
feeds the Dense its input axis is reordered, since torch flattens C,H,W and Keras H,W,C;
BatchNorm weight, bias, running mean and variance are gamma, beta, moving mean and variance.
Every move is a transpose or a reshape of float32 values, so a round trip is bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cwtest.backends import backend_for
from cwtest.backends.sides import TORCH_CPU, Side, keras_in_process
from cwtest.models.architectures import REGISTRY
from cwtest.models.structure import Comparison, Layer, compare

DIRECTIONS = ("torch->keras", "keras->torch")


def channels_last_rows(channels_first: np.ndarray, flattened: tuple[int, ...]) -> np.ndarray:
    """(in, out) rows in torch's C,H,W order -> rows in Keras's H,W,C order."""
    height, width, channels = flattened
    out = channels_first.shape[1]
    return channels_first.reshape(channels, height, width, out).transpose(1, 2, 0, 3).reshape(-1, out)


def channels_first_rows(channels_last: np.ndarray, flattened: tuple[int, ...]) -> np.ndarray:
    height, width, channels = flattened
    out = channels_last.shape[1]
    return channels_last.reshape(height, width, channels, out).transpose(2, 0, 1, 3).reshape(-1, out)


def keras_kernel(weight: np.ndarray, flattened: tuple[int, int, int] | None = None,
                 depthwise_channels: int | None = None) -> np.ndarray:
    """A torch weight in Keras's layout: a conv weight (O, I, kh, kw) -> (kh, kw, I, O); a depthwise one
    (C*m, 1, kh, kw), output channel c*m + j -> (kh, kw, C, m); a Linear weight (out, in) -> (in, out), its
    rows reordered from torch's C,H,W to Keras's H,W,C where a Flatten of `flattened` (H, W, C) feeds it;
    anything else (a BatchNorm's vectors) as it is. The one place torch weights change layout."""
    if weight.ndim == 4 and depthwise_channels:
        return weight.reshape(depthwise_channels, -1, *weight.shape[2:]).transpose(2, 3, 0, 1)
    if weight.ndim == 4:
        return weight.transpose(2, 3, 1, 0)
    if weight.ndim == 2:
        return channels_last_rows(weight.T, flattened) if flattened else weight.T
    return weight


def to_keras(keras_layer: Layer, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """torch-layout arrays (weight first) in the paired Keras layer's layout; a prefix of the list may be given."""
    if keras_layer.kind == "batchnorm" or not arrays:
        return list(arrays)
    return [keras_kernel(arrays[0], keras_layer.flattened), *arrays[1:]]


def to_torch(keras_layer: Layer, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Keras-layout arrays (kernel first) in torch's layout; the inverse of `to_keras`."""
    if keras_layer.kind == "batchnorm" or not arrays:
        return list(arrays)
    kernel, rest = arrays[0], list(arrays[1:])
    if keras_layer.kind == "conv":
        return [kernel.transpose(3, 2, 0, 1), *rest]
    if keras_layer.flattened:
        kernel = channels_first_rows(kernel, keras_layer.flattened)
    return [kernel.T, *rest]


def owned(array: np.ndarray) -> np.ndarray:
    """A contiguous copy that shares no memory with torch. `Tensor.numpy()` is a view of the tensor, and
    Keras on JAX keeps a CPU array it is given without copying it: a BatchNorm's moving mean then moved
    with every in-place update of torch's running_mean (a training-mode pass of the torch model)."""
    return np.array(array, order="C", copy=True)


def copy_weights(pairs, direction: str, torch_side: Side = TORCH_CPU, keras_side: Side | None = None) -> None:
    """Copy every paired layer's weights (and BatchNorm statistics) from one side to the other, each read and
    written by its side's backend (Keras's by default on the backend this process runs Keras on)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r} (known: {', '.join(DIRECTIONS)})")
    torch_backend, keras_backend = backend_for(torch_side), backend_for(keras_side or keras_in_process())
    for torch_layer, keras_layer in pairs:
        if direction == "torch->keras":
            arrays = to_keras(keras_layer, torch_backend.layer_weights(torch_layer.handle))
            keras_backend.set_layer_weights(keras_layer.handle, [owned(a) for a in arrays])
        else:
            arrays = to_torch(keras_layer, keras_backend.layer_weights(keras_layer.handle))
            torch_backend.set_layer_weights(torch_layer.handle, arrays)


@dataclass(frozen=True, eq=False)
class Transferred:
    """A torch model and a Keras model of one flavour; with the same weights when `structure` is equivalent."""

    arch: str
    flavour: str
    direction: str
    torch_model: object
    keras_model: object
    structure: Comparison

    @property
    def keras_output(self) -> str:
        return REGISTRY[self.arch].flavours[self.flavour].keras_output


class WeightsDoNotFit(ValueError):
    """A trained model's weights have other shapes than the flavour's model they were to start."""


def start_from(model, arch: str, side: Side, trained: tuple[Path, str]) -> None:
    """`model` takes the weights of the trial `trained` = (checkpoint folder or published root, trial name)
    saved for its side's framework (cwtest.models.checkpoints), in place of its random ones."""
    from cwtest.models import checkpoints

    folder, trial = trained
    backend = backend_for(side)
    arrays = backend.weights(checkpoints.load(folder, arch, trial, side))
    wanted = backend.weights(model)
    if [a.shape for a in arrays] != [a.shape for a in wanted]:
        raise WeightsDoNotFit(f"{trial}'s {side.api} {arch} weights do not fit this flavour's {side.api} model "
                              f"({len(arrays)} arrays against {len(wanted)}, or other shapes)")
    backend.set_weights(model, [owned(a) for a in arrays])


def transferred(arch: str, flavour: str, direction: str, torch_side: Side, keras_side: Side,
                seed: int = 0, trained: tuple[Path, str] | None = None) -> Transferred:
    """Both sides built (each from `seed`), compared, and, where they match, the source's weights copied over:
    random ones, or with `trained` those of a trained trial (see `start_from`)."""
    torch_model = backend_for(torch_side).build(arch, torch_side, seed, flavour)
    keras_model = backend_for(keras_side).build(arch, keras_side, seed, flavour)
    comparison = compare(torch_model, keras_model, REGISTRY[arch].flavours[flavour].keras_name, torch_side, keras_side)
    if comparison.equivalent:
        if trained is not None:
            source, side = (torch_model, torch_side) if direction == "torch->keras" else (keras_model, keras_side)
            start_from(source, arch, side, trained)
        copy_weights(comparison.pairs, direction, torch_side, keras_side)
    return Transferred(arch, flavour, direction, torch_model, keras_model, comparison)


def keras_layout_pairs(pairs, torch_side: Side = TORCH_CPU, keras_side: Side | None = None
                       ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(torch's array in Keras's layout, Keras's array) for every weight and statistic of the paired layers."""
    torch_backend, keras_backend = backend_for(torch_side), backend_for(keras_side or keras_in_process())
    found = []
    for torch_layer, keras_layer in pairs:
        moved = to_keras(keras_layer, torch_backend.layer_weights(torch_layer.handle))
        found += list(zip(moved, keras_backend.layer_weights(keras_layer.handle)))
    return found

"""The weight map: weights moved between paired torch and Keras layers, in either direction, and read
side by side in one layout (the layer suite's blocks and the trainings' weight distance use it too). The
layouts themselves, array by array, are cwtest.core.layouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cwtest.frameworks import adapter_for
from cwtest.frameworks.sides import TORCH_CPU, Side, keras_in_process
from cwtest.registries.architectures import REGISTRY
from cwtest.core.layouts import owned, to_keras, to_torch
from cwtest.models.structure import Comparison, compare

DIRECTIONS = ("torch->keras", "keras->torch")


def copy_weights(pairs, direction: str, torch_side: Side = TORCH_CPU, keras_side: Side | None = None) -> None:
    """Copy every paired layer's weights (and BatchNorm statistics) from one side to the other, each read and
    written by its side's adapter (Keras's by default on the run's first Keras backend)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r} (known: {', '.join(DIRECTIONS)})")
    torch_adapter, keras_adapter = adapter_for(torch_side), adapter_for(keras_side or keras_in_process())
    for torch_layer, keras_layer in pairs:
        if direction == "torch->keras":
            arrays = to_keras(keras_layer, torch_adapter.layer_weights(torch_layer.handle))
            keras_adapter.set_layer_weights(keras_layer.handle, [owned(a) for a in arrays])
        else:
            arrays = to_torch(keras_layer, keras_adapter.layer_weights(keras_layer.handle))
            torch_adapter.set_layer_weights(torch_layer.handle, arrays)


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
    adapter = adapter_for(side)
    arrays = adapter.weights(checkpoints.load(folder, arch, trial, side))
    wanted = adapter.weights(model)
    if [a.shape for a in arrays] != [a.shape for a in wanted]:
        raise WeightsDoNotFit(f"{trial}'s {side.api} {arch} weights do not fit this flavour's {side.api} model "
                              f"({len(arrays)} arrays against {len(wanted)}, or other shapes)")
    adapter.set_weights(model, [owned(a) for a in arrays])


def transferred(arch: str, flavour: str, direction: str, torch_side: Side, keras_side: Side,
                seed: int = 0, trained: tuple[Path, str] | None = None) -> Transferred:
    """Both sides built (each from `seed`), compared, and, where they match, the source's weights copied over:
    random ones, or with `trained` those of a trained trial (see `start_from`)."""
    torch_model = adapter_for(torch_side).build(arch, torch_side, seed, flavour)
    keras_model = adapter_for(keras_side).build(arch, keras_side, seed, flavour)
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
    torch_adapter, keras_adapter = adapter_for(torch_side), adapter_for(keras_side or keras_in_process())
    found = []
    for torch_layer, keras_layer in pairs:
        moved = to_keras(keras_layer, torch_adapter.layer_weights(torch_layer.handle))
        found += list(zip(moved, keras_adapter.layer_weights(keras_layer.handle)))
    return found

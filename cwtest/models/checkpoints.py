"""Trained pairs on disk, in one of two layouts that `--crossedwires-checkpoints` tells apart:

- cwtest's own folder: `<trial>.pt_model.pt` (a PyTorch state dict) and `<trial>tf_model/` (a
  TensorFlow SavedModel that Keras 3 exported), side by side; written by cwtest, read back by it;
- the published CrossedWires dataset (its unpacked root or its zip archive, cwtest.published): read
  only, the torch state dicts and the Keras-2 SavedModels the published trials saved.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from cwtest.frameworks import adapter_for, trainer_for
from cwtest.frameworks.sides import Pair, Side
from cwtest.published import layout
from cwtest.core.accuracy import accuracies


def published(folder: Path | None) -> bool:
    """Whether `folder` is the published dataset (read only) rather than cwtest's own folder."""
    return folder is not None and layout.is_published_root(folder)


@functools.lru_cache(maxsize=2)
def dataset(root: Path):
    """One open copy of the published dataset per root for the process (a zip's index is read once)."""
    from cwtest.published.dataset import CrossedWires

    return CrossedWires(root)


def present(folder: Path | None, arch: str, trial: str) -> bool:
    if folder is None:
        return False
    if published(folder):
        return trial in dataset(folder).trial_names(arch)
    return (folder / f"{trial}.pt_model.pt").is_file() and (folder / f"{trial}tf_model").is_dir()


def save(folder: Path, trial: str, pair: Pair, models) -> None:
    folder.mkdir(exist_ok=True)
    for side, model in zip((pair.left, pair.right), models):
        trainer_for(side).save(model, folder, trial)


def load(folder: Path, arch: str, trial: str, side: Side):
    """One side's trained model, in this process, ready for the side's adapter (`adapter_for`) to run."""
    if published(folder):
        return dataset(folder).model(arch, trial, side)
    return adapter_for(side).load(arch, folder, trial, side)


def evaluate(folder: Path, arch: str, trial: str, pair: Pair, images: np.ndarray, labels: np.ndarray,
             batch_size: int) -> dict[str, float]:
    """Both saved sides' test accuracies on the run's test arrays, exact and as the trials recorded them
    (cwtest.core.accuracy.published_accuracy, at the trial's batch size)."""
    predictions = []
    for side in (pair.left, pair.right):
        predictions.append(adapter_for(side).predict(load(folder, arch, trial, side), images, side))
    return accuracies(tuple(predictions), labels, batch_size, (pair.left.api, pair.right.api))

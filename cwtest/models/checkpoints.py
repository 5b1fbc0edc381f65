"""Trained pairs on disk in the CrossedWires dataset layout: `<trial>.pt_model.pt` (a PyTorch
state dict) and `<trial>tf_model/` (a TensorFlow SavedModel), side by side in one folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cwtest.backends import trainer_for
from cwtest.backends.sides import Pair
from cwtest.training.protocol import accuracy


def present(folder: Path | None, trial: str) -> bool:
    return folder is not None and (folder / f"{trial}.pt_model.pt").is_file() and (folder / f"{trial}tf_model").is_dir()


def save(folder: Path, trial: str, pair: Pair, models) -> None:
    folder.mkdir(exist_ok=True)
    for side, model in zip((pair.left, pair.right), models):
        trainer_for(side).save(model, folder, trial)


def evaluate(folder: Path, arch: str, trial: str, pair: Pair, images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Both saved sides' exact test accuracies on the run's test arrays."""
    found = {}
    for name, side in (("left", pair.left), ("right", pair.right)):
        trainer = trainer_for(side)
        predictions = trainer.predict(trainer.load(arch, folder, trial, side), images, side)
        found[f"{name}_test_acc"] = accuracy(predictions, labels)
    found["accuracy_diff"] = abs(found["left_test_acc"] - found["right_test_acc"])
    return found

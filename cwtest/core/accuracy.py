"""Test accuracy, exact and as the CrossedWires trials recorded it."""

from __future__ import annotations

import numpy as np


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Exact test accuracy: correct over all images (not a mean of per-batch means)."""
    return float(np.mean(predictions == labels))


# The model codes whose published test accuracy was a mean of per-batch accuracies (published_accuracy).
BATCH_MEAN_ACCURACY = frozenset({"torch"})


def published_accuracy(predictions: np.ndarray, labels: np.ndarray, batch_size: int, api: str) -> float:
    """The test accuracy as the CrossedWires trials recorded it for a side running `api`'s model code.

    Their PyTorch side's pt_test_acc is the mean of per-batch accuracies over the unshuffled test
    DataLoader at the trial's batch size (a Lightning Accuracy per batch, averaged with
    statistics.mean): the last, smaller batch weighs as much as a full one, so whenever the test set
    is not a multiple of the batch size it is not correct/total. Their TensorFlow side's tf_test_acc
    is Keras's evaluate, which is exact. Comparisons with recorded numbers use this definition; every
    other comparison uses `accuracy`.
    """
    if api not in BATCH_MEAN_ACCURACY:
        return accuracy(predictions, labels)
    correct = predictions == labels
    return float(np.mean([np.mean(correct[a:a + batch_size]) for a in range(0, len(correct), batch_size)]))


def accuracies(predictions: tuple[np.ndarray, np.ndarray], labels: np.ndarray, batch_size: int,
               apis: tuple[str, str]) -> dict[str, float]:
    """Both sides' exact accuracies and their difference, and the same under the published definition."""
    found = {}
    for name, predicted, api in zip(("left", "right"), predictions, apis):
        found[f"{name}_test_acc"] = accuracy(predicted, labels)
        found[f"{name}_published_test_acc"] = published_accuracy(predicted, labels, batch_size, api)
    found["accuracy_diff"] = abs(found["left_test_acc"] - found["right_test_acc"])
    found["published_accuracy_diff"] = abs(found["left_published_test_acc"] - found["right_published_test_acc"])
    return found

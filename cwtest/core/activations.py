"""Keras's activations in numpy, by name: what a Keras layer applies to its output, applied to another side's output
of the same layer where that side's layer carries none (a torch Conv2d before its ReLU module), so that both are
read at the same point (cwtest.models.localize). A Keras layer in a child process (cwtest.frameworks.child) crosses
the pipe with its activation as one of these."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def softmax(x: np.ndarray) -> np.ndarray:
    exponentials = np.exp(x - x.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def silu(x: np.ndarray) -> np.ndarray:
    return x * sigmoid(x)


NUMPY = {"relu": relu, "softmax": softmax, "sigmoid": sigmoid, "tanh": np.tanh, "silu": silu, "swish": silu}


@dataclass(frozen=True)
class Untranslated:
    """A Keras activation with no numpy twin here: applying it says which, rather than read a layer at another point."""
    name: str

    def __call__(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"Keras's activation {self.name!r} has no numpy twin in cwtest.core.activations")


def numpy_of(activation) -> object:
    """The numpy twin of a Keras activation function (None for none or `linear`)."""
    name = getattr(activation, "__name__", None)
    if activation is None or name == "linear":
        return None
    return NUMPY.get(name) or Untranslated(str(name))

"""Import the frameworks in an order that works in one process.

torch loads Triton lazily (torchvision's import pulls it in through torch._dynamo), and
Triton's LLVM loaded after TensorFlow's crashes the process (a segfault inside
`triton/_C/libtriton`). So TensorFlow and Keras are always imported after torch,
torchvision and Triton, whatever order the tests ask for them in.

Their versions are read from package metadata, so that reading them imports nothing heavy.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from importlib import metadata


def _torch_stack_first() -> None:
    for name in ("torch", "torchvision", "triton"):
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


def tensorflow():
    _torch_stack_first()
    # TensorFlow's C++ start-up notices would bury pytest's output; warnings and errors still show.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    return tensorflow


def keras():
    tensorflow()
    import keras

    return keras


# Report column -> distributions that provide it (TensorFlow ships as tensorflow or tensorflow-cpu).
DISTRIBUTIONS = {
    "torch": ("torch",),
    "torchvision": ("torchvision",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
}


def framework_versions() -> dict[str, str]:
    """Installed version per framework, '' where it is not installed."""
    found = {}
    for name, distributions in DISTRIBUTIONS.items():
        found[name] = ""
        for distribution in distributions:
            try:
                found[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return found

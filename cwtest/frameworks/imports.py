"""Import the frameworks in an order that works in one process.

torch loads Triton lazily (torchvision's import pulls it in through torch._dynamo), and
Triton's LLVM loaded after TensorFlow's crashes the process (a segfault inside
`triton/_C/libtriton`). So TensorFlow and Keras are always imported after torch,
torchvision and Triton, whatever order the tests ask for them in.

Keras reads its backend (TensorFlow, JAX or torch) from KERAS_BACKEND once, when it is first
imported, and keeps it for the life of the process: `keras(backend)` sets it before that import and
refuses another backend afterwards, so a side never runs silently on the wrong one.

Their versions are read from package metadata, so that reading them imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import tempfile
from importlib import metadata

from cwtest.core.errors import InputError


# Set in a Keras child process (cwtest.frameworks.child) whose Keras runs on TensorFlow or JAX: nothing there imports
# torch, so it need not come first, and the child is spared its hundreds of MB.
WITHOUT_TORCH = "CWTEST_WITHOUT_TORCH"


def _torch_stack_first() -> None:
    if os.environ.get(WITHOUT_TORCH):
        return
    for name in ("torch", "torchvision", "triton"):
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)


# What TensorFlow's libraries write to stderr as they load, before absl's logging is set up, so that
# TF_CPP_MIN_LOG_LEVEL does not reach it (TensorFlow 2.21): "oneDNN custom operations are on" (an INFO line,
# once per library) and absl's notice that such lines go to stderr. Only TF_ENABLE_ONEDNN_OPTS=0 stops them at
# the source, and it turns off the oneDNN kernels that the suites compare.
_LOAD_NOTICES = re.compile(rb"I\d{4} [\d:. ]+\d+ \S+:\d+\] .*|WARNING: All log messages before absl::InitializeLog\(\) "
                           rb"is called are written to STDERR")


@contextlib.contextmanager
def _without_load_notices():
    """Runs an import with stderr (the file descriptor: the notices come from C++) held, then writes back
    every line but TensorFlow's load notices; warnings and errors pass."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().splitlines(keepends=True)
            os.write(2, b"".join(line for line in lines if not _LOAD_NOTICES.fullmatch(line.rstrip(b"\n"))))


def tensorflow():
    _torch_stack_first()
    # TensorFlow's C++ start-up notices would bury pytest's output; warnings and errors still show.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _without_load_notices():
        import tensorflow

    return tensorflow


def keras_backend_in_use() -> str | None:
    """The backend Keras runs on in this process, None before Keras is imported."""
    loaded = sys.modules.get("keras")
    return loaded.backend.backend() if loaded is not None else None


def chosen_keras_backend() -> str:
    """The backend Keras runs on, or will when imported (the run's pair chose it), importing nothing."""
    return keras_backend_in_use() or os.environ.get("KERAS_BACKEND", "tensorflow")


def case_keras_backends(keras_sides=None) -> frozenset[str]:
    """The Keras backends a layer-suite case runs on: this process's, and a two-Keras pair's other side's
    (`keras_sides`: the pair's sides, or None for torch against Keras)."""
    others = {side.keras_backend for side in keras_sides or () if side.keras_backend}
    return frozenset({chosen_keras_backend(), *others})


# The run's Keras backends, this process's first: the plugin names them before xdist's workers start,
# so that every process collects the same layer-suite cases (a second backend's difference included).
RUN_KERAS_BACKENDS = "CWTEST_KERAS_BACKENDS"


def run_keras_backends() -> tuple[str, ...]:
    """The Keras backends the run's pair runs on, this process's first, importing nothing."""
    named = tuple(b for b in os.environ.get(RUN_KERAS_BACKENDS, "").split(",") if b)
    return named if named and named[0] == chosen_keras_backend() else (chosen_keras_backend(),)


def choose_keras_backend(backend: str, environ=os.environ) -> None:
    """Make `backend` the one Keras will load; an error where Keras already runs on another."""
    in_use = keras_backend_in_use()
    if in_use is not None and in_use != backend:
        raise InputError(f"Keras already runs on {in_use} in this process and cannot switch to {backend}")
    environ["KERAS_BACKEND"] = backend


def keras(backend: str | None = None):
    """Keras, on `backend` (or on the one already chosen, TensorFlow by default)."""
    if backend is not None:
        choose_keras_backend(backend)
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        tensorflow()
    else:
        _torch_stack_first()
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keras imports TensorFlow's utilities where installed
    with _without_load_notices():
        import keras

    return keras


# Report column -> distributions that provide it (TensorFlow ships as tensorflow or tensorflow-cpu).
DISTRIBUTIONS = {
    "torch": ("torch",),
    "torchvision": ("torchvision",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",),
    "jax": ("jax",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
}


def framework_versions(names: tuple[str, ...] = tuple(DISTRIBUTIONS)) -> dict[str, str]:
    """Installed version per framework (of `names`, columns of DISTRIBUTIONS), '' where it is not installed."""
    found = {}
    for name in names:
        found[name] = ""
        for distribution in DISTRIBUTIONS[name]:
            try:
                found[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return found

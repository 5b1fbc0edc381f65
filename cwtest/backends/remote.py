"""A Keras side on another Keras backend than this process's, run in a child process of its own.

Keras picks its backend once per process (cwtest.backends.frameworks), so a pair of two Keras
backends (`keras-torch:cpu,keras-jax:cpu`) runs the second one in a child: `python -m
cwtest.backends.remote` with KERAS_BACKEND set, serving the Keras backend module's functions over two
pipes (a started interpreter, not multiprocessing's spawn, which runs the parent's main script again). Models stay in the
child and the parent holds handles to them; arguments and results cross as pickles of numpy
arrays and plain data (the exchange's cost is measured: benchmarks/train.py). A training's
progress comes back step by step, so the run's live display shows the child's side as its own.
"""

from __future__ import annotations

import gc
import itertools
import os
import subprocess
import sys
import time
import traceback
import weakref
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Iterator

import numpy as np

from cwtest.backends.frameworks import framework_versions
from cwtest.backends.sides import Side
from cwtest.published.layout import Root


@dataclass(frozen=True)
class RemoteModel:
    """A model that lives in a child process: what the parent passes back to the child's functions."""
    handle: int


class RemoteError(RuntimeError):
    """A child's function raised: its traceback, as the child printed it."""


class _ForwardedProgress:
    """The Progress calls `run_epochs` makes, sent to the parent's Progress."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def step(self, *args) -> None:
        self.connection.send(("progress", ("step", args)))

    def epoch(self, *args) -> None:
        self.connection.send(("progress", ("epoch", args)))


class _Channel:
    """Messages one way over one pipe, the other way over another."""

    def __init__(self, inbox: int, outbox: int) -> None:
        self._inbox, self._outbox = Connection(inbox, writable=False), Connection(outbox, readable=False)

    def send(self, message) -> None:
        self._outbox.send(message)

    def recv(self):
        return self._inbox.recv()


def serve(connection: _Channel) -> None:
    """The child's loop: call the Keras backend's function a message names, on the models it holds."""
    from cwtest.backends import keras_backend

    models: dict[int, object] = {}
    contexts: dict[int, ExitStack] = {}
    handles = itertools.count()

    def resolve(value):
        return models[value.handle] if isinstance(value, RemoteModel) else value

    while True:
        try:
            message = connection.recv()
        except EOFError:  # the parent is gone
            return
        if message is None:
            return
        name, args, released = message
        for handle in released:  # models the parent holds no handle to any more
            models.pop(handle, None)
        if released:
            gc.collect()  # a Keras model's layers and variables refer to each other
        started = time.perf_counter()
        try:
            args = [resolve(a) for a in args]
            if name == "enter_comparable":
                contexts[args[0]] = stack = ExitStack()
                stack.enter_context(keras_backend.comparable(models[args[0]]))
                result = None
            elif name == "exit_comparable":
                result = contexts.pop(args[0]).close()
            elif name == "train":
                result = keras_backend.train(*args, _ForwardedProgress(connection))
            elif name.startswith("blocks."):  # a layer-suite case (cwtest.backends.keras_blocks)
                from cwtest.backends import keras_blocks

                result = getattr(keras_blocks, name.removeprefix("blocks."))(*args)
            else:
                result = getattr(keras_backend, name)(*args)
            if name in ("build", "build_trainable", "load"):
                handle = next(handles)
                models[handle] = result
                result = RemoteModel(handle)
            connection.send(("result", (result, time.perf_counter() - started)))
        except Exception:
            connection.send(("error", traceback.format_exc()))


class RemoteKeras:
    """The Keras backend (cwtest.backends.keras_backend: a TrainingBackend) on `backend`, in a child process."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.exchange_seconds = 0.0  # wall time of the calls less the child's time in them: pickling and pipes
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        self._process = subprocess.Popen([sys.executable, "-m", "cwtest.backends.remote", str(child_reads),
                                          str(child_writes)], pass_fds=(child_reads, child_writes),
                                         env={**os.environ, "KERAS_BACKEND": backend})
        os.close(child_reads)
        os.close(child_writes)
        self._connection = _Channel(parent_reads, parent_writes)
        # Handles the parent dropped, sent with the next call so that the child frees their models: a
        # finalizer only appends here (it may run in the middle of a call), and a suite's trained models
        # would otherwise stay in the child for the whole session.
        self._released: list[int] = []

    def _call(self, name: str, *args, progress=None):
        started = time.perf_counter()
        released = []
        while self._released:  # drained in place: the finalizers append to this very list
            released.append(self._released.pop())
        self._connection.send((name, args, released))
        while True:
            kind, value = self._connection.recv()
            if kind == "progress":
                getattr(progress, value[0])(*value[1])
                continue
            if kind == "error":
                raise RemoteError(f"Keras on {self.backend}, in its own process, raised in {name}:\n{value}")
            result, child_seconds = value
            self.exchange_seconds += time.perf_counter() - started - child_seconds
            if isinstance(result, RemoteModel):
                weakref.finalize(result, self._released.append, result.handle)
            return result

    def close(self) -> None:
        if self._process.poll() is None:
            self._connection.send(None)
            self._process.wait(timeout=30)

    # --- Backend ---
    def available(self, side: Side) -> str | None:
        return self._call("available", side)

    def build(self, arch: str, side: Side, seed: int = 0, flavour: str = "published") -> RemoteModel:
        return self._call("build", arch, side, seed, flavour)

    def forward(self, model: RemoteModel, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
        return self._call("forward", model, images, side, training)

    @contextmanager
    def comparable(self, model: RemoteModel) -> Iterator[None]:
        self._call("enter_comparable", model.handle)
        try:
            yield
        finally:
            self._call("exit_comparable", model.handle)

    def precision(self, side: Side):
        return nullcontext()  # the child puts the side's mode in force around each call it serves

    def versions(self, side: Side) -> dict[str, str]:
        return framework_versions(("keras", side.keras_backend))

    def weights(self, model: RemoteModel) -> list[np.ndarray]:
        return self._call("weights", model)

    def set_weights(self, model: RemoteModel, arrays: list[np.ndarray]) -> None:
        self._call("set_weights", model, arrays)

    def case_on_cpu(self, block_name: str, params: dict, weights: dict[str, list[np.ndarray]], check: str,
                    cotangent: np.ndarray | None, published: list[str] = ()):
        """A layer-suite case in the child (cwtest.backends.keras_blocks.case_on_cpu)."""
        return self._call("blocks.case_on_cpu", block_name, params, weights, check, cotangent, list(published))

    def optimizer_on_cpu(self, optimizer_name: str, params: dict, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
        """An optimizer case in the child (cwtest.backends.keras_blocks.optimizer_on_cpu)."""
        return self._call("blocks.optimizer_on_cpu", optimizer_name, params, checkpoints)

    # --- TrainingBackend ---
    # Layer handles live in the process that runs the model: the structure check, layer weights and
    # activations read a Keras model in the process that runs Keras (a torch/Keras pair's Keras side always
    # runs there; only a pair's second Keras backend runs here, and it pairs with a model of the same code).
    def _elsewhere(self) -> RemoteError:
        return RemoteError(f"Keras on {self.backend} runs in a child process; its layers are read there only")

    def layers(self, model: RemoteModel, image_size: int | None = None, example: np.ndarray | None = None):
        raise self._elsewhere()

    # A user's own Keras model is an object of this process (cwtest.models.yours): never one in a child.
    def run(self, model: RemoteModel, inputs: np.ndarray, side: Side, training: bool = False):
        raise self._elsewhere()

    def layer_outputs(self, model: RemoteModel, handles: list, inputs: np.ndarray, side: Side, training: bool = False):
        raise self._elsewhere()

    def projection_gradients(self, model: RemoteModel, inputs: np.ndarray, cotangent: np.ndarray, side: Side):
        raise self._elsewhere()

    def layer_weights(self, handle) -> list[np.ndarray]:
        raise self._elsewhere()

    def set_layer_weights(self, handle, arrays: list[np.ndarray]) -> None:
        raise self._elsewhere()

    def activations(self, model: RemoteModel, handles: list, images: np.ndarray, side: Side, training: bool = False):
        raise self._elsewhere()

    def deterministic(self, side: Side, on: bool):
        return nullcontext()  # the child switches determinism on in `train`, where the knob asks for it

    def gradients(self, model: RemoteModel, images: np.ndarray, labels: np.ndarray, side: Side) -> dict:
        return self._call("gradients", model, images, labels, side)

    def build_trainable(self, arch: str, knobs: frozenset[str], side: Side, seed: int = 0) -> RemoteModel:
        return self._call("build_trainable", arch, knobs, side, seed)

    def train(self, model: RemoteModel, plan, x: np.ndarray, y: np.ndarray, knobs: frozenset[str], side: Side,
              progress):
        return self._call("train", model, plan, x, y, knobs, side, progress=progress)

    def predict(self, model: RemoteModel, x: np.ndarray, side: Side) -> np.ndarray:
        return self._call("predict", model, x, side)

    def nudge(self, model: RemoteModel) -> None:
        self._call("nudge", model)

    def save(self, model: RemoteModel, folder: Path, trial: str) -> Path:
        return self._call("save", model, folder, trial)

    def load(self, arch: str, folder: Path, trial: str, side: Side) -> RemoteModel:
        return self._call("load", arch, folder, trial, side)

    def load_published(self, root: Root, arch: str, trial: str, side: Side) -> RemoteModel:
        return self._call("load_published", root, arch, trial, side)  # a Root pickles as its path


_children: dict[str, RemoteKeras] = {}


def keras_on(backend: str) -> RemoteKeras:
    """This process's child running Keras on `backend`, started on first use and kept for the process."""
    if backend not in _children:
        _children[backend] = RemoteKeras(backend)
    return _children[backend]


if __name__ == "__main__":
    # Served from the module under its own name, so that the handles it pickles name cwtest.backends.remote.
    from cwtest.backends import remote

    remote.serve(remote._Channel(int(sys.argv[1]), int(sys.argv[2])))

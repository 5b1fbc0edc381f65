"""Keras sides, run in a child process per Keras backend.

Every Keras side runs in a child: `python -m cwtest.frameworks.child` with KERAS_BACKEND set, serving the Keras
adapter's functions and the layer suite's case runner over two pipes (a started interpreter, not multiprocessing's
spawn, which runs the parent's main script again). Keras picks its backend once per process
(cwtest.frameworks.imports), so a pair of two Keras backends needs two processes anyway; and TensorFlow keeps what
every Keras model it ran traced for the life of its process (tensorflow/tensorflow#62854), so only a process that
is replaced gives that memory back: a child is, once it has grown past RECYCLE_MB (benchmarks/memory.py). On Linux
each child is a fork of a process per backend that has imported Keras (cwtest.frameworks.forkserver), so a
replacement does not pay the import again. So the process that runs the tests holds no TensorFlow, JAX or Keras
(cwtest.frameworks.keras_in_this_process aside).

Models and their layers stay in the child and the parent holds handles to them; arguments and results cross as
pickles of numpy arrays and plain data (the exchange's cost is measured: benchmarks/train.py). A training's
progress comes back step by step, so the run's live display shows the child's side as its own.
"""

from __future__ import annotations

import gc
import itertools
import math
import os
import subprocess
import sys
import time
import traceback
import weakref
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from cwtest.core import activations
from cwtest.core.records import Read
from cwtest.frameworks import determinism, forkserver, observed
from cwtest.frameworks.imports import WITHOUT_TORCH, chosen_keras_backend, framework_versions
from cwtest.frameworks.sides import KERAS_SIDES, Side


# Set by pytest for every phase of every test: a server started under one value would be replaced at the next test's
# first replacement of its child, paying the framework's import again (6.7 s with TensorFlow, at nearly every trial
# test of the main job). A child reads nothing from it.
_PER_TEST_VARIABLES = ("PYTEST_CURRENT_TEST",)


def _environment() -> dict[str, str]:
    """The parent's environment less what changes from test to test: what a child, and the server it is forked
    from, runs under."""
    return {name: value for name, value in os.environ.items() if name not in _PER_TEST_VARIABLES}


@dataclass(frozen=True)
class RemoteModel:
    """A model that lives in a child process: what the parent passes back to the child's functions."""
    handle: int


@dataclass(frozen=True)
class RemoteLayer:
    """A layer of a model that lives in a child (a Layer's handle, cwtest.core.records): what the parent passes back
    to read or set its weights or read its output. It holds the parent's handle of its model, so that the model
    stays in the child while a layer of it is referred to."""
    model: RemoteModel
    index: int  # among the layers `layers` read
    # The activation the layer applies to its output while its model is comparable (a softmax head reads as
    # logits then), in numpy (cwtest.core.activations), for the other side's output to be read at the same point.
    activation: Callable[[np.ndarray], np.ndarray] | None = field(default=None, compare=False)


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


def served() -> dict[str, object]:
    """The functions a child serves, by name: the Keras adapter's roles and its layer-suite case runner's,
    loaded by name (cwtest.frameworks.ADAPTERS), never imported."""
    import importlib

    from cwtest.frameworks import ADAPTERS
    from cwtest.frameworks.roles import ROLES, functions

    package = ADAPTERS[KERAS_SIDES[chosen_keras_backend()]]
    adapter, cases = importlib.import_module(f"{package}.adapter"), importlib.import_module(f"{package}.cases")
    table = {name: getattr(adapter, name) for role in ROLES.values() for name in functions(role)
             if callable(getattr(adapter, name, None))}
    table.update({name: getattr(cases, name) for name in ("case_on_cpu", "optimizer_on_cpu")})
    table.update({f"cases.{name}": _served_case(adapter, getattr(cases, name)) for name in CASE_FUNCTIONS})
    return table


# The layer suite's case runner's functions a child serves as "cases.NAME" (the role Cases,
# cwtest.frameworks.roles), each on the CPU in fp32 on the child's backend: as the suite runs them.
CASE_FUNCTIONS = ("build", "layer_weights", "set_layer_weights", "is_depthwise", "forward", "gradients",
                  "optimizer_path")


def _served_case(adapter, function: Callable) -> Callable:
    """`function` of the case runner on the child's Keras side on the CPU; a registry entry (the first argument of
    `build` and `optimizer_path`) crosses the pipe by its name."""
    from cwtest.registries.layers import REGISTRY as BLOCKS
    from cwtest.registries.optimizers import REGISTRY as OPTIMIZERS

    registry = {"build": BLOCKS, "optimizer_path": OPTIMIZERS}.get(function.__name__)
    side = Side(KERAS_SIDES[chosen_keras_backend()], "cpu")

    def served(*args):
        if registry is not None:
            args = (registry[args[0]], *args[1:])
        with adapter.on(side):
            return function(*args)

    return served


def serve(connection: _Channel, table: dict[str, object] | None = None) -> None:
    """The child's loop: call the served function a message names, on the models it holds. Each result goes back
    with what the call computed under (cwtest.frameworks.observed), for the parent's report row. `table` is
    `served()`, where a fork server has imported it already."""
    if os.environ.get(determinism.ENV):  # the run switched deterministic kernels on before this child started
        determinism.switch_on(chosen_keras_backend())
    table = table or served()
    models: dict[int, object] = {}
    layers: dict[int, list] = {}  # per model, the layer objects `layers` read, in order
    made_by: dict[int, str] = {}  # per model, the served function that made it
    contexts: dict[int, ExitStack] = {}
    handles = itertools.count()

    def resolve(value):
        if isinstance(value, RemoteModel):
            return models[value.handle]
        if isinstance(value, RemoteLayer):
            return layers[value.model.handle][value.index]
        if isinstance(value, list) and value and isinstance(value[0], RemoteLayer):  # activations' handles
            return [resolve(v) for v in value]
        return value

    while True:
        try:
            message = connection.recv()
        except EOFError:  # the parent is gone
            return
        if message is None:
            return
        name, args, released = message
        whole = False  # whether a released model is an architecture's, not a layer-suite case's
        for handle in released:  # models the parent holds no handle to any more
            whole |= made_by.pop(handle, "cases.build") != "cases.build"
            models.pop(handle, None)
            layers.pop(handle, None)
        if whole:
            # A Keras model's layers and variables refer to each other: only a collection frees an architecture's
            # hundreds of MB. It takes about 0.2 s with TensorFlow loaded, so a case's model (the layer suite
            # drops one per example, each a few kB) waits for Python's own collections.
            gc.collect()
        started = time.perf_counter()
        observed.clear()
        try:
            sent, args = args, [resolve(a) for a in args]
            if name == "layers":
                result = _remote_layers(table, sent[0], args, layers)
            elif name == "enter_comparable":
                contexts[args[0]] = stack = ExitStack()
                stack.enter_context(table["comparable"](models[args[0]]))
                result = None
            elif name == "exit_comparable":
                result = contexts.pop(args[0]).close()
            elif name == "train":
                result = table["train"](*args, _ForwardedProgress(connection))
            else:
                result = table[name](*args)
            if name in MODEL_MAKERS:
                handle = next(handles)
                models[handle], made_by[handle] = result, name
                result = RemoteModel(handle)
            connection.send(("result", (result, time.perf_counter() - started, observed.recorded())))
        except Exception:
            connection.send(("error", traceback.format_exc()))


# The served functions whose result is a model: it stays in the child, and the parent gets a handle.
MODEL_MAKERS = ("build", "build_trainable", "load", "load_published", "cases.build")


def _remote_layers(table: dict, model: RemoteModel, args: list, layers: dict[int, list]) -> Read:
    """The adapter's `layers` of a model in this child, each with a RemoteLayer for a handle; the layer objects kept
    in `layers` under the model's handle, and each one's activation read while the model is comparable, as the
    layers' outputs are (cwtest.models.localize)."""
    read = table["layers"](*args)
    objects = layers[model.handle] = [layer.handle for layer in read.layers]
    with table["comparable"](args[0]):
        functions = [activations.numpy_of(getattr(layer, "activation", None)) for layer in objects]
    return Read([replace(layer, handle=RemoteLayer(model, index, function))
                 for index, (layer, function) in enumerate(zip(read.layers, functions))], read.image_size)


def _memory_mb(pid: int) -> tuple[float, float]:
    """A process's resident memory now and its peak so far, in MB (Linux's /proc; nan elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return math.nan, math.nan
    found = dict(line.split(":", 1) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM")))
    return tuple(float(found.get(key, "nan kB").split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))


class RemoteKeras:
    """The Keras adapter (cwtest.adapters.keras.adapter) on Keras's `backend`, in a child process: the roles it can
    serve across a pipe (cwtest.frameworks.roles), and the layer suite's cases by registry name."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.exchange_seconds = 0.0  # wall time of the calls less the child's time in them: pickling and pipes
        self.started = 0  # the processes started so far: the first, and each that replaced one
        self.retired_peak_mb = 0.0  # the largest peak of a process this one replaced
        # The process each replacement is forked from, with Keras imported (cwtest.frameworks.forkserver).
        self._server: forkserver.ForkServer | None = None
        self._start()

    def _start(self) -> None:
        child_reads, parent_writes = os.pipe()
        parent_reads, child_writes = os.pipe()
        env = {**_environment(), "KERAS_BACKEND": self.backend, **({WITHOUT_TORCH: "1"} if self.backend != "torch" else {})}
        if not forkserver.AVAILABLE:
            self._process = subprocess.Popen([sys.executable, "-m", "cwtest.frameworks.child", str(child_reads),
                                              str(child_writes)], pass_fds=(child_reads, child_writes), env=env)
        else:
            if self._server is None or not self._server.running or self._server.env != env:
                if self._server is not None:
                    self._server.close()
                self._server = forkserver.ForkServer("cwtest.frameworks.child", env)
            self._process = self._server.fork(child_reads, child_writes)
        os.close(child_reads)
        os.close(child_writes)
        self._connection = _Channel(parent_reads, parent_writes)
        self.started += 1
        self._fresh_mb: float | None = None  # what it holds with its server at its first call (_renewed)
        # Handles the parent dropped, sent with the next call so that the child frees their models: a
        # finalizer only appends here (it may run in the middle of a call), and a suite's trained models
        # would otherwise stay in the child for the whole session. A handle names a model of one process only.
        self._released: list[int] = []
        self._live: set[int] = set()  # the handles the parent still holds

    def _dropped(self, process: int, handle: int) -> None:
        if process == self._process.pid:  # a model of a process since replaced went with it
            self._released.append(handle)
            self._live.discard(handle)

    @property
    def holds_models(self) -> bool:
        """Whether the parent still refers to a model that lives in the child."""
        return bool(self._live)

    def memory_mb(self) -> tuple[float, float]:
        """The child's resident memory now and its peak so far, in MB (Linux's /proc; nan elsewhere)."""
        return _memory_mb(self._process.pid)

    def server_mb(self) -> float:
        """The resident memory of the fork server the child came from, in MB (0 where there is none)."""
        return _memory_mb(self._server.pid)[0] if self._server is not None and self._server.running else 0.0

    def _renewed(self) -> None:
        """A fresh process in place of this one where it has grown past RECYCLE_MB and holds no model the parent
        refers to (or has ended): the parent's references to this object stay good."""
        # A forked child's resident set holds only the pages it has touched of what its server imported: with the
        # server's, it is what a started child that imported Keras itself holds (errs high), so that the bound
        # replaces a child after as many trainings either way (one VGG16 training on TensorFlow).
        held = self.memory_mb()[0] + self.server_mb()
        if self._fresh_mb is None:
            self._fresh_mb = held
        # A child that starts past the bound (Keras on torch: its server 0.98 GB and a fresh child 0.56 GB) may grow
        # by RECYCLE_GROWTH_MB first: else every call would replace it.
        if self.running and (self.holds_models or not held > max(RECYCLE_MB, self._fresh_mb + RECYCLE_GROWTH_MB)):
            return
        self.retired_peak_mb = max(self.retired_peak_mb, self.memory_mb()[1] + self.server_mb())
        self._end_process()
        self._start()

    def _call(self, name: str, *args, progress=None):
        self._renewed()
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
            result, child_seconds, computed_under = value
            self.exchange_seconds += time.perf_counter() - started - child_seconds
            for side, (precision, deterministic) in computed_under.items():
                observed.record(side, precision, deterministic)
            if isinstance(result, RemoteModel):
                self._live.add(result.handle)
                weakref.finalize(result, self._dropped, self._process.pid, result.handle)
            return result

    def _end_process(self) -> None:
        if self._process.poll() is None:
            self._connection.send(None)
            self._process.wait(timeout=30)

    def close(self) -> None:
        """Ends the child and the fork server it came from."""
        self._end_process()
        if self._server is not None:
            self._server.close()
            self._server = None

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    # --- Runner, Weights, Gradients ---
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

    # --- the layer suite's cases (cwtest.frameworks.roles.Cases), by registry name ---
    def case_on_cpu(self, block_name: str, params: dict, weights: dict[str, list[np.ndarray]], check: str,
                    cotangent: np.ndarray | None, kept: list[str] = ()):
        """A layer-suite case in the child (cwtest.adapters.keras.cases.case_on_cpu)."""
        return self._call("case_on_cpu", block_name, params, weights, check, cotangent, list(kept))

    def optimizer_on_cpu(self, optimizer_name: str, params: dict, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
        """An optimizer case in the child (cwtest.adapters.keras.cases.optimizer_on_cpu)."""
        return self._call("optimizer_on_cpu", optimizer_name, params, checkpoints)

    # --- Layers: handles to the layers of a model in the child (RemoteLayer) ---
    def layers(self, model: RemoteModel, image_size: int | None = None, example: np.ndarray | None = None) -> Read:
        read = self._call("layers", model, image_size, example)
        # Each handle holds this process's RemoteModel (the one whose finalizer frees the model in the child).
        return Read([replace(layer, handle=replace(layer.handle, model=model)) for layer in read.layers],
                    read.image_size)

    def layer_weights(self, handle: RemoteLayer) -> list[np.ndarray]:
        return self._call("layer_weights", handle)

    def set_layer_weights(self, handle: RemoteLayer, arrays: list[np.ndarray]) -> None:
        self._call("set_layer_weights", handle, arrays)

    def activations(self, model: RemoteModel, handles: list[RemoteLayer], images: np.ndarray, side: Side,
                    training: bool = False) -> list[np.ndarray]:
        return self._call("activations", model, list(handles), images, side, training)

    @property
    def cases(self) -> "RemoteCases":
        """The layer suite's case runner on this child's backend (the role Cases)."""
        return RemoteCases(self)

    # Training, checkpoints, published loading. A user's models are not served: a user's Keras model is an object
    # of the user's process (cwtest.models.yours).
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

    def load_published(self, arch: str, stored: object, shown: str, side: Side) -> RemoteModel:
        return self._call("load_published", arch, stored, shown, side)


class RemoteCases:
    """The layer suite's Keras case runner (cwtest.adapters.keras.cases: the role Cases) in a child, on the CPU in
    fp32; its models stay there. A registry entry crosses by its name."""

    def __init__(self, child: RemoteKeras) -> None:
        self._child = child

    def build(self, block, params: dict, kept: frozenset) -> RemoteModel:
        return self._child._call("cases.build", block.name, params, kept)

    def layer_weights(self, model: RemoteModel, name: str) -> list[np.ndarray]:
        return self._child._call("cases.layer_weights", model, name)

    def set_layer_weights(self, model: RemoteModel, name: str, arrays: list[np.ndarray]) -> None:
        self._child._call("cases.set_layer_weights", model, name, arrays)

    def is_depthwise(self, model: RemoteModel, name: str) -> bool:
        return self._child._call("cases.is_depthwise", model, name)

    def forward(self, model: RemoteModel, xs: list[np.ndarray], training: bool) -> np.ndarray:
        return self._child._call("cases.forward", model, xs, training)

    def gradients(self, model: RemoteModel, names: list[str], xs: list[np.ndarray], cotangent: np.ndarray,
                  training: bool) -> tuple[list[np.ndarray], dict[str, list[np.ndarray]]]:
        return self._child._call("cases.gradients", model, names, xs, cotangent, training)

    def optimizer_path(self, entry, theta: np.ndarray, gradients: np.ndarray, params: dict, kept: frozenset,
                       checkpoints: tuple[int, ...]) -> list[np.ndarray]:
        return self._child._call("cases.optimizer_path", entry.name, theta, gradients, params, kept, checkpoints)

    def case_on_cpu(self, block_name: str, params: dict, weights: dict[str, list[np.ndarray]], check: str,
                    cotangent: np.ndarray | None, kept: list[str] = ()):
        return self._child.case_on_cpu(block_name, params, weights, check, cotangent, kept)

    def optimizer_on_cpu(self, optimizer_name: str, params: dict, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
        return self._child.optimizer_on_cpu(optimizer_name, params, checkpoints)


# A child is replaced by a fresh one once it has grown past this, at the first call that finds it holding no model
# the parent still refers to. TensorFlow keeps about 380 MB of every Keras training whose step is a tf.function,
# whatever refers to it (tensorflow/tensorflow#62854; benchmarks/memory.py), so a child that trains is the only
# way to give it back. A fresh child is a fork of its backend's fork server: it costs the fork and Keras's
# first-use work, not the import (about 4.5 s of a VGG16 training's 8 on TensorFlow; benchmarks/memory.py).
RECYCLE_MB = 1500.0
# How much a child that starts past RECYCLE_MB may grow before it is replaced: what a child on TensorFlow, which
# starts at 1.13 GB with its server, may grow by under RECYCLE_MB (measured: 1,129 MB, so 371 MB; one VGG16
# training's retained 380 MB replaces either).
RECYCLE_GROWTH_MB = 370.0
_children: dict[str, RemoteKeras] = {}


def keras_on(backend: str) -> RemoteKeras:
    """This process's child running Keras on `backend`: started on first use and kept for the process (it replaces
    its own process past RECYCLE_MB)."""
    if backend not in _children:
        _children[backend] = RemoteKeras(backend)
    return _children[backend]


def children_peak_mb() -> float:
    """The peak resident memory of this process's Keras children so far, in MB, each with its fork server's (the
    pages a child shares with its server count in both: errs high): the sum of the running ones' peaks, or the
    largest a replaced one reached if that was more (0 where none ever started)."""
    running = sum(peak + c.server_mb() for c, (_, peak) in ((c, c.memory_mb()) for c in _children.values() if c.running)
                  if peak == peak)
    return max(running, *(c.retired_peak_mb for c in _children.values()), 0.0)


def preload() -> dict[str, object]:
    """What a fork server (cwtest.frameworks.forkserver) imports for the children it forks: Keras on its backend
    (the adapter imports it at first use) and the served functions."""
    from cwtest.frameworks import imports, keras_in_this_process

    imports.keras()
    with keras_in_this_process():
        return served()


def run_forked(inbox: int, outbox: int, table: dict[str, object] | None) -> None:
    """A child's loop, in a fork of a fork server that ran `preload` (its `table`), or in a started interpreter."""
    from cwtest.frameworks import keras_in_this_process

    with keras_in_this_process():  # a child serves its Keras itself, never through a child of its own
        serve(_Channel(inbox, outbox), table)


if __name__ == "__main__":
    # Served from the module under its own name, so that the handles it pickles name cwtest.frameworks.child.
    from cwtest.frameworks import child

    child.run_forked(int(sys.argv[1]), int(sys.argv[2]), None)

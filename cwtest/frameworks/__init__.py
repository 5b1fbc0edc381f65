"""The interface to the frameworks: sides and their grammar, the adapters' roles (cwtest.frameworks.roles),
dispatch to an adapter by name, plugins, imports in a safe order, precision and determinism modes, and the
child processes that run Keras.

An adapter is a module of functions per framework (cwtest.adapters.<framework>.adapter, or a plugin's module,
cwtest.frameworks.plugins), loaded by name here and never imported by the rest of cwtest. A Keras side is served
by a child process per Keras backend (cwtest.frameworks.child), behind the same roles, so that the process that
runs the tests holds no TensorFlow; inside `keras_in_this_process`, Keras on this process's backend runs here,
for a model that is an object of this process (a user's: cwtest.models.yours).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
from typing import Iterator

from cwtest.core.errors import InputError
from cwtest.frameworks import plugins
from cwtest.frameworks.imports import chosen_keras_backend
from cwtest.frameworks.roles import TRAINING_ROLES, roles_of
from cwtest.frameworks.sides import KERAS_BACKENDS, Side

# Side framework -> its adapter's subpackage: one serves Keras on each of Keras's own backends. Each holds
# `adapter` (the roles), `models` (the architectures' builders), and where it takes part in the layer suite
# `blocks` (the registries' builders) and `cases` (a case's run).
ADAPTERS = {"torch": "cwtest.adapters.torch", "onnxruntime": "cwtest.adapters.onnxruntime"} | {
    framework: "cwtest.adapters.keras" for framework in KERAS_BACKENDS}
TRAINABLE = ("torch", *KERAS_BACKENDS)  # the frameworks whose adapters implement TRAINING_ROLES
# The layer suite measures every case against torch's run of it (ReferenceCases); Keras is the side measured.
REFERENCE_CASES = "torch"


def _module(framework: str) -> str:
    if framework in ADAPTERS:
        return f"{ADAPTERS[framework]}.adapter"
    name = plugins.module_name(framework)
    if name is None:
        raise NotImplementedError(f"no adapter for {framework} yet")
    return name


def trainable(framework: str) -> bool:
    """Whether the framework's adapter trains: cwtest's own by the table, a plugin's by the roles it implements
    (read from the module without importing any framework)."""
    plugin = plugins.registered().get(framework)
    if plugin is None:
        return framework in TRAINABLE
    return set(TRAINING_ROLES) <= set(roles_of(plugin))


_KERAS_HERE = contextvars.ContextVar("keras_here", default=False)


@contextlib.contextmanager
def keras_in_this_process() -> Iterator[None]:
    """Inside, a Keras side on the backend this process runs Keras on is served by its adapter here, not by a child:
    for a Keras model that is an object of this process (a user's, a published model opened as one)."""
    token = _KERAS_HERE.set(True)
    try:
        yield
    finally:
        _KERAS_HERE.reset(token)


def _keras_child(keras_backend: str | None):
    """The child that serves Keras on `keras_backend`, or None where the side runs here."""
    if keras_backend is None or (_KERAS_HERE.get() and keras_backend == chosen_keras_backend()):
        return None
    from cwtest.frameworks.child import keras_on

    return keras_on(keras_backend)


def adapter_for(side: Side | str):
    """The adapter of a side, or of a framework named as in a side ("torch", "keras-jax", ...); a plugin's
    (cwtest.frameworks.plugins) for the frameworks installed packages add. A Keras side's is its backend's child
    process (cwtest.frameworks.child), outside `keras_in_this_process`."""
    framework = side if isinstance(side, str) else side.framework
    module = _module(framework)
    return _keras_child(KERAS_BACKENDS.get(framework)) or importlib.import_module(module)


def case_runner(api: str):
    """The layer suite's case runner of the model code `api` names ("torch" or "keras"): torch's in this process,
    Keras's in the child of the backend this process would run Keras on (outside `keras_in_this_process`)."""
    child = _keras_child(chosen_keras_backend()) if api == "keras" else None
    return child.cases if child is not None else importlib.import_module(f"cwtest.adapters.{api}.cases")


def versions_of(side: Side) -> dict[str, str]:
    """What the side runs on and its version: its adapter's `versions`, called directly, since reading
    installed versions needs no framework of its own process (nor a child for a second Keras)."""
    return importlib.import_module(_module(side.framework)).versions(side)


def trainer_for(side: Side):
    """The side's adapter, which must train (TRAINING_ROLES; tests/test_adapters.py checks each in TRAINABLE). A
    Keras side trains in a child process, whichever Keras backend it runs on: TensorFlow keeps what each training
    traced for the life of the process, and only a child that is replaced gives it back (cwtest.frameworks.child).
    Its models live there: read them through this adapter, and checkpoints through `adapter_for`."""
    if not trainable(side.framework):
        raise InputError(f"--crossedwires-pair: {side.framework} cannot train (trainable: {', '.join(TRAINABLE)})")
    if side.keras_backend is not None:
        from cwtest.frameworks.child import keras_on

        return keras_on(side.keras_backend)  # also inside keras_in_this_process
    return adapter_for(side)

"""Every backend module implements its protocol, parameter for parameter; so does the child-process
Keras backend; and only the backends import the frameworks they run."""

import importlib
import inspect

import pytest

from pathlib import Path

from cwtest.backends import BACKENDS, TRAINABLE, Backend, TrainingBackend
from cwtest.backends.remote import RemoteKeras


def _methods(protocol) -> dict[str, list[str]]:
    """The protocol's functions and their parameters (without self), its bases' included."""
    found = {}
    for klass in reversed(protocol.__mro__):
        for name, member in vars(klass).items():
            if inspect.isfunction(member) and not name.startswith("_"):
                found[name] = list(inspect.signature(member).parameters)[1:]
    return found


def _implements(implementation, protocol, label: str) -> None:
    for name, parameters in _methods(protocol).items():
        function = getattr(implementation, name, None)
        assert callable(function), f"{label} has no {name}()"
        signature = inspect.signature(function)
        taken = list(signature.parameters)[1 if inspect.isclass(implementation) else 0:]
        assert taken[:len(parameters)] == parameters, f"{label}.{name}{signature} does not take {parameters}"


@pytest.mark.parametrize("framework", sorted(BACKENDS))
def test_backend_implements_its_protocol(framework):
    protocol = TrainingBackend if framework in TRAINABLE else Backend
    _implements(importlib.import_module(BACKENDS[framework]), protocol, BACKENDS[framework])


def test_child_process_keras_implements_the_training_protocol():
    _implements(RemoteKeras, TrainingBackend, "RemoteKeras")


# Where each framework may be imported: its backend module, the modules that set its process-wide modes,
# and the import-order guard. (torch also builds the torchvision models and the layer registry's torch
# twins outside the backends: the architecture and block registries hold both frameworks' builders.)
FRAMEWORK_HOMES = {
    "tensorflow": {"backends/frameworks.py", "backends/keras_backend.py", "backends/determinism.py",
                   "backends/precision.py"},
    "jax": {"backends/keras_backend.py", "backends/precision.py"},
}


@pytest.mark.parametrize("framework", sorted(FRAMEWORK_HOMES))
def test_only_the_backends_import_the_framework(framework):
    package = Path(__file__).parents[1] / "cwtest"
    imports = (f"import {framework}", f"from {framework}", f"frameworks.{framework}()")
    found = {str(path.relative_to(package)) for path in package.rglob("*.py")
             if any(line.strip().startswith(imports) or f"frameworks.{framework}()" in line
                    for line in path.read_text().splitlines())}
    outside = sorted(found - FRAMEWORK_HOMES[framework])
    assert not outside, f"{framework} imported outside its homes: {outside}"

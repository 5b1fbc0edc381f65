"""Every backend module implements its protocol, parameter for parameter; so does the child-process
Keras backend, which frees the models the parent drops; and only the backends import the frameworks they run."""

import gc
import importlib
import inspect
import re
from pathlib import Path

import pytest

from cwtest.backends import BACKENDS, TRAINABLE, Backend, TrainingBackend
from cwtest.backends.remote import RemoteError, RemoteKeras, RemoteModel
from cwtest.backends.sides import Side


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


def test_the_child_frees_a_model_whose_handle_the_parent_dropped():
    child = RemoteKeras("jax")
    try:
        model = child.build("vgg16", Side("keras-jax", "cpu"))
        kept = RemoteModel(model.handle)  # the same handle as plain data, without a finalizer of its own
        assert child.weights(kept)
        del model
        gc.collect()
        with pytest.raises(RemoteError, match="KeyError"):
            child.weights(kept)  # the call carried the release, and the child had freed the model
    finally:
        child.close()


# Where each framework may be imported: the backends package, and the catalogued defects' reproducers, which
# are standalone programs for a framework's issue tracker (cwtest.findings.defects), not modules of cwtest.
FRAMEWORKS = ("torch", "torchvision", "tensorflow", "keras", "jax", "onnxruntime", "onnx")
HOMES = ("backends/", "findings/reproducers/")


def _imports(line: str, framework: str) -> bool:
    line = line.strip()
    return (line.startswith((f"import {framework}", f"from {framework} ", f"from {framework}."))
            or f"frameworks.{framework}()" in line)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_only_the_backends_import_the_framework(framework):
    package = Path(__file__).parents[1] / "cwtest"
    found = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                   if any(_imports(line, framework) for line in path.read_text().splitlines()))
    outside = [name for name in found if not name.startswith(HOMES)]
    assert not outside, f"{framework} imported outside the backends: {outside}"


def test_the_check_finds_an_import():
    assert _imports("    import torch.nn as nn", "torch") and _imports("from keras import ops", "keras")
    assert _imports("keras = frameworks.keras()", "keras") and not _imports("from cwtest.backends import torch_blocks", "torch")


def test_outside_the_backends_no_framework_name_is_compared():
    package = Path(__file__).parents[1] / "cwtest"
    names = "|".join(f'"{name}"' for name in ("torch", "tensorflow", "keras", "jax", "onnxruntime"))
    comparison = re.compile(rf"(==|!=|\bin)\s*\(?\{{?({names})|({names})\s*(==|!=)")
    found = [f"{path.relative_to(package)}:{number}: {line.strip()}"
             for path in package.rglob("*.py") if not str(path.relative_to(package)).startswith(HOMES)
             for number, line in enumerate(path.read_text().splitlines(), 1) if comparison.search(line)]
    assert not found, "framework names compared outside the backends:\n" + "\n".join(found)

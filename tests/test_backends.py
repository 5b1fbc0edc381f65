"""Every backend module implements its protocol, parameter for parameter."""

import importlib
import inspect

import pytest

from cwtest.backends import BACKENDS, TRAINABLE, Backend, TrainingBackend


def _methods(protocol) -> dict[str, list[str]]:
    """The protocol's functions and their parameters (without self), its bases' included."""
    found = {}
    for klass in reversed(protocol.__mro__):
        for name, member in vars(klass).items():
            if inspect.isfunction(member) and not name.startswith("_"):
                found[name] = list(inspect.signature(member).parameters)[1:]
    return found


@pytest.mark.parametrize("framework", sorted(BACKENDS))
def test_backend_implements_its_protocol(framework):
    module = importlib.import_module(BACKENDS[framework])
    protocol = TrainingBackend if framework in TRAINABLE else Backend
    for name, parameters in _methods(protocol).items():
        function = getattr(module, name, None)
        assert callable(function), f"{BACKENDS[framework]} has no {name}()"
        assert list(inspect.signature(function).parameters)[:len(parameters)] == parameters, (
            f"{BACKENDS[framework]}.{name}{inspect.signature(function)} does not take {parameters}")

"""The layer suite's parameter tables (cwtest.registries.layer_arguments, cwtest.registries.optimizer_arguments)
cover every argument of every layer and optimizer the registries build, on the installed torch and Keras: a release
that adds an argument fails here until its table says how the argument is drawn or why it is out of scope."""

from __future__ import annotations

import importlib
import inspect

import pytest

from cwtest.frameworks import imports
from cwtest.registries.layer_arguments import ARGUMENTS, COMPOSED, DTYPE, tables_of
from cwtest.registries.layers import BLOCKS
from cwtest.registries.optimizer_arguments import OPTIMIZER_ARGUMENTS
from cwtest.registries.optimizers import OPTIMIZERS

pytestmark = pytest.mark.usefixtures("keras_here")  # Keras's layers are read in this process

LAYERS = [(block, path) for block, layers in ARGUMENTS.items() for path in layers]
OPTIMIZER_PATHS = [(key, path) for key, optimizers in OPTIMIZER_ARGUMENTS.items() for path in optimizers]


def _resolve(path: str):
    module, name = path.rsplit(".", 1)
    if module.partition(".")[0] == "keras":
        # Keras's backend after torch, torchvision and Triton: a test later in this process that imports torchvision
        # after TensorFlow crashes it (cwtest.frameworks.imports).
        imports.keras()
    return getattr(importlib.import_module(module), name)


def arguments_of(path: str) -> set[str]:
    """The named arguments a layer's constructor (or a function) takes; **kwargs (Keras's name, dtype,
    trainable) are every layer's: name and trainable are not drawn, dtype is as torch's (DTYPE)."""
    target = _resolve(path)
    signature = inspect.signature(target.__init__ if inspect.isclass(target) else target)
    return {name for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


@pytest.mark.parametrize("block, path", LAYERS, ids=[f"{b}-{p}" for b, p in LAYERS])
def test_the_table_mentions_every_argument_of_the_layer(block, path):
    missing = arguments_of(path) - set(ARGUMENTS[block][path])
    assert not missing, (f"{path} takes {sorted(missing)}, which the {block!r} table of "
                         f"cwtest/registries/layer_arguments.py does not mention: draw it, or say why it is out of scope")


@pytest.mark.parametrize("key, path", OPTIMIZER_PATHS, ids=[f"{k}-{p}" for k, p in OPTIMIZER_PATHS])
def test_the_table_mentions_every_argument_of_the_optimizer(key, path):
    missing = arguments_of(path) - set(OPTIMIZER_ARGUMENTS[key][path])
    assert not missing, (f"{path} takes {sorted(missing)}, which the {key!r} table of "
                         f"cwtest/registries/optimizer_arguments.py does not mention: draw it, or say why it is out of scope")


def test_every_registry_optimizer_has_tables_for_both_frameworks():
    for entry in OPTIMIZERS:
        frameworks = {path.split(".")[0] for path in OPTIMIZER_ARGUMENTS.get(entry.builds, {})}
        assert frameworks == {"torch", "keras"}, f"{entry.name}: tables for {sorted(frameworks)} only"


def test_every_registry_block_has_tables_for_both_frameworks():
    for block in BLOCKS:
        tables = tables_of(block.name)
        assert all(t in ARGUMENTS for t in tables), f"{block.name}: no table among {tables}"
        frameworks = {path.split(".")[0] for t in tables for path in ARGUMENTS[t]}
        assert "keras" in frameworks, f"{block.name}: no Keras layer in its tables"
    assert set(COMPOSED) <= {block.name for block in BLOCKS}, "a composed entry names no registry block"


def test_a_new_argument_would_fail_the_table():
    table = {name: how for name, how in ARGUMENTS["conv2d"]["torch.nn.Conv2d"].items() if name != "padding_mode"}
    assert arguments_of("torch.nn.Conv2d") - set(table) == {"padding_mode"}


def test_dtype_is_drawn_wherever_a_layer_takes_one():
    takes = [(block, path) for block, path in LAYERS if "dtype" in arguments_of(path)]
    assert takes and all(ARGUMENTS[block][path]["dtype"] == DTYPE for block, path in takes)
    assert DTYPE.startswith("drawn")

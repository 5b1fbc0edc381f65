"""Adapters from other packages: the `cwtest.adapters` entry-point group.

An installed package adds a side's framework by naming a module in its metadata:

    [project.entry-points."cwtest.adapters"]
    torch-inductor = "cwtest_inductor"

The entry point's name is the framework as sides spell it (`--crossedwires-pair torch:cpu,torch-inductor:cpu`);
the module is an adapter: it implements the roles it offers (cwtest.frameworks.roles: `Runner` at least; a suite
that needs a role the module lacks skips, naming it; one that has every role of TRAINING_ROLES trains) and says, as
module attributes, whose model code it runs (`API`: "torch" for torchvision's models, "keras" for
keras.applications'), its devices (`DEVICES`, a tuple; leave it out for any) and precisions (`PRECISIONS`,
default fp32 only). An adapter of torch's model code may give `prepare(module, side)`: the torch module
as the side runs it (compiled, say), used wherever the suites run a torch module (the layer suite's blocks
as well as the models). Like cwtest's own adapters, the module imports its framework inside functions:
cwtest reads its attributes while parsing the options, and collection imports neither torch nor TensorFlow.
"""

from __future__ import annotations

import functools
import importlib
from importlib import metadata
from types import ModuleType

from cwtest.core.errors import InputError

GROUP = "cwtest.adapters"


@functools.cache
def registered() -> dict[str, ModuleType]:
    """Framework name -> its plugin's adapter module, for every installed package that adds one."""
    found = {}
    for entry in metadata.entry_points(group=GROUP):
        try:
            module = importlib.import_module(entry.value)
        except Exception as exc:  # a broken plugin is the user's to fix, named, not a traceback
            raise InputError(f"the {GROUP} entry point {entry.name} = {entry.value} does not import: "
                             f"{type(exc).__name__}: {exc}") from None
        if not isinstance(getattr(module, "API", None), str):
            raise InputError(f"the {GROUP} entry point {entry.name} = {entry.value} says no API (whose model code "
                             f"it runs: API = \"torch\", \"keras\", ...)")
        found[entry.name] = module
    return found


def module_name(framework: str) -> str | None:
    module = registered().get(framework)
    return module.__name__ if module is not None else None

"""The frameworks: sides and their grammar, imports in a safe order, precision and determinism modes,
versions, and per framework an adapter (`*_side`) and a trainer (`*_training`).

An adapter builds a model for a side and runs it on uint8 NHWC images; adding a framework is one new
module with the same three functions (`available(side)`, `build(arch, side)`, `forward(model, images,
side)`), named in `MODULES`.
"""

from __future__ import annotations

import importlib

MODULES = {"torch": "cwtest.backends.torch_side", "tensorflow": "cwtest.backends.keras_side",
           "onnxruntime": "cwtest.backends.onnxruntime_side"}


def adapter_for(framework: str):
    if framework not in MODULES:
        raise NotImplementedError(f"no adapter for {framework} yet")
    return importlib.import_module(MODULES[framework])

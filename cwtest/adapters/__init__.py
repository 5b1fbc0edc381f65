"""One small adapter per framework: build a model for a side, run it on uint8 NHWC images.

Adding a framework is one new module with the same three functions
(`available(side)`, `build(arch, side)`, `forward(model, images, side)`).
"""

from __future__ import annotations

import importlib

MODULES = {"torch": "cwtest.adapters.torch_side", "tensorflow": "cwtest.adapters.keras_side",
           "onnxruntime": "cwtest.adapters.onnxruntime_side"}


def adapter_for(framework: str):
    if framework not in MODULES:
        raise NotImplementedError(f"no adapter for {framework} yet")
    return importlib.import_module(MODULES[framework])

"""Structural equivalence of a torch model and a Keras model, layer by layer.

Each side is read as its layers that hold weights (conv, dense, batchnorm), with what
decides whether weights can move between them and give the same function: kind, output
shape (per sample, channels last), parameter count (BatchNorm statistics included, as a
transfer copies them), stride, padding (top, bottom, left, right, Keras's ZeroPadding2D
folded into the conv it feeds) and bias. Layers are paired by name where the flavour
translates torch names to Keras names, else by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

# The fields two paired layers must agree on; `Mismatch.field` is one of these, or
# "missing" for a layer with no counterpart on the other side.
FIELDS = ("kind", "output_shape", "parameters", "stride", "padding", "bias")


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str  # conv | dense | batchnorm, or the class name of any other layer with weights
    output_shape: tuple[int, ...]
    parameters: int
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | None = None
    bias: bool | None = None
    # Keras only: the (H, W, C) map a Flatten turned into this dense layer's input.
    flattened: tuple[int, ...] | None = None
    handle: object = field(default=None, compare=False, repr=False)  # the framework's layer object


@dataclass(frozen=True)
class Mismatch:
    torch_name: str
    keras_name: str
    field: str
    torch_value: object
    keras_value: object

    def __str__(self) -> str:
        return f"{self.torch_name} / {self.keras_name}: {self.field} {self.torch_value} vs {self.keras_value}"


@dataclass(frozen=True)
class Comparison:
    pairs: tuple[tuple[Layer, Layer], ...]
    mismatches: tuple[Mismatch, ...]

    @property
    def equivalent(self) -> bool:
        return not self.mismatches


def torch_layers(model, image_size: int) -> list[Layer]:
    import torch
    import torch.nn as nn

    kinds = {nn.Conv2d: "conv", nn.Linear: "dense", nn.BatchNorm2d: "batchnorm"}
    modules = [(n, m) for n, m in model.named_modules()
               if not list(m.children()) and any(True for _ in m.parameters(recurse=False))]
    shapes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:])))
             for n, m in modules]
    device = next(model.parameters()).device
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 3, image_size, image_size, device=device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    found = []
    for name, module in modules:
        shape = shapes[name]
        channels_last = (*shape[1:], shape[0]) if len(shape) == 3 else shape
        count = sum(p.numel() for p in module.parameters()) + sum(
            b.numel() for n, b in module.named_buffers() if n in ("running_mean", "running_var"))
        kind = kinds.get(type(module), type(module).__name__)
        conv = kind == "conv"
        found.append(Layer(
            name, kind, channels_last, count,
            stride=tuple(module.stride) if conv else None,
            padding=(module.padding[0], module.padding[0], module.padding[1], module.padding[1]) if conv else None,
            bias=module.bias is not None if kind in ("conv", "dense") else None,
            handle=module))
    return found


def _inbound(layer):
    """The layer that feeds `layer` in a functional Keras model."""
    return layer.input._keras_history.operation


def _keras_padding(layer) -> tuple[int, ...]:
    pad = [0, 0, 0, 0]
    source = _inbound(layer)
    if type(source).__name__ == "ZeroPadding2D":
        (top, bottom), (left, right) = source.padding
        pad = [top, bottom, left, right]
    if layer.padding == "same":
        for axis, size in enumerate(layer.input.shape[1:3]):
            stride, kernel = layer.strides[axis], layer.kernel_size[axis]
            total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
            pad[2 * axis] += total // 2  # TensorFlow puts the odd pixel at the bottom/right
            pad[2 * axis + 1] += total - total // 2
    return tuple(pad)


def keras_layers(model) -> list[Layer]:
    kinds = {"Conv2D": "conv", "Dense": "dense", "BatchNormalization": "batchnorm"}
    found = []
    for layer in model.layers:
        if not layer.weights:
            continue
        kind = kinds.get(type(layer).__name__, type(layer).__name__)
        flattened = None
        if kind == "dense" and type(_inbound(layer)).__name__ == "Flatten":
            flattened = tuple(_inbound(layer).input.shape[1:])
        found.append(Layer(
            layer.name, kind, tuple(layer.output.shape[1:]), int(sum(np.prod(w.shape) for w in layer.weights)),
            stride=tuple(layer.strides) if kind == "conv" else None,
            padding=_keras_padding(layer) if kind == "conv" else None,
            bias=layer.use_bias if kind in ("conv", "dense") else None,
            flattened=flattened, handle=layer))
    return found


def pair_layers(torch_side: list[Layer], keras_side: list[Layer],
                keras_name: Callable[[str], str] | None) -> tuple[list[tuple[Layer, Layer]], list[Mismatch]]:
    if keras_name is None:
        pairs = list(zip(torch_side, keras_side))
        unpaired_torch, unpaired_keras = torch_side[len(pairs):], keras_side[len(pairs):]
    else:
        by_name = {layer.name: layer for layer in keras_side}
        pairs = [(t, by_name[keras_name(t.name)]) for t in torch_side if keras_name(t.name) in by_name]
        paired = {k.name for _, k in pairs}
        unpaired_torch = [t for t in torch_side if keras_name(t.name) not in by_name]
        unpaired_keras = [k for k in keras_side if k.name not in paired]
    missing = [Mismatch(t.name, "-", "missing", t.kind, None) for t in unpaired_torch]
    missing += [Mismatch("-", k.name, "missing", None, k.kind) for k in unpaired_keras]
    return pairs, missing


def compare(torch_model, keras_model, keras_name: Callable[[str], str] | None = None) -> Comparison:
    image_size = int(keras_model.input_shape[1])
    pairs, mismatches = pair_layers(torch_layers(torch_model, image_size), keras_layers(keras_model), keras_name)
    for t, k in pairs:
        for name in FIELDS:
            if getattr(t, name) != getattr(k, name):
                mismatches.append(Mismatch(t.name, k.name, name, getattr(t, name), getattr(k, name)))
                if name == "kind":
                    break  # the other fields of two different kinds say nothing more
    return Comparison(tuple(pairs), tuple(mismatches))


def explain(mismatches, differences) -> tuple[dict[str, list[Mismatch]], list[Mismatch]]:
    """Mismatches grouped under the known difference that explains them, and those none explains."""
    explained = {d.name: [m for m in mismatches if m.field in d.fields] for d in differences}
    covered = {f for d in differences for f in d.fields}
    return explained, [m for m in mismatches if m.field not in covered]


def summary(mismatches, limit: int = 3) -> str:
    lines = [str(m) for m in mismatches[:limit]]
    if len(mismatches) > limit:
        lines.append(f"... and {len(mismatches) - limit} more")
    return "; ".join(lines)

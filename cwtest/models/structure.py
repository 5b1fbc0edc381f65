"""Structural equivalence of a torch model and a Keras model, layer by layer.

Each side is read as its layers that hold weights (the weight map's kinds, cwtest.core.layouts: convolutions of
any rank, transposed and depthwise ones, dense, the normalizations, embeddings, attention; any other layer is a
kind of its own), with what decides whether weights can move between them and give the same function: kind,
output shape (per sample, channels last), parameter count (BatchNorm statistics included, as a transfer copies
them), stride, padding ((before, after) per spatial axis, Keras's ZeroPadding folded into the conv it feeds),
bias, and the options (groups, dilation, heads and head size). Layers are paired by name where the flavour
translates torch names to Keras names, else by position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cwtest.frameworks import adapter_for
from cwtest.core.records import Layer
from cwtest.frameworks.sides import TORCH_CPU, Side, keras_in_process

# The fields two paired layers must agree on; `Mismatch.field` is one of these, or
# "missing" for a layer with no counterpart on the other side.
FIELDS = ("kind", "output_shape", "parameters", "stride", "padding", "bias", "options")


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


def compare(torch_model, keras_model, keras_name: Callable[[str], str] | None = None,
            torch_side: Side = TORCH_CPU, keras_side: Side | None = None) -> Comparison:
    """The layers of a torch model and a Keras model paired and compared; each read by its side's adapter
    (Keras's by default on the run's first Keras backend)."""
    keras_side = keras_side or keras_in_process()
    keras_read = adapter_for(keras_side).layers(keras_model)
    torch_read = adapter_for(torch_side).layers(torch_model, keras_read.image_size)
    pairs, missing = pair_layers(torch_read.layers, keras_read.layers, keras_name)
    return Comparison(tuple(pairs), tuple(missing + field_mismatches(pairs)))


def field_mismatches(pairs) -> list[Mismatch]:
    """Every field on which two paired layers differ."""
    found = []
    for t, k in pairs:
        for name in FIELDS:
            if getattr(t, name) != getattr(k, name):
                found.append(Mismatch(t.name, k.name, name, getattr(t, name), getattr(k, name)))
                if name == "kind":
                    break  # the other fields of two different kinds say nothing more
    return found


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

"""Where two sides part: every paired layer's activation compared, first to last.

The per-layer table holds each layer's max abs and max rel error (cwtest.core.metrics)
and, as CRADLE does, the growth of the error from the previous layer,
R = (e - e_prev) / (e_prev + 1e-7): an error that is inherited grows little, one a layer
introduces jumps. The first layer over the tolerance is where to look. On a route of one model code whose source
gives float64 runs (torch's), a layer is over where its output fails the float64-referenced rule
(cwtest.models.float64_rule) as the logits do: the target's error against the float64 run beyond the multiple of
the source's own error at that layer. `profile` draws the table of
one architecture's transferred pair for `cwtest plot layers`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from cwtest.frameworks import adapter_for
from cwtest.frameworks.roles import roles_of
from cwtest.frameworks.sides import DEFAULT_PAIR, Side, keras_last, parse_pair
from cwtest.core.errors import InputError
from cwtest.core.metrics import Errors, measure
from cwtest.frameworks.precision import Mode, looser
from cwtest.models.float64_rule import judged
from cwtest.models.parity import comparable, preserved

GROWTH_FLOOR = 1e-7  # CRADLE's: keeps R finite after an exact layer


@dataclass(frozen=True)
class LayerError:
    index: int  # position among the pair's layers
    torch_name: str  # the reference side's layer: torch's, or on a route of one model code the source's
    keras_name: str  # the other side's: Keras's, or the target's (the same layer of a copy)
    errors: Errors
    growth: float
    # The other side's error against a float64 run over what the float64 rule allows at this layer (over 1 is
    # over); nan where the layer is judged by max rel against a tolerance instead.
    float64_ratio: float = math.nan

    def over(self, tolerance: float) -> bool:
        return self.float64_ratio > 1 if not math.isnan(self.float64_ratio) else self.errors.max_rel > tolerance


class Unlocatable(Exception):
    """A route whose layers cannot be read on both sides: why, in a line for the failure message."""


def matches(name: str, selector: str) -> bool:
    """`layer3` selects `layer3.0.conv1`, `conv2_block1` selects `conv2_block1_1_conv`."""
    return name == selector or name.startswith(selector + ".") or name.startswith(selector + "_")


def selected(pairs, selectors: tuple[str, ...]) -> list[int]:
    """Indices of the pairs a selection names by torch or Keras name; "all" names every pair."""
    if "all" in selectors:
        return list(range(len(pairs)))
    return [i for i, (t, k) in enumerate(pairs) if any(matches(t.name, s) or matches(k.name, s) for s in selectors)]


def layer_errors(pair, images: np.ndarray, torch_side: Side, keras_side: Side, training: bool = False,
                 indices: list[int] | None = None, route: tuple[Side, Side] | None = None) -> list[LayerError]:
    """The error of every selected paired layer's activation on one side of `route` against the other (default:
    Keras against torch). A route's side is the pair's torch model on torch, its Keras model on Keras, or the torch
    model exported on ONNX Runtime; the side measured is Keras where the route has it, else the route's target."""
    pairs = pair.structure.pairs
    indices = list(range(len(pairs))) if indices is None else indices
    if not indices:
        return []
    reference, other = keras_last(route or (torch_side, keras_side))
    chosen = [pairs[i] for i in indices]
    with preserved(pair.torch_model, pair.keras_model), comparable(pair.torch_model, torch_side), \
            comparable(pair.keras_model, keras_side):
        values = [_activations(pair, chosen, images, side, training) for side in (reference, other)]
        # Inside: a Keras layer's activation as it was while its output was read (a softmax head reads as logits).
        return compared(indices, [(_layer(reference, t, k), _layer(other, t, k)) for t, k in chosen], *values)


def _layer(side: Side, torch_layer, keras_layer):
    return keras_layer if side.runs_keras_code else torch_layer


def _activations(pair, chosen, images: np.ndarray, side: Side, training: bool) -> list[np.ndarray]:
    adapter = adapter_for(side)
    if side.runs_an_export:  # the pair's torch model, exported with the layers' outputs as graph outputs
        return adapter.layer_outputs(pair.torch_model, [t.handle for t, _ in chosen], images, side)
    model = pair.keras_model if side.runs_keras_code else pair.torch_model
    return adapter.activations(model, [_layer(side, t, k).handle for t, k in chosen], images, side, training)


def compared(indices: list[int], pairs, torch_values, keras_values) -> list[LayerError]:
    """Each paired layer's activation error, Keras against torch, and its growth from the previous one."""
    rows, previous = [], None
    for index, (t, k), torch_value, keras_value in zip(indices, pairs, torch_values, keras_values):
        # A Keras conv or dense layer may carry its activation (VGG16's ReLUs, a softmax
        # head): apply it to the torch output so that both are read at the same point (not where both
        # layers carry it: two Keras backends'). A layer in a child carries its activation in numpy.
        activation = getattr(k.handle, "activation", None)
        if activation is not None and getattr(t.handle, "activation", None) is None:
            torch_value = np.asarray(activation(torch_value))
        error = measure(torch_value, keras_value)
        growth = 0.0 if previous is None else (error.max_rel - previous) / (previous + GROWTH_FLOOR)
        rows.append(LayerError(index, t.name, k.name, error, growth))
        previous = error.max_rel
    return rows


def same_code_layer_errors(models: tuple[object, object], images: np.ndarray, source: Side, target: Side,
                           training: bool = False, mode: Mode | None = None) -> list[LayerError]:
    """The error of every weighted layer's output on the target against the same layer on the source, for a
    route of one model code (another device, precision, Keras backend or plugin): the copy has the source's
    layers, read by the target's adapter where it reads layers (the role Layers), else by the source's while
    the target's adapter runs the copy (the role ReferenceLayers: torch's forward hooks fire whoever runs the
    modules). With `mode`, and a source that runs float64 copies (the role ReferenceLogits), each layer is judged
    by the float64 rule in that mode. Raises Unlocatable, saying why, where neither can."""
    reader, runner = adapter_for(source), adapter_for(target)
    if "layers" not in roles_of(reader):
        raise Unlocatable(f"{source} reads no layers (the role Layers)")
    reference_layers = reader.layers(models[0]).layers
    with comparable(models[0], source), comparable(models[1], target):
        reference = reader.activations(models[0], [layer.handle for layer in reference_layers], images, source,
                                       training)
        if "layers" in roles_of(runner):
            target_layers = runner.layers(models[1]).layers
            values = runner.activations(models[1], [layer.handle for layer in target_layers], images, target, training)
        elif "reference layers" in roles_of(reader):
            target_layers = reader.layers(models[1]).layers
            try:
                values = reader.outputs_while([layer.handle for layer in target_layers],
                                              lambda: runner.forward(models[1], images, target, training))
            except LookupError as error:
                raise Unlocatable(f"{target}'s layers could not be read while it ran: {error}") from None
        else:
            raise Unlocatable(f"{target} reads no layers (the role Layers) and {source} cannot read them for it "
                              f"(the role ReferenceLayers)")
    if [layer.name for layer in reference_layers] != [layer.name for layer in target_layers]:
        raise Unlocatable(f"{source} and {target} read different layers from one model code")
    indices = list(range(len(reference_layers)))
    rows = compared(indices, list(zip(reference_layers, target_layers)), reference, values)
    if mode is None or "reference logits" not in roles_of(reader):
        return rows
    with comparable(models[0], source):
        exact = reader.float64_activations(models[0], [layer.handle for layer in reference_layers], images, training)
    return [replace(row, float64_ratio=judged(value, own, truth, mode, looser(source)).ratio)
            for row, value, own, truth in zip(rows, values, reference, exact)]


def located(rows: list[LayerError], limit: float, record_metric, sides: tuple[str, str] = ("torch", "keras")) -> str:
    """The per-layer table of a failure, led by the first layer over `limit`; its figures recorded as metrics."""
    first = first_over(rows, limit)
    record_metric("layers_compared", len(rows))
    record_metric("layers_over_tolerance", sum(r.over(limit) for r in rows))
    record_metric("first_layer_over_tolerance", first.index if first else -1)
    record_metric("worst_layer_max_rel", max((r.errors.max_rel for r in rows), default=0.0))
    names = first.torch_name if first and first.torch_name == first.keras_name else (
        f"{first.torch_name} / {first.keras_name}" if first else "")
    where = f"first layer over tolerance: #{first.index} {names}\n" if first else ""
    return where + table(rows, limit, sides=sides)


def first_over(rows: list[LayerError], tolerance: float) -> LayerError | None:
    return next((row for row in rows if row.over(tolerance)), None)


def table(rows: list[LayerError], tolerance: float, limit: int = 12, sides: tuple[str, str] = ("torch", "keras")) -> str:
    """The layers over the tolerance (up to `limit`, first ones first), else the worst ones; `sides` heads the
    two name columns. Rows judged by the float64 rule show their ratio to what it allows, and are over by it."""
    by_float64 = any(not math.isnan(r.float64_ratio) for r in rows)
    rule = "the float64 rule" if by_float64 else f"max rel {tolerance:g}"
    over = [r for r in rows if r.over(tolerance)]
    worst = (lambda r: -r.float64_ratio) if by_float64 else (lambda r: -r.errors.max_rel)
    shown = over[:limit] if over else sorted(rows, key=worst)[:limit]
    extra = f" {'/allowed':>9}" if by_float64 else ""
    lines = [f"{'#':>4} {sides[0] + ' layer':<34} {sides[1] + ' layer':<28} {'max abs':>9} {'max rel':>9} "
             f"{'growth':>9}{extra}"]
    lines += [f"{r.index:>4} {r.torch_name:<34} {r.keras_name:<28} {r.errors.max_abs:>9.2e} "
              f"{r.errors.max_rel:>9.2e} {r.growth:>9.2e}" + (f" {r.float64_ratio:>9.2e}" if by_float64 else "")
              for r in sorted(shown, key=lambda r: r.index)]
    title = (f"{len(over)} of {len(rows)} layers over {rule}" if over
             else f"no layer of {len(rows)} over {rule}; the worst:")
    return "\n".join([title, *lines])


# `cwtest plot layers`: the per-layer error profile of one architecture's transferred pair, the torch
# model's weights copied into the Keras model of the same flavour, both run on the same images.
TORCH, KERAS = parse_pair(DEFAULT_PAIR).left, parse_pair(DEFAULT_PAIR).right  # torch:cpu, tensorflow:cpu
IMAGES = 16


def profile(arch: str, flavour: str, images):
    """The LayerError rows, input to output, of `arch` in `flavour` on `images` (NHWC floats)."""
    from cwtest.models.structure import summary
    from cwtest.models.transfer import transferred

    pair = transferred(arch, flavour, "torch->keras", TORCH, KERAS)
    if not pair.structure.equivalent:
        raise InputError(f"--flavour: {arch} {flavour} has no common structure to copy weights through "
                         f"({summary(pair.structure.mismatches)}); try --flavour matched")
    return layer_errors(pair, images[:IMAGES], TORCH, KERAS)

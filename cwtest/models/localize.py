"""Where two sides part: every paired layer's activation compared, first to last.

The per-layer table holds each layer's max abs and max rel error (cwtest.core.metrics)
and, as CRADLE does, the growth of the error from the previous layer,
R = (e - e_prev) / (e_prev + 1e-7): an error that is inherited grows little, one a layer
introduces jumps. The first layer over the tolerance is where to look. `profile` draws the table of
one architecture's transferred pair for `cwtest plot layers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cwtest.frameworks import adapter_for
from cwtest.frameworks.sides import DEFAULT_PAIR, Side, parse_pair
from cwtest.core.errors import InputError
from cwtest.core.metrics import Errors, measure
from cwtest.models.parity import comparable, preserved

GROWTH_FLOOR = 1e-7  # CRADLE's: keeps R finite after an exact layer


@dataclass(frozen=True)
class LayerError:
    index: int  # position among the pair's layers
    torch_name: str
    keras_name: str
    errors: Errors
    growth: float


def matches(name: str, selector: str) -> bool:
    """`layer3` selects `layer3.0.conv1`, `conv2_block1` selects `conv2_block1_1_conv`."""
    return name == selector or name.startswith(selector + ".") or name.startswith(selector + "_")


def selected(pairs, selectors: tuple[str, ...]) -> list[int]:
    """Indices of the pairs a selection names by torch or Keras name; "all" names every pair."""
    if "all" in selectors:
        return list(range(len(pairs)))
    return [i for i, (t, k) in enumerate(pairs) if any(matches(t.name, s) or matches(k.name, s) for s in selectors)]


def layer_errors(pair, images: np.ndarray, torch_side: Side, keras_side: Side, training: bool = False,
                 indices: list[int] | None = None) -> list[LayerError]:
    """The error of every selected paired layer's activation, Keras against torch."""
    pairs = pair.structure.pairs
    indices = list(range(len(pairs))) if indices is None else indices
    if not indices:
        return []
    chosen = [pairs[i] for i in indices]
    with preserved(pair.torch_model, pair.keras_model), comparable(pair.torch_model, torch_side), \
            comparable(pair.keras_model, keras_side):
        torch_values = adapter_for(torch_side).activations(pair.torch_model, [t.handle for t, _ in chosen], images,
                                                           torch_side, training)
        keras_values = adapter_for(keras_side).activations(pair.keras_model, [k.handle for _, k in chosen], images,
                                                           keras_side, training)
        return compared(indices, chosen, torch_values, keras_values)


def compared(indices: list[int], pairs, torch_values, keras_values) -> list[LayerError]:
    """Each paired layer's activation error, Keras against torch, and its growth from the previous one."""
    rows, previous = [], None
    for index, (t, k), torch_value, keras_value in zip(indices, pairs, torch_values, keras_values):
        # A Keras conv or dense layer may carry its activation (VGG16's ReLUs, a softmax
        # head): apply it to the torch output so that both are read at the same point.
        activation = getattr(k.handle, "activation", None)
        if activation is not None:
            torch_value = np.asarray(activation(torch_value))
        error = measure(torch_value, keras_value)
        growth = 0.0 if previous is None else (error.max_rel - previous) / (previous + GROWTH_FLOOR)
        rows.append(LayerError(index, t.name, k.name, error, growth))
        previous = error.max_rel
    return rows


def first_over(rows: list[LayerError], tolerance: float) -> LayerError | None:
    return next((row for row in rows if row.errors.max_rel > tolerance), None)


def table(rows: list[LayerError], tolerance: float, limit: int = 12) -> str:
    """The layers over the tolerance (up to `limit`, first ones first), else the worst ones."""
    over = [r for r in rows if r.errors.max_rel > tolerance]
    shown = over[:limit] if over else sorted(rows, key=lambda r: -r.errors.max_rel)[:limit]
    lines = [f"{'#':>4} {'torch layer':<34} {'keras layer':<28} {'max abs':>9} {'max rel':>9} {'growth':>9}"]
    lines += [f"{r.index:>4} {r.torch_name:<34} {r.keras_name:<28} {r.errors.max_abs:>9.2e} "
              f"{r.errors.max_rel:>9.2e} {r.growth:>9.2e}" for r in sorted(shown, key=lambda r: r.index)]
    title = (f"{len(over)} of {len(rows)} layers over max rel {tolerance:g}" if over
             else f"no layer of {len(rows)} over max rel {tolerance:g}; the worst:")
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

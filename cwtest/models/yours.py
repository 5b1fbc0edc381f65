"""Your own models: a torch module and its Keras twin compared on your inputs, the checks the transfer
suite runs on the built-in architectures.

    from cwtest import assert_equivalent, compare_models
    result = compare_models(torch_model, keras_model, inputs, keras_inputs=inputs.transpose(0, 2, 3, 1))
    assert_equivalent(torch_model, keras_model, inputs)  # AssertionError: the per-layer table

In order: the structure (the layers that hold weights, paired by position or by `names`, each mismatch
named); the weights copied in `direction` (the weight map of cwtest.models.transfer); the outputs in
eval mode and in training mode; every parameter's gradient of one fixed random projection of the
output (a loss any model has, classifier or not), against torch's own float64 gradient as the floor;
and every paired layer's output, so that a failure names the first layer over its tolerance. The
tolerances are the transfer suite's (cwtest.registries.tolerances), each overridable per call.

Inputs are arrays as the models take them, any shape and dtype: `inputs` for torch, `keras_inputs`
for Keras (default: the same arrays; an image model usually takes NCHW in torch and NHWC in Keras).
Layers compare by kind, output shape (channels last), parameter count, for convolutions stride,
padding and bias, and the options their weights cannot show (groups, dilation, an attention's heads);
the weight map's kinds move weights (cwtest.core.layouts: convolutions of any rank, depthwise and
transposed ones, dense, the normalizations, embeddings, attention), any other layer with weights is a
kind of its own and must be paired with the same kind. Dropout is off on both sides, and a Keras model
whose last layer has a softmax activation is read before it (torch models usually end in logits), as
in the transfer suite. Keras runs on the backend this process runs it on (KERAS_BACKEND); the torch
model moves to `torch_side`'s device.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from cwtest.frameworks import adapter_for, keras_in_this_process
from cwtest.frameworks.sides import Pair, Side, keras_in_process, parse_side
from cwtest.core.metrics import TOLERANCE_RATIO, Errors, measure
from cwtest.models.localize import LayerError, compared, first_over, table
from cwtest.models.parity import GradientError, comparable, relative_l2
from cwtest.core.records import Layer
from cwtest.models.structure import Mismatch, field_mismatches, pair_layers
from cwtest.registries.tolerances import DEFAULTS
from cwtest.core.layouts import owned, to_torch
from cwtest.models.transfer import DIRECTIONS, copy_weights

CHECKS = ("logits_eval", "logits_train", "gradients")  # the tolerances a comparison reads


@dataclass(frozen=True)
class ModelComparison:
    """What `compare_models` found. Outputs, gradients and layers are None/empty where the structure
    did not match (no weights could move)."""

    torch_side: Side
    keras_side: Side
    direction: str
    tolerances: dict[str, float]
    pairs: tuple[tuple[Layer, Layer], ...]
    mismatches: tuple[Mismatch, ...]
    eval: Errors | None = None
    train: Errors | None = None
    gradients: tuple[GradientError, ...] = ()
    layers: dict[str, tuple[LayerError, ...]] = field(default_factory=dict)  # "eval"/"train" -> per layer

    @property
    def failures(self) -> list[str]:
        """One line per check over its tolerance, or per structural mismatch."""
        if self.mismatches:
            return [f"structure: {m}" for m in self.mismatches]
        found = []
        for mode, errors in (("eval", self.eval), ("train", self.train)):
            limit = self.tolerances[f"logits_{mode}"]
            if errors.max_rel > limit:
                found.append(f"outputs in {mode} mode: {errors} (tolerance max rel {limit:g})")
        limit = self.tolerances["gradients"]
        found += [f"gradient of {g.name}: relative L2 {g.relative_l2:.3g} (tolerance {limit:g}; from float64: torch "
                  f"{g.float64_floor:.3g}, Keras {g.keras_float64:.3g})" for g in self.gradients
                  if g.ratio(limit) > 1]
        return found

    @property
    def equivalent(self) -> bool:
        return not self.failures

    def first_layer_over(self, mode: str = "eval") -> LayerError | None:
        """The first paired layer whose output is over the mode's output tolerance: where to look."""
        return first_over(list(self.layers.get(mode, ())), self.tolerances[f"logits_{mode}"])

    def metrics(self) -> dict[str, float]:
        """The numbers, named as the report's columns."""
        found = {"structure_mismatches": float(len(self.mismatches))}
        ratios = []
        for mode, errors in (("eval", self.eval), ("train", self.train)):
            if errors is not None:
                found |= {f"{mode}_max_rel": errors.max_rel, f"{mode}_max_abs": errors.max_abs}
                ratios.append(errors.max_rel / self.tolerances[f"logits_{mode}"])
        if self.gradients:
            found["gradients_worst_relative_l2"] = max(g.relative_l2 for g in self.gradients)
            found["gradients_torch_float64_worst_relative_l2"] = max(g.float64_floor for g in self.gradients)
            ratios += [g.ratio(self.tolerances["gradients"]) for g in self.gradients]
        if ratios:
            found[TOLERANCE_RATIO] = max(ratios)
        for mode, rows in self.layers.items():
            if rows:
                found[f"{mode}_layers_worst_max_rel"] = max(r.errors.max_rel for r in rows)
        return found

    def report(self) -> str:
        """The failures, then for each mode the per-layer table (the layers over tolerance, else the worst)."""
        lines = [f"{self.torch_side} against {self.keras_side} ({self.direction}): "
                 + ("equivalent" if self.equivalent else f"{len(self.failures)} failure(s)")]
        lines += [f"  {line}" for line in self.failures]
        for mode, rows in self.layers.items():
            first = self.first_layer_over(mode)
            if first is not None:
                lines.append(f"{mode} mode: the first layer over tolerance is #{first.index} "
                             f"{first.torch_name} / {first.keras_name}")
            lines.append(f"{mode} mode: " + table(list(rows), self.tolerances[f"logits_{mode}"]))
        return "\n".join(lines)


def _side(side: Side | str, option: str) -> Side:
    return parse_side(side, option) if isinstance(side, str) else side


def _keras_here(function: Callable) -> Callable:
    """`function` with Keras served in this process (cwtest.frameworks.keras_in_this_process): a user's Keras model
    is an object of the user's process."""
    @functools.wraps(function)
    def in_this_process(*args, **kwargs):
        with keras_in_this_process():
            return function(*args, **kwargs)

    return in_this_process


@_keras_here
def compare_models(torch_model, keras_model, inputs: np.ndarray, keras_inputs: np.ndarray | None = None, *,
                   direction: str = "torch->keras", torch_side: Side | str = "torch:cpu",
                   keras_side: Side | str | None = None, names: Callable[[str], str] | None = None,
                   tolerances: dict[str, float] | None = None, seed: int = 0) -> ModelComparison:
    """Compare a torch module and a Keras model on `inputs` (see the module's docstring). `direction`
    is where the weights go: "torch->keras" (default) or "keras->torch"; `names` maps a torch layer name
    to its Keras layer's name (default: pair by position); `tolerances` overrides the named ones in
    cwtest.registries.tolerances (logits_eval, logits_train, gradients)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: {direction!r} is not one of {', '.join(DIRECTIONS)}")
    unknown = sorted(set(tolerances or {}) - set(CHECKS))
    if unknown:
        raise ValueError(f"tolerances: unknown name {unknown[0]!r} (known: {', '.join(CHECKS)})")
    torch_side = _side(torch_side, "torch_side")
    keras_side = _side(keras_side, "keras_side") if keras_side is not None else keras_in_process()
    if not Pair(torch_side, keras_side).torch_and_keras or keras_side.keras_backend is None:
        raise ValueError(f"compare_models compares a torch side with a Keras side, not {torch_side} with {keras_side}")
    limits = {name: DEFAULTS[name] for name in CHECKS} | dict(tolerances or {})
    keras_inputs = inputs if keras_inputs is None else keras_inputs
    torch_adapter, keras_adapter = adapter_for(torch_side), adapter_for(keras_side)
    torch_model = torch_model.to(torch_side.device)
    keras_read = keras_adapter.layers(keras_model)
    torch_read = torch_adapter.layers(torch_model, example=inputs[:1])
    pairs, missing = pair_layers(torch_read.layers, keras_read.layers, names)
    mismatches = missing + field_mismatches(pairs)
    result = ModelComparison(torch_side, keras_side, direction, limits, tuple(pairs), tuple(mismatches))
    if mismatches:
        return result
    copy_weights(pairs, direction, torch_side, keras_side)
    saved = [owned(a) for a in torch_adapter.weights(torch_model)], [owned(a) for a in keras_adapter.weights(keras_model)]

    def restore() -> None:  # a training-mode pass moves BatchNorm statistics, by different momenta
        torch_adapter.set_weights(torch_model, saved[0])
        keras_adapter.set_weights(keras_model, saved[1])

    outputs, layers = {}, {}
    with comparable(torch_model, torch_side), comparable(keras_model, keras_side):
        for mode, training in (("eval", False), ("train", True)):
            reference = torch_adapter.run(torch_model, inputs, torch_side, training)
            restore()
            outputs[mode] = measure(reference, keras_adapter.run(keras_model, keras_inputs, keras_side, training))
            restore()
            handles = [t.handle for t, _ in pairs], [k.handle for _, k in pairs]
            torch_values = torch_adapter.layer_outputs(torch_model, handles[0], inputs, torch_side, training)
            restore()
            keras_values = keras_adapter.layer_outputs(keras_model, handles[1], keras_inputs, keras_side, training)
            restore()
            layers[mode] = tuple(compared(list(range(len(pairs))), pairs, torch_values, keras_values))
        cotangent = np.random.default_rng(seed).standard_normal(reference.shape).astype(np.float32)
        torch_grads = torch_adapter.projection_gradients(torch_model, inputs, cotangent, torch_side)
        restore()
        exact = torch_adapter.projection_gradients(torch_model, inputs, cotangent, torch_side, float64=True)
        keras_grads = keras_adapter.projection_gradients(keras_model, keras_inputs, cotangent, keras_side)
        restore()
    gradients = []
    for t, k in pairs:
        names_here = [key for key in t.gradient_keys if key in torch_grads]
        keras_values = [keras_grads[key] for key in k.gradient_keys]
        for name, value in zip(names_here, to_torch(k, keras_values), strict=True):
            reference = torch_grads[name]
            gradients.append(GradientError(name, relative_l2(value, reference), float(np.abs(value - reference).max()),
                                      relative_l2(reference, exact[name]), relative_l2(value, exact[name])))
    return ModelComparison(torch_side, keras_side, direction, limits, tuple(pairs), (), outputs["eval"],
                           outputs["train"], tuple(gradients), layers)


def assert_equivalent(torch_model, keras_model, inputs: np.ndarray, keras_inputs: np.ndarray | None = None,
                      **options) -> ModelComparison:
    """`compare_models`, raising AssertionError with the failures and the per-layer tables unless the
    two are equivalent; the comparison otherwise."""
    result = compare_models(torch_model, keras_model, inputs, keras_inputs, **options)
    if not result.equivalent:
        raise AssertionError(result.report())
    return result

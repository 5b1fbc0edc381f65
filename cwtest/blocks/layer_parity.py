"""Run one layer-registry case on both frameworks, same inputs and weights, and measure the gap.

torch is the reference: its weights are copied into Keras, and errors are measured relative
to torch's values. Everything is compared in Keras's layout (NHWC, kernels HWIO). Each side's
computation is its adapter's case runner (cwtest.frameworks.case_runner: ReferenceCases for torch, Cases
for Keras); `kept` names the catalogued differences a case leaves as the frameworks ship them.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from cwtest.core import events
from cwtest.core.layouts import KERAS_ORDER, keras_kernel, owned
from cwtest.core.metrics import FLOAT64_MARGIN, Errors, measure
from cwtest.frameworks import REFERENCE_CASES, adapter_for, case_runner
from cwtest.frameworks.precision import MODES
from cwtest.frameworks.sides import TORCH_CPU, Side, keras_in_process
from cwtest.models.float64_rule import FLOOR_UNITS, Judgement, judged
from cwtest.registries.layer_strategies import inputs_for, rounded


def _torch():
    return case_runner(REFERENCE_CASES)


def _keras():
    return case_runner("keras")


def keras_cpu() -> Side:
    """The other side: Keras on the CPU, on the run's first Keras backend (served by its child process)."""
    return keras_in_process()


@dataclass(frozen=True)
class Values:
    """What one run of a case computed: per quantity the reference side's array, the other side's, and
    the scale their error is measured against (see `measure`); for gradients also the reference
    side's result in float64."""

    sides: tuple[str, str]  # reference, other
    quantities: dict[str, tuple[np.ndarray, np.ndarray, float]]
    float64: Callable[[], dict[str, np.ndarray]] | None = None  # the reference side's float64 result
    # Per quantity, the size of the terms it sums (see `_gradient_terms`), for a block that measures
    # its gradients against them: a larger scale than the one in `quantities` where a sum cancelled.
    terms: Callable[[], dict[str, float]] | None = None
    cotangent: np.ndarray | None = None  # for gradients: the output's weighting both sides took
    # Where neither side is torch (two Keras backends): torch's fp32 arrays, whose distance from the float64
    # result is the round-off both sides are allowed a multiple of (see `measure`).
    round_off: dict[str, np.ndarray] | None = None

    def errors(self, limit: float | None = None) -> dict[str, Errors]:
        """Each quantity's errors; where one is over `limit`, all of them against the size of their terms
        and against the float64 result too, where the case has them (computed only then: each costs
        another pass)."""
        found = {what: measure(ref, other, scale) for what, (ref, other, scale) in self.quantities.items()}
        if limit is None or all(e.eps_units <= limit for e in found.values()):
            return found
        terms = self.terms() if self.terms is not None else {}
        exact = self.float64() if self.float64 is not None else {}
        round_off = self.round_off or {}
        return {what: measure(ref, other, max(scale, terms.get(what, 0.0)), exact.get(what), round_off.get(what))
                for what, (ref, other, scale) in self.quantities.items()}


def tolerance_ratio(results: dict[str, Errors], limit: float) -> float:
    """The worst quantity's error in units of what `assert_within` allows it: its eps units over the limit,
    or for one that round-off explains, its float64 ratio over FLOAT64_MARGIN (over 1 fails either way)."""
    def ratio(e: Errors) -> float:
        by_round_off = e.float64_ratio / FLOAT64_MARGIN if not math.isnan(e.float64_ratio) else math.inf
        return min(e.eps_units / limit, by_round_off)

    return max((ratio(e) for e in results.values()), default=0.0)


def assert_within(results: dict[str, Errors], limit: float, case_id: str, check: str) -> None:
    """One line per quantity over the limit, the registry entry's tolerance for this check."""
    over = [f"  {what}: {e.eps_units:.1f} eps units (max abs {e.max_abs:.3g}, "
            f"largest element-wise rel {e.max_rel_elementwise:.3g}"
            + ("" if math.isnan(e.float64_ratio) else f"; {e.float64_ratio:.3g}x the round-off distance from the "
               f"float64 result, over {FLOAT64_MARGIN:g}") + ")"
            for what, e in results.items() if not (e.eps_units <= limit or e.within_round_off)]
    if over:
        raise AssertionError(f"{case_id}: {check} differs beyond {limit:g} fp32-eps units of the output scale "
                             f"(the registry entry's tolerance):\n" + "\n".join(over))


def keras_layout(module, depthwise: bool, values: dict) -> dict:
    """A torch module's arrays (parameters, buffers or their gradients) as the Keras layer holds them."""
    chw = getattr(module, "flattened_chw", None)  # a Linear after Flatten: torch flattened C,H,W
    out = {}
    for key in KERAS_ORDER:
        if key in values:
            array = values[key]
            # A LayerNorm's weight has the shape of what it normalizes, on both sides.
            if key == "weight" and hasattr(module, "keras_shape"):  # a PReLU's slopes: Keras keeps unshared axes
                array = array.reshape(module.keras_shape)
            elif key == "weight" and not hasattr(module, "normalized_shape"):
                array = keras_kernel(array, (chw[1], chw[2], chw[0]) if chw else None,
                                     module.groups if depthwise else None)
            out[key] = np.ascontiguousarray(array)
    return out


def _own(grads: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    """A submodule's own parameter gradients, by key, from the whole module's (by parameter name)."""
    prefix = f"{name}." if name else ""
    return {key[len(prefix):]: g for key, g in grads.items() if key.startswith(prefix) and "." not in key[len(prefix):]}


def build_pair(block, params: dict, kept: frozenset):
    """The torch module and the Keras model of a case, Keras holding torch's weights."""
    module = _torch().build(block, params, kept)
    model = _keras().build(block, params, kept)
    for name, sub in _torch().weighted(module):
        arrays = keras_layout(sub, _keras().is_depthwise(model, name), _torch().state(sub))
        _keras().set_layer_weights(model, name, [owned(a) for a in arrays.values()])
    return module, model


def compare(block, params: dict, kept: frozenset = frozenset(), check: str = "forward") -> dict[str, Errors]:
    """forward: outputs and the state after the call; gradients: of sum(output * a random cotangent)
    with respect to the inputs and every weight."""
    return case_values(block, params, kept, check).errors()


def case_values(block, params: dict, kept: frozenset = frozenset(), check: str = "forward",
                built: tuple | None = None) -> Values:
    """The arrays `compare` measures, torch's first (`built`: the case's pair from `build_pair`)."""
    training = params.get("training", block.training)
    module, model = built or build_pair(block, params, kept)
    xs = inputs_for(params)
    gradients = check == "gradients"
    events.note(side=f"{TORCH_CPU} forward" + (" and backward" if gradients else ""))
    torch_run = _torch().run(module, xs, training, params["seed"] + 1 if gradients else None)
    if gradients:
        return _gradients(module, model, torch_run, xs, training, block.gradient_scale)
    events.note(side=f"{keras_cpu()} forward")
    keras_out = _keras().forward(model, xs, training)
    scale = _forward_scale(block, module, xs)
    results = {"output": (torch_run.output, keras_out, scale)}
    for name, sub in _torch().weighted(module):
        ours = keras_layout(sub, _keras().is_depthwise(model, name), _torch().state(sub))
        # A running mean averages inputs that can be far larger than it: its layer's state
        # (the running variance holds the inputs' spread) sets the scale of its round-off.
        scale = max(float(np.abs(a).max(initial=0.0)) for a in ours.values())
        results.update({f"{name}.{key}": (a, theirs, scale)
                        for (key, a), theirs in zip(ours.items(), _keras().layer_weights(model, name))})
    return Values((str(TORCH_CPU), str(keras_cpu())), results)


def _forward_scale(block, module, xs: list[np.ndarray]) -> float:
    """What the block's outputs are measured against besides their own largest magnitude (see
    Block.forward_scale): nothing, the size of the terms they sum, or the largest input."""
    if block.forward_scale == "terms":
        return _torch().terms_scale(module, xs)
    if block.forward_scale == "normalized":
        return _torch().normalized_scale(module, xs)
    if block.forward_scale == "inputs":
        return max(float(np.abs(x).max()) for x in xs)
    return 0.0


# The gradient scales whose blocks are measured against each gradient's terms too, where one is over its limit.
_BY_TERMS = ("terms", "normalized")


def _upstream_scale(against: str, module, xs: list[np.ndarray], cotangent: np.ndarray) -> float:
    """What a block's gradients are measured against besides the largest of them (Block.gradient_scale): the
    largest upstream gradient ("cotangent"), or that over a normalization's spread ("normalized"); else nothing."""
    if against == "cotangent":
        return float(np.abs(cotangent).max())
    if against == "normalized":
        return _torch().normalized_scale(module, xs, cotangent)
    return 0.0


def _in_keras_layout(module, model, input_grads: list[np.ndarray], grads: dict[str, np.ndarray]) -> dict:
    """Gradients keyed as `_gradients` keys them, weights in Keras's layout."""
    found = {f"d input{i}": g for i, g in enumerate(input_grads)}
    for name, sub in _torch().weighted(module):
        for key, g in keras_layout(sub, _keras().is_depthwise(model, name), _own(grads, name)).items():
            found[f"d {name}.{key}"] = g
    return found


def _gradients(module, model, torch_run, xs, training, against: str) -> Values:
    """Gradients of sum(output * cotangent) for the inputs and the weights, on both sides."""
    cotangent = torch_run.cotangent
    names = [name for name, _ in _torch().weighted(module)]
    events.note(side=f"{keras_cpu()} forward and backward")
    keras_inputs, keras_weights = _keras().gradients(model, names, xs, cotangent, training)
    ours = _in_keras_layout(module, model, torch_run.input_grads, torch_run.grads)
    theirs = {f"d input{i}": g for i, g in enumerate(keras_inputs)}
    for name in names:
        keys = [k for k in ours if k.startswith(f"d {name}.")]
        theirs.update(zip(keys, keras_weights[name]))
    # Gradients are derivatives of one scalar: one scale for all. One that cancels to nearly
    # nothing (a conv bias before a training-mode BatchNorm is exactly zero in exact
    # arithmetic) holds round-off of the others' size, not an error of its own size.
    scale = max(max(float(np.abs(a).max(initial=0.0)) for a in ours.values()),
                _upstream_scale(against, module, xs, cotangent))

    def float64() -> dict[str, np.ndarray]:
        return _in_keras_layout(module, model, *_torch().float64_gradients(module, xs, cotangent, training))

    return Values((str(TORCH_CPU), str(keras_cpu())),
                  {what: (a, np.asarray(theirs[what]), scale) for what, a in ours.items()}, float64,
                  (lambda: _torch().gradient_terms(module, xs, cotangent, training)) if against in _BY_TERMS else None,
                  cotangent)


# --- half cases: both sides in bfloat16 or float16, judged against torch's float64 run ---------------------------

# A half case's precision mode (cwtest.frameworks.precision): the rounding its rule scales to.
HALF_MODES = {"bfloat16": MODES["bf16"], "float16": MODES["fp16"]}
# The largest finite value of each half type: beyond it a float64 result overflows in the type.
HALF_LARGEST = {"bfloat16": 3.3895313892515355e38, "float16": 65504.0}
# A half block's Keras error may be this multiple of what float64_rule allows (a multiple of torch's error, or one
# rounding of the largest exact value, here of the block's forward scale where that is larger): each op of a block
# rounds its output to the half type, and the frameworks split a block into different ops (Keras's Dense and Conv2D
# round the product, then add the bias and round again, torch's addmm and conv once) or sum in different types
# (TensorFlow's float16 AvgPool sums in float16, torch's in float32). Measured: Keras's error over what the rule
# allows, worst of 150 hypothesis examples per block in each half type (7,800 forward cases; torch 2.14.1, Keras
# 3.15.1 on TensorFlow 2.21, CPU): 1.42 (the cross-entropies in bfloat16, one loss of logits near 10), then 1.27
# (densenet_transition, bfloat16) and 1.04 (resnet_bottleneck_v1); about twice the worst. Gradients, the same way
# (scripts/half_margins.py --check gradients; compound blocks and cases meeting a half-type defect left out, as the
# layer suite leaves them): worst over 40 draws per block and type on TensorFlow, 20 on JAX 0.10.2 and on torch,
# 3,360 cases: 1.19 (global_avgpool, float16, TensorFlow), then 0.94 (conv2d_same_stride2, TensorFlow).
HALF_LIMIT_MULTIPLE = 3.0


def _states(module, model) -> dict[str, np.ndarray]:
    """A torch module's weights and statistics after a call, in Keras's layout, keyed as `case_values` keys them."""
    return {f"{name}.{key}": a for name, sub in _torch().weighted(module)
            for key, a in keras_layout(sub, _keras().is_depthwise(model, name), _torch().state(sub)).items()}


def _keras_states(model, keys: list[str]) -> dict[str, np.ndarray]:
    """The Keras model's weights and statistics after a call, keyed as `_states` keys torch's (`keys`)."""
    names = dict.fromkeys(key.rsplit(".", 1)[0] for key in keys)
    return dict(zip(keys, (a for name in names for a in _keras().layer_weights(model, name))))


def _half_case(block, params: dict) -> tuple:
    """A harmonized half case's dtype, mode, torch module and Keras model holding the same half weights, a copy of
    the module made before any call (which moves a training-mode BatchNorm's statistics) for its float64 run, and
    its inputs."""
    module, model = build_pair(block, params, frozenset())
    return (params["dtype"], params.get("training", block.training), module, model, copy.deepcopy(module),
            inputs_for(params))


def half_judgements(block, params: dict) -> dict[str, Judgement]:
    """A harmonized half case's forward (params' dtype a half type): both sides hold the same half weights, take the
    same half inputs and compute in that type; Keras's output and its weights and statistics after the call are each
    judged against torch's float64 run of the same module on the same values (`half_judged`)."""
    dtype, training, module, model, exact_module, xs = _half_case(block, params)
    events.note(side=f"{TORCH_CPU} forward in {dtype}, and in float64")
    torch_run = _torch().run(module, xs, training, dtype=dtype)
    exact_output, double = _torch().float64_forward(exact_module, xs, training)
    events.note(side=f"{keras_cpu()} forward in {dtype}")
    ours = {"output": torch_run.output, **_states(module, model)}
    exact = {"output": exact_output, **_states(double, model)}
    theirs = {"output": _keras().forward(model, xs, training), **_keras_states(model, list(ours)[1:])}
    scales = {"output": _forward_scale(block, double, xs)}  # float64, as the module it measures
    return {what: half_judged(theirs[what], ours[what], exact[what], dtype, scales.get(what, 0.0)) for what in ours}


def half_gradient_judgements(block, params: dict) -> dict[str, Judgement]:
    """A harmonized half case's gradients of sum(output * cotangent) (params' dtype a half type): both sides hold the
    same half weights and inputs, and both backward passes start from the cotangent rounded to that type (the
    gradient of a half output); each Keras gradient is judged against torch's float64 gradients of the same module on
    the same values (`half_judged`), at one scale for all, as `_gradients` measures them: gradients are derivatives of
    one scalar; the cotangent's size too for a block measured against it; and where one is over its limit in a block
    measured against its terms, each gradient's terms (Block.gradient_scale)."""
    dtype, training, module, model, exact_module, xs = _half_case(block, params)
    events.note(side=f"{TORCH_CPU} forward and backward in {dtype}, and in float64")
    torch_run = _torch().run(module, xs, training, params["seed"] + 1, dtype=dtype)
    cotangent = rounded(torch_run.cotangent, dtype)
    exact = _in_keras_layout(module, model, *_torch().float64_gradients(exact_module, xs, cotangent, training))
    events.note(side=f"{keras_cpu()} forward and backward in {dtype}")
    theirs = _gradients(module, model, torch_run, xs, training, block.gradient_scale).quantities
    scale = max(max(float(np.abs(a).max(initial=0.0)) for a in exact.values()),
                _upstream_scale(block.gradient_scale, exact_module, xs, cotangent))

    def judgements(scales: dict[str, float]) -> dict[str, Judgement]:
        return {what: half_judged(other, ours, exact[what], dtype, max(scale, scales.get(what, 0.0)))
                for what, (ours, other, _) in theirs.items()}

    found = judgements({})
    if block.gradient_scale in _BY_TERMS and not all(j.passed for j in found.values()):
        found = judgements(_torch().gradient_terms(exact_module, xs, cotangent, training))
    return found


def half_judged(theirs: np.ndarray, ours: np.ndarray, exact: np.ndarray, dtype: str, scale: float = 0.0
                ) -> Judgement:
    """float64_rule's judgement of Keras's `theirs` against the float64 run `exact`, torch's `ours` the source, both
    in `dtype`; its floor one rounding of `scale` where that is larger than the exact values (the block's forward
    scale: a sum that cancels keeps the rounding of its terms), its limit HALF_LIMIT_MULTIPLE times that. Elements
    whose exact value the type cannot hold are judged apart: there Keras must overflow as torch does."""
    mode, theirs = HALF_MODES[dtype], np.asarray(theirs)
    held = np.abs(exact) <= HALF_LARGEST[dtype]
    judgement = judged(theirs[held], ours[held], exact[held], mode, mode) if held.any() else Judgement(0, 0, 0, "floor")
    floor = FLOOR_UNITS * mode.unit * scale
    limit = HALF_LIMIT_MULTIPLE * max(judgement.limit, floor)
    term = judgement.term if judgement.limit >= floor else "floor at the case's scale"
    overflowed = np.array_equal(theirs[~held], ours[~held])
    return dataclasses.replace(judgement, limit=limit, term=term,
                               target_error=judgement.target_error if overflowed else math.inf)


def assert_half_within(judgements: dict[str, Judgement], case_id: str, check: str = "forward") -> None:
    """One line per quantity whose Keras error against float64 is over what torch's allows."""
    over = [f"  {what}: {j}" for what, j in judgements.items() if not j.passed]
    if over:
        raise AssertionError(f"{case_id}: {check} in half precision is further from torch's float64 run than "
                             f"torch's own error allows (cwtest.models.float64_rule, times HALF_LIMIT_MULTIPLE):\n"
                             + "\n".join(over))


def keras_pair_values(block, params: dict, other: Side, check: str = "forward",
                      kept: frozenset = frozenset()) -> Values:
    """A case (harmonized, or with `kept` differences left) on the run's first Keras backend (the
    reference) and on `other`, a Keras side on
    another backend, in its own process (cwtest.frameworks.child): both hold the torch twin's weights and
    take the same inputs and cotangent. Measured as in `case_values`, against the same scales, and for
    gradients the same float64 result (torch's, the same function's), so the tolerances are the entry's."""
    module, model = build_pair(block, params, kept)
    names = [name for name, _ in _torch().weighted(module)]
    weights = {name: _keras().layer_weights(model, name) for name in names}  # before any call moves them
    reference = case_values(block, params, kept, check, (module, model))
    events.note(side=f"{other} " + ("forward and backward" if check == "gradients" else "forward"))
    found = adapter_for(other).case_on_cpu(block.name, params, weights, check, reference.cotangent,
                                                      sorted(kept))
    if check == "gradients":
        input_grads, weight_grads = found
        theirs = dict(zip([k for k in reference.quantities if k.startswith("d input")], input_grads))
        for name in names:
            theirs.update(zip([k for k in reference.quantities if k.startswith(f"d {name}.")], weight_grads[name]))
    else:
        output, states = found
        theirs = {"output": output}
        for name in names:
            theirs.update(zip([k for k in reference.quantities if k.startswith(f"{name}.")], states[name]))
    return Values((reference.sides[1], str(other)),
                  {what: (ours, np.asarray(theirs[what]), scale)
                   for what, (_, ours, scale) in reference.quantities.items()},
                  reference.float64, reference.terms, reference.cotangent,
                  {what: torch_fp32 for what, (torch_fp32, _, _) in reference.quantities.items()})


def compare_devices(block, params: dict, source, target, check: str = "forward") -> dict[str, Errors]:
    """The case's torch module on two sides (devices or precisions), the target's a copy of the source's:
    as `compare`, with the source as the reference and everything in torch's layout (inputs channels last)."""
    return device_values(block, params, source, target, check).errors()


def device_values(block, params: dict, source, target, check: str = "forward") -> Values:
    """The arrays `compare_devices` measures, the source's first."""
    module = _torch().build(block, params, frozenset())
    training = params.get("training", block.training)
    xs = inputs_for(params)
    gradients = check == "gradients"
    found, cotangent = [], None
    for side in (source, target):
        events.note(side=str(side))
        run = _torch().run(copy.deepcopy(module), xs, training, params["seed"] + 1 if gradients else None, side)
        if gradients:
            cotangent = run.cotangent
            found.append({**{f"d input{i}": g for i, g in enumerate(run.input_grads)},
                          **{f"d {n}": g for n, g in run.grads.items()}})
        else:
            found.append({"output": run.output, **run.state})
    reference, other = found
    # As in `compare`: gradients of one scalar share one scale; a state tensor is measured on its own.
    scale = max(max(float(np.abs(a).max(initial=0.0)) for a in reference.values()),
                _upstream_scale(block.gradient_scale, module, xs, cotangent)) if gradients else 0.0
    scales = {k: scale for k in reference}
    if check == "forward":
        scales["output"] = _forward_scale(block, module.train(training), xs)
    return Values((str(source), str(target)), {k: (reference[k], other[k], scales[k]) for k in reference})

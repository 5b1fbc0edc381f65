"""Weight-transfer parity: the same weights in torch, Keras and ONNX Runtime give the same numbers.

Per architecture and flavour: the structures match (or differ for named, known reasons: an
xfail), weights survive torch->Keras->torch bit for bit, and per route the logits (eval and
training mode, random and dataset images) and the gradients agree within the named
tolerances (cwtest/registries/tolerances.py). A failure on any route (ONNX Runtime's too: the export again,
with the layers' outputs as graph outputs), or `--crossedwires-layers`, adds the per-layer
error table that says where the sides part. Logits that fail are computed again on the same
images: a side that answers differently fails as non-deterministic (cwtest.findings.rerun).
"""

from __future__ import annotations

import numpy as np

from cwtest.frameworks.sides import Side, keras_last
from cwtest.blocks.layer_parity import Values
from cwtest.findings.rerun import raise_if_moved
from cwtest.core.metrics import TOLERANCE_RATIO, measure
from cwtest.registries.architectures import REGISTRY
from cwtest.models.localize import layer_errors, located, selected
from cwtest.models.parity import agreement_line, decidable_agreement, gradient_errors, image_batches, logits, preserved
from cwtest.frameworks import adapter_for
from cwtest.models.structure import compare
from cwtest.models.transfer import copy_weights
from cwtest.core.properties import CONTEXT

BATCH = 16


def _record_route(request, source: Side, target: Side) -> None:
    request.node.user_properties.append((CONTEXT + "pair", f"{source}->{target}"))


def test_structure(crossedwires_arch, flavour, structure_sides, structure_check, route_models, record_metric):
    """Kinds, output shapes, parameter counts, strides, paddings and biases agree layer by layer."""
    pair = structure_check(crossedwires_arch, flavour, *structure_sides)
    record_metric("layers_paired", len(pair.structure.pairs))
    record_metric("structure_mismatches", len(pair.structure.mismatches))
    route_models(crossedwires_arch, flavour, structure_sides)  # xfails on known differences, fails on others


def test_roundtrip(crossedwires_arch, flavour, structure_sides, route_models):
    """torch -> Keras -> a second torch model (other seed) reproduces every tensor bit for bit."""
    pair, _, torch_side, keras_side = route_models(crossedwires_arch, flavour, structure_sides)
    torch_adapter = adapter_for(torch_side)
    second = torch_adapter.build(crossedwires_arch, torch_side, seed=1, flavour=flavour)
    back = compare(second, pair.keras_model, REGISTRY[crossedwires_arch].flavours[flavour].keras_name,
                   torch_side, keras_side)
    copy_weights(back.pairs, "keras->torch", torch_side, keras_side)
    for (original, _), (copied, _) in zip(pair.structure.pairs, back.pairs, strict=True):
        for a, b in zip(torch_adapter.layer_weights(original.handle), torch_adapter.layer_weights(copied.handle),
                        strict=True):
            assert np.array_equal(a, b), f"{original.name}: torch->keras->torch changed the values"


def _localize(pair, images, route, torch_side, keras_side, training: bool, limit: float, selectors,
              record_metric) -> str:
    """The per-layer table of the route (recorded as metrics too); all layers, or the ones `--crossedwires-layers`
    names."""
    indices = selected(pair.structure.pairs, selectors or ("all",))
    rows = layer_errors(pair, images, torch_side, keras_side, training=training, indices=indices, route=route)
    reference, other = keras_last(route)
    return located(rows, limit, record_metric, sides=(reference.api, other.api))


def test_logits(crossedwires_arch, flavour, route, crossedwires_data, crossedwires_settings, tolerance,
                route_models, record_metric, request):
    source, target = route
    _record_route(request, source, target)
    pair, models, torch_side, keras_side = route_models(crossedwires_arch, flavour, route)
    exported = "onnxruntime" in models
    failures, failed_on, worst = [], None, 0.0
    # An ONNX export is an inference graph: it has no training mode.
    for mode in ("eval",) if exported else ("eval", "train"):
        limit = tolerance("onnxruntime" if exported else f"logits_{mode}")
        for batch, images in image_batches(crossedwires_data, BATCH).items():
            def run(images=images, training=mode == "train") -> Values:
                with preserved(pair.torch_model, pair.keras_model):
                    return Values((str(source), str(target)), {"logits": (
                        logits(models[source.api], source, images, training=training),
                        logits(models[target.api], target, images, training=training), 0.0)})

            first = run()
            reference, actual, _ = first.quantities["logits"]
            error = measure(reference, actual)
            agreement, decidable = decidable_agreement(actual, reference, error.max_abs)
            prefix = f"{mode}_{batch}"
            record_metric(f"{prefix}_max_abs", error.max_abs)
            record_metric(f"{prefix}_max_rel", error.max_rel)
            record_metric(f"{prefix}_mean_abs", error.mean_abs)
            if decidable:  # an agreement over no row says nothing: left out, as from the message
                record_metric(f"{prefix}_argmax_agreement", agreement)
            record_metric(f"{prefix}_largest_logit", float(np.abs(reference).max()))
            worst = max(worst, error.max_rel / limit)
            if error.max_rel > limit or agreement < 1.0:
                failures.append(f"{mode} mode, {batch} images: {error} (tolerance max rel {limit:g}); "
                                + agreement_line(agreement, decidable))
                raise_if_moved(first, run, failures[-1])  # a side that answers differently is the finding
                failed_on = failed_on or (mode, images, limit)
    record_metric(TOLERANCE_RATIO, worst)
    layers = ""
    if failed_on or crossedwires_settings.layers:
        mode, images, limit = failed_on or ("eval", image_batches(crossedwires_data, BATCH)["data"],
                                            tolerance("onnxruntime" if exported else "logits_eval"))
        layers = _localize(pair, images, route, torch_side, keras_side, mode == "train", limit,
                           () if failed_on else crossedwires_settings.layers, record_metric)
        request.node.add_report_section("call", "layers", layers)
    assert not failures, "\n".join([f"{source} -> {target}: logits differ", *failures, layers])


def test_gradients(crossedwires_arch, flavour, copy_route, crossedwires_data, tolerance, route_models,
                   record_metric, request):
    """One backward pass of the same loss on the same batch: every parameter's gradient agrees."""
    _record_route(request, *copy_route)
    pair, _, torch_side, keras_side = route_models(crossedwires_arch, flavour, copy_route)
    found = gradient_errors(pair, crossedwires_data.x_test[:BATCH], crossedwires_data.y_test[:BATCH],
                            torch_side, keras_side)
    limit = tolerance("gradients")
    relative = [g.relative_l2 for g in found]
    # A gradient that is zero in exact arithmetic (a bias before a training-mode BatchNorm through linear layers only:
    # MobileNetV2's projections) is rounding noise on both sides; it passes while Keras is as near float64 as torch.
    record_metric("gradients_worst_relative_l2", max(relative))
    record_metric(TOLERANCE_RATIO, max(g.ratio(limit) for g in found))
    record_metric("gradients_median_relative_l2", float(np.median(relative)))
    record_metric("gradients_worst_max_abs", max(g.max_abs for g in found))
    record_metric("gradients_torch_float64_worst_relative_l2", max(g.float64_floor for g in found))
    over = sorted((g for g in found if g.ratio(limit) > 1), key=lambda g: -g.relative_l2)
    layers = ""
    if over:  # the training-mode forward pass the gradients flow back through, layer by layer
        layers = "\ntraining mode, layer by layer:\n" + _localize(
            pair, crossedwires_data.x_test[:BATCH], copy_route, torch_side, keras_side, True,
            tolerance("logits_train"), (), record_metric)
        request.node.add_report_section("call", "layers", layers)
    assert not over, (f"{len(over)} of {len(found)} parameters' gradients differ by more than relative L2 "
                      f"{limit:g}: " + "; ".join(f"{g.name} {g.relative_l2:.3g} (from float64: torch fp32 "
                                                 f"{g.float64_floor:.3g}, Keras {g.keras_float64:.3g})"
                                                 for g in over[:5]) + layers)

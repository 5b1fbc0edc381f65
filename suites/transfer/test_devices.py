"""One framework on two devices or at two precisions: the same weights give the same numbers.

The route goes from the pair's left side (the reference) to its right side; the transfer is a
state-dict copy onto the target's device (cwtest.device_transfer). Tolerances follow the
precision mode of the less precise side (cwtest.precision): logits within
atol + GROWTH * rtol * |largest reference logit|, gradients within the mode's share of their
fp32 rounding floor.
"""

from __future__ import annotations

import numpy as np

from cwtest.device_transfer import gradient_errors
from cwtest.parity import decidable_agreement, errors, image_batches, logits
from cwtest.precision import allowed, gradient_allowed, looser
from cwtest.tolerances import DEFAULTS

BATCH = 16
# Training mode divides by the batch's standard deviation, which amplifies rounding in near-constant
# channels: by the factor between the transfer suite's measured training and eval tolerances.
TRAIN_AMPLIFICATION = DEFAULTS["logits_train"] / DEFAULTS["logits_eval"]


def test_device_logits(device_route, device_models, crossedwires_data, record_metric):
    source, target = device_route
    mode = looser(source, target)
    record_metric("precision_rtol", mode.rtol)
    models = device_models()
    failures = []
    for training in (False, True):  # eval first: a training-mode pass moves BatchNorm statistics
        for batch, images in image_batches(crossedwires_data, BATCH).items():
            reference = logits(models[0], source, images, training=training)
            actual = logits(models[1], target, images, training=training)
            error = errors(actual, reference)
            scale = float(np.abs(reference).max())
            limit = allowed(mode, scale) * (TRAIN_AMPLIFICATION if training else 1.0)
            agreement, decidable = decidable_agreement(actual, reference, error.max_abs)
            prefix = f"{'train' if training else 'eval'}_{batch}"
            record_metric(f"{prefix}_max_abs", error.max_abs)
            record_metric(f"{prefix}_max_rel", error.max_rel)
            record_metric(f"{prefix}_largest_logit", scale)
            record_metric(f"{prefix}_allowed_max_abs", limit)
            record_metric(f"{prefix}_argmax_agreement", agreement)
            if error.max_abs > limit or agreement < 1.0:
                failures.append(f"{prefix}: {error} (allowed max abs {limit:.3g} in {mode.name}); argmax "
                                f"agreement {agreement:.3f} over {decidable} decidable rows")
    assert not failures, "\n".join([f"{source} -> {target}: logits differ", *failures])


def test_device_gradients(device_route, device_models, crossedwires_data, record_metric):
    source, target = device_route
    mode = looser(source, target)
    found = gradient_errors(device_models(), crossedwires_data.x_test[:BATCH],
                            crossedwires_data.y_test[:BATCH], source, target)
    record_metric("gradients_worst_relative_l2", max(g.relative_l2 for g in found))
    record_metric("gradients_torch_float64_worst_relative_l2", max(g.float64_floor for g in found))
    over = sorted((g for g in found if g.relative_l2 > gradient_allowed(mode, g.float64_floor)),
                  key=lambda g: -g.relative_l2)
    assert not over, (f"{source} -> {target}: {len(over)} of {len(found)} parameters' gradients differ beyond "
                      f"{mode.name}'s allowance: " + "; ".join(
                          f"{g.name} {g.relative_l2:.3g} (allowed {gradient_allowed(mode, g.float64_floor):.3g}, "
                          f"fp32 floor {g.float64_floor:.3g})" for g in over[:5]))

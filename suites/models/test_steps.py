"""Step-level training parity of the zoo's pairs (cwtest.registries.architectures.ZOO), which no CrossedWires trial
trains, judged as the trial suite's test_harmonized judges a trial's.

Both sides train the pair under the harmonized protocol (every knob of cwtest.registries.knobs on: shared initial
weights, torch's structure on the Keras side, no dropout, a loss on logits, torch's BatchNorm, Keras's Adam epsilon)
for the steps step-level parity judges, on the run's images (the budget's subset); the per-step losses must stay
within the margin over the same-framework noise floor (cwtest.training.protocol).

EfficientNetB0's is an xfail whose cause is not found yet (UNEXPLAINED): on real CIFAR-10 it fails at step 2 to 4 by
1.2 to 3 times the allowance, on synthetic images it passes. The protocol is the CrossedWires
one: Adam at Keras's default learning rate and epsilon, batches in dataset order.
"""

from __future__ import annotations

import pytest

from cwtest.core.properties import CONTEXT
from cwtest.core.training_loop import Plan
from cwtest.frameworks import TRAINABLE, trainable
from cwtest.registries.architectures import REGISTRY, ZOO
from cwtest.registries.knobs import ALL
from cwtest.session.stash import SETTINGS
from cwtest.training.paired import noise_floor, starts_fresh, train_pair
from cwtest.training.protocol import PARITY_STEPS, first_steps, step_differences, step_parity

pytestmark = pytest.mark.crossedwires_trains  # run before the other suites' tests (cwtest.session.plugin)

# Keras's Adam defaults; the batch is the CIFAR-10 one most CrossedWires trials sit near, cut where the budget's
# images give fewer than PARITY_STEPS batches.
LEARNING_RATE, ADAM_EPSILON, BATCH = 1e-3, 1e-7, 32


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "zoo_arch" not in metafunc.fixturenames:
        return
    images = [arch for arch in ZOO if arch in REGISTRY]  # the converted transformer pairs: no step parity yet
    named = [arch for arch in metafunc.config.stash[SETTINGS].archs if arch in images]
    metafunc.parametrize("zoo_arch", named or [pytest.param(None, id="no-zoo", marks=pytest.mark.skip(
        reason=f"--crossedwires-arch names no zoo image model: zoo (or {', '.join(images)}) trains them; the "
               "CrossedWires architectures' step parity is the trial suite's test_harmonized"))])


# Zoo pairs whose step parity fails for a reason not found yet: an xfail that says so (not strict: it passes on
# synthetic images), so that the failure stays in every report until it is explained or fixed.
UNEXPLAINED = {
    "efficientnet_b0": "cause not found yet: on 25 real CIFAR-10 images a step the two sides' first-step losses differ "
                       "2 to 16 times more than a one-ulp nudge moves torch's, and the difference outgrows the noise "
                       "floor's tenfold margin at step 2 to 4 (1.2 to 3 times); the transfer suite's eval, training "
                       "and gradient checks of the same pair pass; on synthetic images it passes",
}


def test_zoo_step_parity(zoo_arch, crossedwires_settings, crossedwires_data, record_metric, request):
    request.node.user_properties.append((CONTEXT + "arch", zoo_arch))  # the report's arch column
    if zoo_arch in UNEXPLAINED:
        request.applymarker(pytest.mark.xfail(reason=f"{zoo_arch} step parity: {UNEXPLAINED[zoo_arch]}", strict=False))
    pair = crossedwires_settings.pair
    for side in (pair.left, pair.right):
        if not trainable(side.framework):
            pytest.skip(f"{side}: {side.framework} cannot train; step parity needs trainable sides in "
                        f"--crossedwires-pair ({', '.join(TRAINABLE)})")
    images = len(crossedwires_data.y_train)
    whole = Plan(LEARNING_RATE, ADAM_EPSILON, min(BATCH, max(1, images // PARITY_STEPS)), 1, images,
                 len(crossedwires_data.y_test))
    plan, _ = first_steps(whole, PARITY_STEPS)
    trained = train_pair(zoo_arch, f"{zoo_arch} harmonized steps", plan, crossedwires_data, ALL, pair)
    reference = trained.step_losses[0] if starts_fresh(pair, ALL) else None
    noise = noise_floor(zoo_arch, plan, crossedwires_data, ALL, pair.left, reference=reference)
    cross = step_differences(*trained.step_losses)
    parity = step_parity(cross, noise)
    record_metric("step_parity_ratio", parity.worst)
    record_metric("step_parity_steps_judged", parity.judged)
    record_metric("noise_floor_max", max(noise))
    assert len(cross) >= min(PARITY_STEPS, plan.steps_per_epoch), "a side stopped early (non-finite loss)"
    assert parity.first_bad is None, (
        f"step {parity.first_bad}: loss differs by {cross[parity.first_bad - 1]:.3g} (relative) between the sides, "
        f"more than the margin allows over the same-framework noise floor; per step: "
        + ", ".join(f"{c:.2g}/{n:.2g}" for c, n in zip(cross, noise)))

"""Step-level parity of two trainings: per-step loss differences against the same framework's own
round-off noise floor (cwtest.training.protocol.step_parity), on the per-step figures of real runs."""

from __future__ import annotations

from cwtest.registries.tolerances import STEP_PARITY_MARGIN
from cwtest.training.protocol import step_parity

# ResNet50 paper_table5_top1, harmonized, smoke budget, synthetic data, one thread per process:
# torch against Keras, and torch against itself nudged by one ulp (the first 12 of 20 steps, as the
# failure message printed them).
RESNET_CROSS = [1.6e-05, 0.047, 0.072, 0.13, 0.07, 0.062, 0.035, 0.058, 0.02, 0.43, 2.6, 0.53]
RESNET_NOISE = [6.3e-06, 0.043, 0.015, 0.038, 0.045, 0.018, 0.1, 0.11, 0.2, 0.083, 0.082, 0.29]


def test_a_quiet_trajectory_is_judged_at_every_step():
    noise = [4e-7] * 20
    assert step_parity([2e-6] * 20, noise).judged == 20
    assert step_parity([2e-6] * 20, noise).first_bad is None


def test_a_semantic_difference_in_a_quiet_trajectory_fails_where_it_appears():
    # VGG16 without the adam_epsilon knob: 2.8e-3 at step 2 over a noise floor of 4e-7.
    parity = step_parity([2e-6, 2.8e-3] + [3e-3] * 18, [4e-7] * 20)
    assert parity.first_bad == 2 and parity.worst > 100


def test_steps_past_decorrelation_are_not_judged():
    parity = step_parity(RESNET_CROSS, RESNET_NOISE)
    # The allowance reaches the loss itself at step 7 (10 x 0.1): torch no longer agrees with
    # itself, so step 11's 2.6 is no evidence either way.
    assert parity.judged == 6 and parity.first_bad is None
    assert parity.worst < 1


def test_a_difference_before_decorrelation_still_fails():
    cross = RESNET_CROSS[:3] + [STEP_PARITY_MARGIN * 0.043 * 1.5] + RESNET_CROSS[4:]
    assert step_parity(cross, RESNET_NOISE).first_bad == 4


"""torch and Keras optimizers stepped with identical gradients, and the Adam epsilon effect in numbers. With a
pair of two Keras backends (keras-torch:cpu,keras-jax:cpu) each harmonized Keras optimizer steps on both."""

import math

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from cwtest.frameworks.imports import case_keras_backends, run_keras_backends
from cwtest.blocks.layer_parity import assert_within
from cwtest.blocks.optimizer_paths import keras_pair_trajectories, path_scale, trajectories
from cwtest.core.adam import adam_reference
from cwtest.registries.optimizers import OPTIMIZERS, REGISTRY, start
from cwtest.registries.defects import optimizer_params_avoiding
from cwtest.registries.differences import pytest_params
from cwtest.core.metrics import measure


@pytest.mark.parametrize("case", pytest_params(OPTIMIZERS, "optimizer", run_keras_backends()))
@given(data=st.data())
def test_optimizer_steps(case, data, worst_errors, reproduce, keras_pair):
    if case.entry.unavailable():
        pytest.skip(case.entry.unavailable())
    note(reproduce)
    params = data.draw(case.entry.params, label="params")
    # Catalogued defects the case would meet (cwtest.registries.defects); their own tests show them.
    params = optimizer_params_avoiding(case_keras_backends(keras_pair), case.entry.name, params)
    steps = params["steps"]
    if keras_pair:  # one Keras optimizer on two Keras backends
        path = keras_pair_trajectories(case.entry, params, keras_pair[1], tuple(range(1, steps + 1)))
        scale = path_scale(start(params, steps)[0], [ours for ours, _ in path])
    else:
        path = trajectories(case.entry, params, case.kept, tuple(range(1, steps + 1)))
        scale = path_scale(start(params, steps)[0], [torch_side for torch_side, _ in path])
    reference, other = path[-1]
    results = {f"theta after {steps} steps": measure(reference, other, scale)}
    limit = case.entry.tolerance_per_step * params["steps"]
    worst_errors(results, limit)
    assert_within(results, limit, case.id, "optimizer")


# The demonstration: gradients of the size of epsilon, where its placement decides the step.
CHECKPOINTS = (1, 10, 100, 1000)
ADAM = {"seed": 0, "size": 256, "grad_scale": 1e-7, "lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7,
        "weight_decay": 0.0}
# The published gap must match the catalogue's float64 prediction to this fraction; the rest
# is the fp32 round-off of both sides (measured: under 1e-3 at every checkpoint).
PREDICTION_RTOL = 0.01


def test_adam_epsilon_effect(record_metric, torch_and_keras):
    """Published semantics drift apart as the catalogue predicts; harmonized stay at round-off."""
    theta, gradients = start(ADAM, max(CHECKPOINTS))
    args = (ADAM["lr"], ADAM["beta1"], ADAM["beta2"], ADAM["eps"])
    predicted = [np.abs(a - b).max() for a, b in zip(
        adam_reference(theta, gradients, *args, epsilon_hat=False, checkpoints=CHECKPOINTS),
        adam_reference(theta, gradients, *args, epsilon_hat=True, checkpoints=CHECKPOINTS))]
    published = trajectories(REGISTRY["adam"], ADAM, frozenset({"adam_epsilon"}), CHECKPOINTS)
    harmonized = trajectories(REGISTRY["adam"], ADAM, frozenset(), CHECKPOINTS)
    lines = []
    for t, expected, (pt, pk), (ht, hk) in zip(CHECKPOINTS, predicted, published, harmonized):
        gap, harmonized_gap = np.abs(pt - pk).max(), measure(ht, hk)
        record_metric(f"adam_published_gap_step{t}", gap)
        record_metric(f"adam_predicted_gap_step{t}", expected)
        record_metric(f"adam_harmonized_gap_step{t}", harmonized_gap.max_abs)
        record_metric(f"adam_keras_eps_factor_step{t}", 1 / math.sqrt(1 - ADAM["beta2"] ** t))
        lines.append(f"step {t}: published {gap:.3g} (predicted {expected:.3g}), harmonized {harmonized_gap.max_abs:.3g}")
        assert abs(gap - expected) <= PREDICTION_RTOL * expected, "\n".join(lines)
        assert_within({f"harmonized theta after {t} steps": harmonized_gap},
                      REGISTRY["adam"].tolerance_per_step * t, "adam", "optimizer")
    print("\n".join(lines))

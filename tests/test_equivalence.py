"""Noise floor and equivalence: the t distribution against printed tables, the verdicts on samples
whose answer is known, and the bootstrap interval's coverage."""

import math

import numpy as np
import pytest

from cwtest.analysis.equivalence import MARGIN, bootstrap_interval, equivalence, student_t_cdf, tost


@pytest.mark.parametrize("t, df, expected", [
    (2.776, 4, 0.975), (1.812, 10, 0.95), (2.571, 5, 0.975), (12.706, 1, 0.975), (1.96, 10_000, 0.975),
    (0.0, 3, 0.5), (-2.776, 4, 0.025),
])
def test_t_distribution_matches_the_printed_tables(t, df, expected):
    # Critical values as printed in t tables, to their three decimals.
    assert student_t_cdf(t, df) == pytest.approx(expected, abs=2e-4)


def test_t_distribution_matches_numerical_integration():
    df, upper = 7.3, 3.5
    grid = np.linspace(-4000, upper, 2_000_001)
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    density = scale * (1 + grid ** 2 / df) ** (-(df + 1) / 2)
    assert student_t_cdf(upper, df) == pytest.approx(np.trapezoid(density, grid), abs=1e-6)


def test_close_sides_are_equivalent():
    found = equivalence([0.41, 0.43, 0.40, 0.42, 0.44], [0.40, 0.42, 0.41, 0.43, 0.39])
    assert found.verdict == "equivalent" and found.p_value < 0.05
    assert found.difference == pytest.approx(0.01)
    assert found.ci_low < 0.01 < found.ci_high
    assert found.left.pair_differences and max(found.left.pair_differences) == pytest.approx(0.04)


def test_far_sides_are_divergent():
    found = equivalence([0.61, 0.63, 0.60, 0.62, 0.64], [0.40, 0.42, 0.41, 0.43, 0.39])
    assert found.verdict == "divergent" and found.ci_low > MARGIN


def test_noisy_sides_are_inconclusive():
    found = equivalence([0.41, 0.53, 0.30, 0.42, 0.44], [0.40, 0.52, 0.31, 0.43, 0.39])
    assert found.verdict == "inconclusive"


def test_identical_repeats_decide_exactly():
    assert tost([0.5] * 5, [0.52] * 5) == 0.0
    assert tost([0.5] * 5, [0.6] * 5) == 1.0


def test_metrics_are_plain_floats_for_the_report():
    metrics = equivalence([0.41, 0.43, 0.40], [0.40, 0.42, 0.41]).metrics(("torch", "tensorflow"))
    assert all(type(v) is float for v in metrics.values())
    assert {"torch_acc_std", "tensorflow_self_diff_max", "acc_diff_ci_low", "tost_p", "equivalent"} <= set(metrics)


def test_one_repeat_is_refused():
    with pytest.raises(ValueError, match="at least two repeats"):
        equivalence([0.5], [0.5, 0.6])


def test_bootstrap_interval_covers_the_true_difference():
    """Drawn from known normal distributions (true difference 0.02), the 95% interval covers it in
    most draws; with five repeats the percentile bootstrap is known to run a little narrow."""
    rng = np.random.default_rng(1)
    covered = 0
    for draw in range(200):
        left, right = rng.normal(0.52, 0.02, 20), rng.normal(0.50, 0.02, 20)
        low, high = bootstrap_interval(left, right, resamples=2000, seed=draw)
        covered += low <= 0.02 <= high
    assert 0.88 <= covered / 200 <= 0.99

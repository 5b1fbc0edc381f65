"""Noise floor and equivalence of repeated trainings: is a cross-framework gap more than noise?

A trial trained N times per side with different seeds gives two samples of test accuracy.
The within-framework spread (torch vs torch, TensorFlow vs TensorFlow) is the noise floor;
the cross-framework difference of mean accuracies gets a percentile bootstrap confidence
interval; and two one-sided Welch t-tests (TOST) decide equivalence within a stated margin:
the sides are *equivalent* when both tests reject at ALPHA, *divergent* when the whole
confidence interval lies beyond the margin, else *inconclusive* (too few or too noisy repeats).

The repeats of the two sides are independent samples (seed i of one side has nothing to do
with seed i of the other), hence Welch's unpaired test and an unpaired bootstrap.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from cwtest.inputs.trials import DIVERGENT

# The paper calls a pair divergent from 0.05 apart (its Tables 2-3): within that, equivalent.
MARGIN = DIVERGENT
ALPHA = 0.05
CONFIDENCE = 0.95
RESAMPLES = 10_000


@dataclass(frozen=True)
class Spread:
    """One side's repeated accuracies and how far they fall apart."""
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def std(self) -> float:
        return float(np.std(self.values, ddof=1)) if len(self.values) > 1 else 0.0

    @property
    def pair_differences(self) -> list[float]:
        """|a - b| for every two repeats: the same-framework analogue of accuracy_diff."""
        return [abs(a - b) for a, b in itertools.combinations(self.values, 2)]


@dataclass(frozen=True)
class Equivalence:
    left: Spread
    right: Spread
    difference: float  # mean(left) - mean(right)
    ci_low: float
    ci_high: float
    p_value: float  # TOST: the larger of the two one-sided p-values
    margin: float

    @property
    def verdict(self) -> str:
        if self.p_value < ALPHA:
            return "equivalent"
        if self.ci_low > self.margin or self.ci_high < -self.margin:
            return "divergent"
        return "inconclusive"

    def metrics(self, names: tuple[str, str] = ("left", "right")) -> dict[str, float]:
        """Plain floats for the report, one column each."""
        found = {"repeats": float(min(len(self.left.values), len(self.right.values)))}
        for name, side in zip(names, (self.left, self.right)):
            within = side.pair_differences
            found |= {f"{name}_acc_mean": side.mean, f"{name}_acc_std": side.std,
                      f"{name}_self_diff_mean": float(np.mean(within)) if within else math.nan,
                      f"{name}_self_diff_max": max(within, default=math.nan)}
        return found | {"acc_diff_mean": self.difference, "acc_diff_ci_low": self.ci_low,
                        "acc_diff_ci_high": self.ci_high, "tost_p": self.p_value,
                        "equivalence_margin": self.margin, "equivalent": float(self.verdict == "equivalent")}

    def describe(self) -> str:
        noise = max(self.left.pair_differences + self.right.pair_differences, default=math.nan)
        return (f"{self.verdict}: accuracy difference {self.difference:+.4f}, {CONFIDENCE:.0%} CI "
                f"[{self.ci_low:+.4f}, {self.ci_high:+.4f}], TOST p={self.p_value:.3g} for margin "
                f"±{self.margin:g}; same-framework spread up to {noise:.4f} "
                f"(std {self.left.std:.4f} / {self.right.std:.4f})")


def bootstrap_interval(left, right, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(left) - mean(right), each side resampled on its own."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    means_a = rng.choice(a, size=(resamples, a.size)).mean(axis=1)
    means_b = rng.choice(b, size=(resamples, b.size)).mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means_a - means_b, [tail, 1 - tail])
    return float(low), float(high)


def tost(left, right, margin: float = MARGIN) -> float:
    """p-value of two one-sided Welch t-tests that |mean(left) - mean(right)| < margin."""
    a, b = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
    difference = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0:  # every repeat identical: the difference is exact
        return 0.0 if abs(difference) < margin else 1.0
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    p_above_lower = 1 - student_t_cdf((difference + margin) / se, df)
    p_below_upper = student_t_cdf((difference - margin) / se, df)
    return float(max(p_above_lower, p_below_upper))


def equivalence(left, right, margin: float = MARGIN, seed: int = 0) -> Equivalence:
    """The noise floor of each side and the equivalence verdict; each side needs two repeats or more."""
    if len(left) < 2 or len(right) < 2:
        raise ValueError(f"equivalence needs at least two repeats per side (got {len(left)} and {len(right)})")
    low, high = bootstrap_interval(left, right, seed=seed)
    return Equivalence(Spread(tuple(map(float, left))), Spread(tuple(map(float, right))),
                       float(np.mean(left) - np.mean(right)), low, high, tost(left, right, margin), margin)


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom, through the regularized incomplete beta."""
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) by its continued fraction (Lentz's method), using the symmetry that keeps it convergent."""
    if x <= 0 or x >= 1:
        return float(x >= 1)
    if x > (a + 1) / (a + b + 2):
        return 1 - _incomplete_beta(b, a, 1 - x)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return front * result

"""Which hyperparameters carry information about accuracy_diff: the paper's Figure 4.

As the paper did, per architecture: every hyperparameter and accuracy_diff normalized to
[0, 1] (min-max over the architecture's trials), digitized in 0.1 bins, then the mutual
information of each hyperparameter, and of each pair (a joint variable of 100 cells), with
accuracy_diff, in bits, computed REPEATS times and given as mean and standard deviation.

The paper's estimator (NPEET) is randomized, hence its repeats; the plug-in estimate from
bin counts used here is not, so each repeat draws the trials with replacement (a bootstrap),
and the standard deviation says how much the value would move with another set of trials.
Counting gives the same value for both orders of a pair, so the paper's averaging over the
two orders is implicit. Plug-in estimates grow with the number of cells: compare pairs with
pairs and single hyperparameters with single ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from cwtest.inputs.trials import ARCHITECTURES, HYPERPARAMETERS, Trial

BINS = 10  # 0.1 wide on [0, 1]
REPEATS = 50  # as in the paper
TARGET = "accuracy_diff"


@dataclass(frozen=True)
class Information:
    arch: str
    hyperparameters: tuple[str, ...]  # one or two names
    mean: float  # bits, over the repeats
    std: float

    @property
    def label(self) -> str:
        return " × ".join(self.hyperparameters)


def digitize(values: np.ndarray) -> np.ndarray:
    """Min-max normalize to [0, 1], then the 0.1 bin of each value (1.0 joins the last bin)."""
    low, high = values.min(), values.max()
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values, dtype=float)
    return np.minimum((scaled * BINS).astype(int), BINS - 1)


def mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    """I(X; Y) in bits from the counts of two integer-coded variables."""
    joint = np.zeros((x.max() + 1, y.max() + 1))
    np.add.at(joint, (x, y), 1)
    joint /= joint.sum()
    px, py = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    seen = joint > 0
    return float(np.sum(joint[seen] * np.log2(joint[seen] / (px @ py)[seen])))


def features(trials: list[Trial]) -> dict[tuple[str, ...], np.ndarray]:
    """Each hyperparameter's bins and each pair's joint bins (code a * BINS + b)."""
    bins = {h: digitize(np.array([getattr(t, h) for t in trials], dtype=float)) for h in HYPERPARAMETERS}
    found = {(h,): codes for h, codes in bins.items()}
    found |= {(a, b): bins[a] * BINS + bins[b] for a, b in itertools.combinations(HYPERPARAMETERS, 2)}
    return found


def analyse(trials: list[Trial], repeats: int = REPEATS, seed: int = 0) -> list[Information]:
    """Per architecture, every single hyperparameter and pair, each group sorted by mean, largest first."""
    rng = np.random.default_rng(seed)
    found = []
    for arch in ARCHITECTURES:
        group = [t for t in trials if t.arch == arch]
        if len(group) < 2:
            continue
        target = digitize(np.array([getattr(t, TARGET) for t in group], dtype=float))
        draws = [rng.integers(0, len(group), len(group)) for _ in range(repeats)]
        results = []
        for names, codes in features(group).items():
            values = [mutual_information(codes[d], target[d]) for d in draws]
            results.append(Information(arch, names, float(np.mean(values)), float(np.std(values))))
        found += sorted(results, key=lambda r: (len(r.hyperparameters), -r.mean))
    return found


def table(found: list[Information], repeats: int) -> list[str]:
    lines = []
    for arch in ARCHITECTURES:
        rows = [r for r in found if r.arch == arch]
        if not rows:
            continue
        singles = [r for r in rows if len(r.hyperparameters) == 1]
        pairs = [r for r in rows if len(r.hyperparameters) == 2]
        lines += [f"{arch}: mutual information with {TARGET} (bits, mean ± std over {repeats} bootstrap repeats)",
                  *(f"  {r.label:<30} {r.mean:.3f} ± {r.std:.3f}" for r in singles + pairs),
                  f"  ranks first: {singles[0].label}; top pair: {pairs[0].label}", ""]
    return lines[:-1]

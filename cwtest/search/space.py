"""The search space: the published one, a user's ranges, and HyperSpace's overlapping subspaces.

The published search (cross_framework_hpo/parameter_sweep.py over HyperSpace) drew learning rate and Adam
epsilon uniformly (not log-uniformly), batch size and epochs as integers, and split every dimension into
two halves that overlap by a quarter of its range, so each half spans 0.625 of it: 2^4 = 16 subspaces.
The recorded boundaries say so: batch size 382 is 1000 - 0.625 * 990 rounded up, learning rate
0.0625000038 is 1e-8 + 0.625 * (0.1 - 1e-8).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

from cwtest.core.errors import InputError

OVERLAP = 0.25  # of each dimension's range, shared by its two halves
HALF = (1 + OVERLAP) / 2


@dataclass(frozen=True)
class Dimension:
    name: str
    low: float
    high: float
    integer: bool = False

    def halves(self) -> tuple[Dimension, Dimension]:
        span = (self.high - self.low) * HALF
        lower, upper = self.low + span, self.high - span
        if self.integer:
            lower, upper = math.floor(lower), math.ceil(upper)
        return replace(self, high=lower), replace(self, low=upper)


PUBLISHED = (Dimension("learning_rate", 1e-8, 0.1), Dimension("adam_epsilon", 1e-8, 1.0),
             Dimension("batch_size", 10, 1000, integer=True), Dimension("epochs", 1, 50, integer=True))


def parse_space(text: str, option: str = "--space") -> tuple[Dimension, ...]:
    """`name=low:high[,name=low:high]`: the published space with those dimensions narrowed or moved."""
    space = {d.name: d for d in PUBLISHED}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, _, bounds = item.partition("=")
        if name not in space:
            raise InputError(f"{option}: unknown dimension {name!r} (known: {', '.join(space)})")
        low_text, colon, high_text = bounds.partition(":")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            low = high = math.nan
        if not colon or not (math.isfinite(low) and math.isfinite(high)):
            raise InputError(f"{option}: {item!r} is not name=low:high, e.g. learning_rate=1e-4:0.01")
        if low >= high:
            raise InputError(f"{option}: {name} range {low_text}:{high_text} is empty or inverted (low must be below high)")
        published = {d.name: d for d in PUBLISHED}[name]
        if low < published.low or high > published.high:
            raise InputError(f"{option}: {name} range {low_text}:{high_text} leaves the published space "
                             f"{published.low:g}:{published.high:g}, which a trial table cannot hold")
        if space[name].integer and (low != int(low) or high != int(high)):
            raise InputError(f"{option}: {name} takes whole numbers, not {low_text}:{high_text}")
        space[name] = replace(space[name], low=low, high=high)
    return tuple(space.values())


def subspaces(space: tuple[Dimension, ...]) -> list[tuple[Dimension, ...]]:
    """Every combination of one half per dimension, the first dimension's lower half first."""
    return [tuple(combination) for combination in itertools.product(*(d.halves() for d in space))]


def describe(space: tuple[Dimension, ...]) -> str:
    return ", ".join(f"{d.name} {d.low:g}:{d.high:g}" for d in space)

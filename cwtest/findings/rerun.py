"""A parity check that fails runs again on the same inputs: a side whose answer changed is a finding.

A tolerance failure and a framework that gives two answers for one input need different fixes,
so the second run decides which one a failure is. A side that moved is reported as
"non-deterministic: <side>" with the value it gave each time, instead of the tolerance message.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from cwtest.blocks.layer_parity import Values
from cwtest.core.metrics import Errors


class NonDeterministic(Exception):
    """A side gave two different answers for the same input. Not an AssertionError: a strict xfail that
    expects a catalogued mismatch must not absorb it."""


def moved(first: Values, second: Values) -> list[str]:
    """One line per side and quantity whose arrays differ between the two runs, with both values at
    the element that moved most."""
    lines = []
    for what, (ref, other, _) in first.quantities.items():
        again_ref, again_other, _ = second.quantities[what]
        for side, before, after in ((first.sides[0], ref, again_ref), (first.sides[1], other, again_other)):
            before, after = np.asarray(before, np.float64), np.asarray(after, np.float64)
            if before.shape == after.shape and np.array_equal(before, after, equal_nan=True):
                continue
            if before.shape != after.shape:
                lines.append(f"{side}: {what}: shape {before.shape} then {after.shape}")
                continue
            gap = np.abs(before - after)
            gap[np.isnan(gap)] = np.inf
            at = np.unravel_index(int(np.argmax(gap)), gap.shape)
            lines.append(f"{side}: {what}: {float(before[at])!r} then {float(after[at])!r} at index {tuple(map(int, at))} "
                         f"({int((gap > 0).sum())} of {gap.size} elements changed)")
    return lines


def raise_if_moved(first: Values, run: Callable[[], Values], failure: object) -> None:
    """Run a failed check's computation again; raise NonDeterministic where a side's arrays changed.
    `failure` is what the check said of the first run."""
    changes = moved(first, run())
    if changes:
        sides = sorted({line.split(": ", 1)[0] for line in changes})
        raise NonDeterministic(f"non-deterministic: {', '.join(sides)} gave two answers for the same input:\n  "
                               + "\n  ".join(changes) + f"\nthe check on the first run said: {failure}")


def judged_twice(run: Callable[[], Values], judge: Callable[[dict[str, Errors]], None],
                 limit: float | None = None) -> Values:
    """`judge(errors)` on a first run (errors against float64 too where one is over `limit`, see
    Values.errors); if it fails, `run` again and raise NonDeterministic where a side's arrays changed,
    else the judge's own failure."""
    first = run()
    try:
        judge(first.errors(limit))
    except AssertionError as failure:
        raise_if_moved(first, run, failure)
        raise
    return first

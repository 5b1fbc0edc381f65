"""Training scale: how many images and epochs a budget allows.

`full` is the trial as published. `smoke` and `reduced` cut images and epochs for CPUs:
the image counts are multiples of the class count so that subsets stay balanced, and a
batch size larger than the cut data allows is reduced so that an epoch still has several
steps (see cwtest.training.protocol.plan_for).
"""

from __future__ import annotations

from dataclasses import dataclass

from cwtest.core.errors import InputError


@dataclass(frozen=True)
class Budget:
    name: str
    train_images: int | None  # None: all
    test_images: int | None
    max_epochs: int | None
    # Fewest steps an epoch may have; the trial's batch size is cut to keep at least these (None: no cut).
    min_steps: int | None


BUDGETS = {
    "smoke": Budget("smoke", train_images=500, test_images=250, max_epochs=1, min_steps=20),
    "reduced": Budget("reduced", train_images=5000, test_images=1000, max_epochs=2, min_steps=20),
    "full": Budget("full", train_images=None, test_images=None, max_epochs=None, min_steps=None),
}


def get_budget(name: str) -> Budget:
    if name not in BUDGETS:
        raise InputError(f"--crossedwires-budget: unknown budget {name!r} (known: {', '.join(BUDGETS)})")
    return BUDGETS[name]

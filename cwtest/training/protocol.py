"""Paired training of one CrossedWires trial: the plan, each side's run, and what they differ by.

Both sides train on the same uint8 arrays from the one loader, in dataset order (the
published runs did not shuffle), keeping the last partial batch, with the trial's learning
rate, batch size, epochs and Adam epsilon; the harmonization knobs (cwtest.registries.knobs) decide
which published differences remain.

Budgets scale a trial down by one rule: take the budget's images (class-balanced), keep the
trial's batch size unless that leaves fewer than the budget's `min_steps` steps per epoch (then
the batch is cut to images // min_steps), and cap the epochs. Learning rate and epsilon stay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from cwtest.inputs.budgets import Budget
from cwtest.inputs.data import Cifar10
from cwtest.inputs.trials import Trial
from cwtest.core.accuracy import accuracies
from cwtest.core.training_loop import Plan, SideRun
from cwtest.registries.tolerances import STEP_LOSS_FLOOR, STEP_PARITY_DECORRELATED, STEP_PARITY_MARGIN

# Steps whose losses the step-level parity check compares.
PARITY_STEPS = 20


def plan_for(trial: Trial, budget: Budget, data: Cifar10) -> Plan:
    """The trial at the budget's scale; `data` is already the budget's subset."""
    images = len(data.y_train)
    batch = trial.batch_size
    if budget.min_steps and images // budget.min_steps < batch:
        batch = max(1, images // budget.min_steps)
    epochs = min(trial.epochs, budget.max_epochs or trial.epochs)
    return Plan(trial.learning_rate, trial.adam_epsilon, batch, epochs, images, len(data.y_test))


def first_steps(plan: Plan, steps: int) -> tuple[Plan, int]:
    """A plan that trains only the first `steps` steps of `plan` (the same batches, in the same
    order), and how many of the training images it reads."""
    if plan.steps_per_epoch >= steps:
        images = min(plan.train_images, steps * plan.batch_size)
        return replace(plan, epochs=1, train_images=images), images
    return replace(plan, epochs=min(plan.epochs, math.ceil(steps / plan.steps_per_epoch))), plan.train_images


def divergence(left: SideRun, right: SideRun, labels: np.ndarray, batch_size: int,
               apis: tuple[str, str]) -> dict[str, float]:
    """The numbers that say how far the two trained sides ended up apart."""
    metrics = {
        **accuracies((left.predictions, right.predictions), labels, batch_size, apis),
        "disagreement": float(np.mean(left.predictions != right.predictions)),
        "left_finite": float(left.finite),
        "right_finite": float(right.finite),
        "left_seconds": left.seconds,
        "right_seconds": right.seconds,
        "left_images_per_s": left.images_per_second,
        "right_images_per_s": right.images_per_second,
        "step_loss_max_rel_diff": step_loss_difference(left.step_losses, right.step_losses),
    }
    curves = [abs(a - b) for a, b in zip(left.epoch_losses, right.epoch_losses)]
    metrics["loss_curve_max_abs_diff"] = max(curves) if curves else math.nan
    for name, run in (("left", left), ("right", right)):
        for epoch, loss in enumerate(run.epoch_losses, 1):
            metrics[f"{name}_loss_epoch_{epoch}"] = loss
    return metrics


@dataclass(frozen=True)
class StepParity:
    worst: float  # the largest difference / allowance over the steps judged
    first_bad: int | None  # the first step over its allowance, or None
    judged: int  # steps judged: the first ones, up to where the noise floor decorrelates the trajectory


def step_differences(left: list[float], right: list[float], steps: int = PARITY_STEPS) -> list[float]:
    """|l - r| / |r| for each of the first `steps` steps both sides took; inf where one blew up."""
    return [abs(a - b) / abs(b) if math.isfinite(a - b) and b else math.inf
            for a, b in zip(left[:steps], right[:steps])]


def step_loss_difference(left: list[float], right: list[float], steps: int = PARITY_STEPS) -> float:
    found = step_differences(left, right, steps)
    return max(found) if found else math.nan


def step_parity(cross: list[float], noise: list[float], margin: float = STEP_PARITY_MARGIN,
                floor: float = STEP_LOSS_FLOOR, decorrelated: float = STEP_PARITY_DECORRELATED) -> StepParity:
    """Step-level parity of the first steps, judged while the noise floor leaves it any power."""
    worst, first_bad, envelope, judged = 0.0, None, 0.0, 0
    for step, (difference, drift) in enumerate(zip(cross, noise), 1):
        envelope = max(envelope, drift)
        allowed = max(margin * envelope, floor)
        if allowed >= decorrelated:
            break
        judged = step
        worst = max(worst, difference / allowed)
        if difference > allowed and first_bad is None:
            first_bad = step
    return StepParity(worst, first_bad, judged)

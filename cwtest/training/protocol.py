"""Paired training of one CrossedWires trial: the plan, each side's run, and what they differ by.

Both sides train on the same uint8 arrays from the one loader, in dataset order (the
published runs did not shuffle), keeping the last partial batch, with the trial's learning
rate, batch size, epochs and Adam epsilon; the harmonization knobs (cwtest.training.harmonize) decide
which published differences remain.

Budgets scale a trial down by one rule: take the budget's images (class-balanced), keep the
trial's batch size unless that leaves fewer than the budget's `min_steps` steps per epoch (then
the batch is cut to images // min_steps), and cap the epochs. Learning rate and epsilon stay.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from cwtest.inputs.budgets import Budget
from cwtest.inputs.data import Cifar10
from cwtest.inputs.trials import Trial
from cwtest.session import live

BETA_2 = 0.999  # Adam's default in both frameworks
# Steps whose losses the step-level parity check compares.
PARITY_STEPS = 20
# Step-level parity: the two sides' per-step losses may differ by at most STEP_PARITY_MARGIN
# times what the same framework differs from itself when its initial weights move by one ulp
# (the round-off noise floor of that training trajectory, a running maximum over the steps),
# and never need to agree better than STEP_LOSS_FLOOR.
# Measured on smoke budgets (CPU, synthetic data, first built-in trial, harmonized):
#   VGG16: torch vs Keras <= 2.5e-6 over 20 steps, torch vs nudged torch <= 4.1e-7;
#   DenseNet121: torch vs Keras 6.2e-7 at step 1 growing to 8.6e-2, torch vs nudged torch 8.2e-7
#   to 6.1e-2 (BatchNorm over 1x1 maps with a batch of 25 amplifies round-off ~10x per step),
#   torch vs Keras / torch vs nudged torch <= 1.6 at every step.
# A remaining semantic difference shows far above both: VGG16 without the adam_epsilon knob
# 2.8e-3 at step 2, without the dropout knob 1.5e-3 at step 1.
STEP_PARITY_MARGIN = 10.0
# A mean cross-entropy near 2.3 has an fp32 ulp of 2.4e-7; two correct implementations
# summing in different orders differ by ~10 ulps (measured 2.5e-6).
STEP_LOSS_FLOOR = 1e-5
# Step-level parity judges a step only while its allowance is below this (relative) difference:
# once the allowance reaches 100% of the loss, the same framework's trajectories have
# decorrelated from themselves, and two losses are two draws from the training's spread, which
# no ratio of them can tell from a semantic difference. Measured (smoke budget, synthetic data,
# ResNet50 paper_table5_top1, lr 0.056, batch 25, one thread per process): torch against
# nudged torch 0.043 at step 2, 0.2 at step 9, 6.4 at step 18; torch against Keras 0.047 at step 2,
# within the margin until step 10, then 2.6 at step 11: less than torch differs from itself later.
STEP_PARITY_DECORRELATED = 1.0


@dataclass(frozen=True)
class Plan:
    learning_rate: float
    adam_epsilon: float
    batch_size: int
    epochs: int
    train_images: int
    test_images: int

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.train_images / self.batch_size)


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


def torch_epsilon(keras_epsilon: float, step: int) -> float:
    """The torch Adam epsilon that makes step `step` (1-based) equal to Keras's epsilon-hat update."""
    return keras_epsilon / math.sqrt(1.0 - BETA_2 ** step)


@dataclass
class SideRun:
    side: str
    step_losses: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    predictions: np.ndarray | None = None  # argmax class per test image
    seconds: float = 0.0
    images: int = 0  # training images processed

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.step_losses)

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0


def batches(count: int, size: int):
    """(start, stop) of every batch in dataset order, the last one partial."""
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def run_epochs(plan: Plan, count: int, step, side: str, progress: "Progress") -> SideRun:
    """The loop both frameworks share: batches in dataset order, one loss per step from
    `step(start, stop, step_number)`, and a stop at the first non-finite loss (a blown-up run
    is a result, not something to keep computing on)."""
    run = SideRun(side)
    started = time.perf_counter()
    epoch_batches = batches(count, plan.batch_size)
    for epoch in range(1, plan.epochs + 1):
        total = 0.0
        for number, (start, stop) in enumerate(epoch_batches, 1):
            run.step_losses.append(step(start, stop, len(run.step_losses) + 1))
            run.images += stop - start
            total += run.step_losses[-1] * (stop - start)
            progress.step(side, epoch, number, len(epoch_batches), run.images)
            if not run.finite:
                break
        run.epoch_losses.append(total / count)
        progress.epoch(side, epoch, run.epoch_losses[-1], run.images)
        if not run.finite:
            break
    run.seconds = time.perf_counter() - started
    return run


class Progress:
    """One line per epoch per side (loss, images/s and the time left for that side) to `emit`, and
    the steps as they go to the run's terminal (cwtest.session.live)."""

    def __init__(self, label: str, plan: Plan, emit) -> None:
        self.label, self.plan, self.emit = label, plan, emit
        self.restart()

    def restart(self) -> None:
        """Called as a side starts training: rates and times are per side."""
        self.started = time.perf_counter()
        self.first_step: tuple[float, int] | None = None  # when the side's first step ended, and its images
        live.restart()

    def _pace(self, images: int) -> str:
        # The rate leaves the first step out: it holds the side's warm-up (Keras traces and compiles
        # its step there), which would make the time left for a 20-step run look ten times longer.
        since, done = self.first_step if self.first_step and images > self.first_step[1] else (self.started, 0)
        elapsed = time.perf_counter() - since
        rate = (images - done) / elapsed if elapsed else 0.0
        left = (self.plan.epochs * self.plan.train_images - images) / rate if rate else 0.0
        return f"{rate:.1f} images/s, {left:.0f} s left for this side"

    def step(self, side: str, epoch: int, number: int, steps: int, images: int) -> None:
        head = f"{self.label} {side}: epoch {epoch}/{self.plan.epochs} step {number}/{steps}"
        if self.first_step is None:
            self.first_step = time.perf_counter(), images
            live.show(f"{head}, first step {self.first_step[0] - self.started:.1f} s (warm-up; rates from the next)")
            return
        live.show(f"{head}, {self._pace(images)}")

    def epoch(self, side: str, epoch: int, loss: float, images: int) -> None:
        line = f"{self.label} {side}: epoch {epoch}/{self.plan.epochs} loss {loss:.4f} {self._pace(images)}"
        self.emit(line)
        live.show(line, final=True)


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Exact test accuracy: correct over all images (not a mean of per-batch means)."""
    return float(np.mean(predictions == labels))


# The model codes whose published test accuracy was a mean of per-batch accuracies (published_accuracy).
BATCH_MEAN_ACCURACY = frozenset({"torch"})


def published_accuracy(predictions: np.ndarray, labels: np.ndarray, batch_size: int, api: str) -> float:
    """The test accuracy as the CrossedWires trials recorded it for a side running `api`'s model code.

    Their PyTorch side's pt_test_acc is the mean of per-batch accuracies over the unshuffled test
    DataLoader at the trial's batch size (a Lightning Accuracy per batch, averaged with
    statistics.mean): the last, smaller batch weighs as much as a full one, so whenever the test set
    is not a multiple of the batch size it is not correct/total. Their TensorFlow side's tf_test_acc
    is Keras's evaluate, which is exact. Comparisons with recorded numbers use this definition; every
    other comparison uses `accuracy`.
    """
    if api not in BATCH_MEAN_ACCURACY:
        return accuracy(predictions, labels)
    correct = predictions == labels
    return float(np.mean([np.mean(correct[a:a + batch_size]) for a in range(0, len(correct), batch_size)]))


def accuracies(predictions: tuple[np.ndarray, np.ndarray], labels: np.ndarray, batch_size: int,
               apis: tuple[str, str]) -> dict[str, float]:
    """Both sides' exact accuracies and their difference, and the same under the published definition."""
    found = {}
    for name, predicted, api in zip(("left", "right"), predictions, apis):
        found[f"{name}_test_acc"] = accuracy(predicted, labels)
        found[f"{name}_published_test_acc"] = published_accuracy(predicted, labels, batch_size, api)
    found["accuracy_diff"] = abs(found["left_test_acc"] - found["right_test_acc"])
    found["published_accuracy_diff"] = abs(found["left_published_test_acc"] - found["right_published_test_acc"])
    return found


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

"""The training loop both frameworks' adapters run, and the records it keeps: a trial's plan at a budget's
scale, each side's per-step and per-epoch losses, and the progress it reports (cwtest.core.events)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from cwtest.core import events

BETA_2 = 0.999  # Adam's default in both frameworks


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
    the steps as they go to the progress sink (cwtest.core.events), which a run points at its terminal."""

    def __init__(self, label: str, plan: Plan, emit) -> None:
        self.label, self.plan, self.emit = label, plan, emit
        self.restart()

    def restart(self) -> None:
        """Called as a side starts training: rates and times are per side."""
        self.started = time.perf_counter()
        self.first_step: tuple[float, int] | None = None  # when the side's first step ended, and its images
        events.restart()

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
            events.show(f"{head}, first step {self.first_step[0] - self.started:.1f} s (warm-up; rates from the next)")
            return
        events.show(f"{head}, {self._pace(images)}")

    def epoch(self, side: str, epoch: int, loss: float, images: int) -> None:
        line = f"{self.label} {side}: epoch {epoch}/{self.plan.epochs} loss {loss:.4f} {self._pace(images)}"
        self.emit(line)
        events.show(line, final=True)

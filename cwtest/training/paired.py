"""Train both sides of a pair on one trial and measure how far apart they end up."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cwtest.frameworks import trainer_for
from cwtest.frameworks.sides import Pair, Side, decomposition_sides
from cwtest.core.errors import InputError
from cwtest.inputs.data import Cifar10
from cwtest.registries.architectures import REGISTRY
from cwtest.registries.knobs import keras_flavour, side_knobs
from cwtest.core.training_loop import Plan, Progress, SideRun
from cwtest.core.accuracy import accuracy
from cwtest.training.protocol import PARITY_STEPS, divergence, first_steps, step_differences


@dataclass(eq=False)
class TrainedPair:
    metrics: dict[str, float]
    models: tuple[object, object]
    step_losses: tuple[list[float], list[float]]
    runs: tuple[SideRun, ...] = ()


def _keras_flavour(arch: str, knobs: frozenset[str]):
    return REGISTRY[arch].flavours[keras_flavour(arch, knobs)]


def build_pair(arch: str, knobs: frozenset[str], pair: Pair, seed: int = 0) -> tuple[object, object]:
    """Both models, each from `seed`; with `init`, the right side starts from the left side's weights."""
    models = [trainer_for(side).build_trainable(arch, knobs, side, seed) for side in (pair.left, pair.right)]
    if "init" in knobs:
        _share_initial_weights(arch, knobs, pair, models)
    return models[0], models[1]


def _share_initial_weights(arch, knobs, pair: Pair, models) -> None:
    if pair.one_model_code:  # one flavour, so the same weight list
        trainer_for(pair.right).set_weights(models[1], trainer_for(pair.left).weights(models[0]))
        return
    from cwtest.models.structure import summary
    from cwtest.models.transfer import copy_weights

    torch_model, keras_model = pair.torch_first(models)
    torch_side, keras_side = pair.torch_first((pair.left, pair.right))
    comparison = _paired_layers(arch, knobs, torch_model, keras_model, torch_side, keras_side)
    if not comparison.equivalent:
        raise InputError(f"--crossedwires-harmonize: init needs both {arch} models to have the same structure "
                         f"(add the architecture knob): {summary(comparison.mismatches)}")
    copy_weights(comparison.pairs, "torch->keras", torch_side, keras_side)


def _paired_layers(arch: str, knobs: frozenset[str], torch_model, keras_model, torch_side: Side, keras_side: Side):
    """The torch model's layers paired with the Keras model's (which lives in its backend's child process, whose
    layers the weight map reads and writes there: cwtest.frameworks.child)."""
    from cwtest.models.structure import compare

    return compare(torch_model, keras_model, _keras_flavour(arch, knobs).keras_name, torch_side, keras_side)


def weight_distance(arch: str, knobs: frozenset[str], pair: Pair, models) -> float:
    """Relative L2 distance of all paired weights after training: |a - b| / |b| over every layer."""
    if pair.one_model_code:
        arrays = list(zip(*(trainer_for(side).weights(model) for side, model in zip((pair.left, pair.right), models))))
    else:
        from cwtest.models.transfer import keras_layout_pairs

        torch_model, keras_model = pair.torch_first(models)
        torch_side, keras_side = pair.torch_first((pair.left, pair.right))
        comparison = _paired_layers(arch, knobs, torch_model, keras_model, torch_side, keras_side)
        arrays = keras_layout_pairs(comparison.pairs, torch_side, keras_side)
    difference = math.sqrt(sum(float(np.sum((a.astype(np.float64) - b) ** 2)) for a, b in arrays))
    scale = math.sqrt(sum(float(np.sum(b.astype(np.float64) ** 2)) for _, b in arrays))
    return difference / scale if scale else math.nan


def train_pair(arch: str, label: str, plan: Plan, data: Cifar10, knobs: frozenset[str], pair: Pair,
               emit=print, seed: int = 0, reuse: dict | None = None) -> TrainedPair:
    """`reuse` (a dict kept across calls) lets a side whose training the knobs leave unchanged
    take its earlier run instead of training again: attribution switches knobs one at a time, and
    most change one side only."""
    models = list(build_pair(arch, knobs, pair, seed))
    progress = Progress(label, plan, emit)
    runs = []
    for position, side in enumerate((pair.left, pair.right)):
        key = _reuse_key(arch, knobs, pair, side, seed, plan)
        if reuse is not None and key in reuse:
            run, models[position] = reuse[key]
            emit(f"{label} {side}: these knobs leave its training as in an earlier run; reusing that run")
        else:
            progress.restart()
            trainer = trainer_for(side)
            run = trainer.train(models[position], plan, data.x_train, data.y_train, knobs, side, progress)
            run.predictions = trainer.predict(models[position], data.x_test, side)
            if reuse is not None and key is not None:
                reuse[key] = run, models[position]
        runs.append(run)
    metrics = divergence(runs[0], runs[1], data.y_test, plan.batch_size, (pair.left.api, pair.right.api))
    metrics.update(train_images=plan.train_images, test_images=plan.test_images, epochs=plan.epochs,
                   batch_size=plan.batch_size, steps=len(runs[0].step_losses))
    if "init" in knobs:
        metrics["weight_distance"] = weight_distance(arch, knobs, pair, models)
    return TrainedPair(metrics, tuple(models), (runs[0].step_losses, runs[1].step_losses), tuple(runs))


def train_side(arch: str, label: str, plan: Plan, data: Cifar10, knobs: frozenset[str], side: Side, emit=print,
               seed: int = 0) -> SideRun:
    """One side alone, built from `seed`, trained under the plan and predicted on the test images."""
    trainer = trainer_for(side)
    model = trainer.build_trainable(arch, knobs, side, seed)
    run = trainer.train(model, plan, data.x_train, data.y_train, knobs, side, Progress(label, plan, emit))
    run.predictions = trainer.predict(model, data.x_test, side)
    return run


@dataclass(frozen=True)
class Decomposition:
    """A torch/Keras accuracy difference split in two: torch against Keras on torch (the same kernels under
    two frameworks' conventions: semantics) and Keras on torch against Keras on another backend (the same
    conventions on other kernels and numerics). The parts are signed and add up to torch's accuracy less
    the other Keras side's."""
    sides: tuple[str, str, str]  # torch, Keras on torch, the other Keras side
    accuracies: tuple[float, float, float]

    @property
    def semantics(self) -> float:
        return self.accuracies[0] - self.accuracies[1]

    @property
    def kernels(self) -> float:
        return self.accuracies[1] - self.accuracies[2]

    def metrics(self) -> dict[str, float]:
        names = ("torch", "keras_on_torch", "keras_other")
        return {"decompose_semantics": self.semantics, "decompose_kernels": self.kernels,
                **{f"decompose_{n}_test_acc": a for n, a in zip(names, self.accuracies)}}


def decompose(arch: str, label: str, plan: Plan, data: Cifar10, pair: Pair, runs: dict[str, SideRun],
              emit=print, seed: int = 0) -> Decomposition:
    """The decomposition of a published-protocol pair. `runs` holds the pair's own runs by side name, where
    it trained them; each side it lacks (Keras on torch, on the torch side's device) trains here, under the
    same protocol and seed."""
    sides = decomposition_sides(pair)
    runs = dict(runs)
    for side in sides:
        if str(side) not in runs:
            runs[str(side)] = train_side(arch, label, plan, data, frozenset(), side, emit, seed)
    return Decomposition(tuple(str(s) for s in sides),
                         tuple(accuracy(runs[str(s)].predictions, data.y_test) for s in sides))


def _reuse_key(arch, knobs, pair: Pair, side: Side, seed: int, plan: Plan):
    """What decides how a side trains, or None where a knob may couple the sides (two sides of one
    model code: init copies the left one's weights into the right one)."""
    if pair.one_model_code:
        return None
    return str(side), arch, seed, plan, side_knobs(arch, knobs, side.api)


def starts_fresh(pair: Pair, knobs: frozenset[str]) -> bool:
    """Whether the pair's left model trains from its own build: `init` overwrites the Keras side's
    weights with the torch side's, and the right side's in a pair of one model code."""
    return "init" not in knobs or not pair.keras_then_torch


def noise_floor(arch: str, plan: Plan, data: Cifar10, knobs: frozenset[str], side: Side, seed: int = 0,
                reference: list[float] | None = None, steps: int = PARITY_STEPS) -> list[float]:
    """Per-step loss differences of one side against itself with its initial weights one ulp apart,
    over the first `steps` steps: the only ones step-level parity judges. `reference` is the side's
    step losses from this very build, seed and knobs when the caller has trained it already."""
    trainer = trainer_for(side)
    short, images = first_steps(plan, steps)
    runs = [] if reference is None else [reference]
    for nudged in (False, True)[len(runs):]:
        model = trainer.build_trainable(arch, knobs, side, seed)
        if nudged:
            trainer.nudge(model)
        run = trainer.train(model, short, data.x_train[:images], data.y_train[:images], knobs, side,
                            Progress("noise floor", short, lambda line: None))
        runs.append(run.step_losses)
    return step_differences(runs[0], runs[1], steps)

"""Train both sides of a pair on one trial and measure how far apart they end up."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cwtest.backends import trainer_for
from cwtest.backends.sides import Pair, Side
from cwtest.errors import InputError
from cwtest.inputs.data import Cifar10
from cwtest.models.architectures import REGISTRY
from cwtest.training.harmonize import keras_flavour, side_knobs
from cwtest.training.protocol import PARITY_STEPS, Plan, Progress, divergence, first_steps, step_differences


@dataclass(eq=False)
class TrainedPair:
    metrics: dict[str, float]
    models: tuple[object, object]
    step_losses: tuple[list[float], list[float]]


def _keras_flavour(arch: str, knobs: frozenset[str]):
    return REGISTRY[arch].flavours[keras_flavour(arch, knobs)]


def build_pair(arch: str, knobs: frozenset[str], pair: Pair, seed: int = 0) -> tuple[object, object]:
    """Both models, each from `seed`; with `init`, the right side starts from the left side's weights."""
    models = [trainer_for(side).build_trainable(arch, knobs, side, seed) for side in (pair.left, pair.right)]
    if "init" in knobs:
        _share_initial_weights(arch, knobs, pair, models)
    return models[0], models[1]


def _share_initial_weights(arch, knobs, pair: Pair, models) -> None:
    if pair.left.framework == pair.right.framework == "torch":
        models[1].load_state_dict(models[0].state_dict())
        return
    if pair.left.framework == pair.right.framework == "tensorflow":  # one flavour, so the same weight list
        models[1].set_weights(models[0].get_weights())
        return
    from cwtest.models.structure import compare, summary
    from cwtest.models.transfer import copy_weights

    torch_model, keras_model = models if pair.left.framework == "torch" else models[::-1]
    comparison = compare(torch_model, keras_model, _keras_flavour(arch, knobs).keras_name)
    if not comparison.equivalent:
        raise InputError(f"--crossedwires-harmonize: init needs both {arch} models to have the same structure "
                         f"(add the architecture knob): {summary(comparison.mismatches)}")
    copy_weights(comparison.pairs, "torch->keras")


def weight_distance(arch: str, knobs: frozenset[str], pair: Pair, models) -> float:
    """Relative L2 distance of all paired weights after training: |a - b| / |b| over every layer."""
    if pair.left.framework == pair.right.framework == "torch":
        left, right = (dict(m.state_dict()) for m in models)
        arrays = [(left[k].detach().cpu().numpy(), right[k].detach().cpu().numpy())
                  for k in left if left[k].is_floating_point()]
    elif pair.left.framework == pair.right.framework == "tensorflow":
        arrays = list(zip(models[0].get_weights(), models[1].get_weights()))
    else:
        from cwtest.models.structure import compare
        from cwtest.models.transfer import keras_layout_pairs

        torch_model, keras_model = models if pair.left.framework == "torch" else models[::-1]
        arrays = keras_layout_pairs(compare(torch_model, keras_model, _keras_flavour(arch, knobs).keras_name).pairs)
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
    metrics = divergence(runs[0], runs[1], data.y_test)
    metrics.update(train_images=plan.train_images, test_images=plan.test_images, epochs=plan.epochs,
                   batch_size=plan.batch_size, steps=len(runs[0].step_losses))
    if "init" in knobs:
        metrics["weight_distance"] = weight_distance(arch, knobs, pair, models)
    return TrainedPair(metrics, tuple(models), (runs[0].step_losses, runs[1].step_losses))


def _reuse_key(arch, knobs, pair: Pair, side: Side, seed: int, plan: Plan):
    """What decides how a side trains, or None where a knob may couple the sides (two sides of one
    framework: init copies the left one's weights into the right one)."""
    if pair.left.framework == pair.right.framework:
        return None
    return str(side), arch, seed, plan, side_knobs(arch, knobs, side.framework)


def starts_fresh(pair: Pair, knobs: frozenset[str]) -> bool:
    """Whether the pair's left model trains from its own build: `init` overwrites the Keras side's
    weights with the torch side's, and the right side's in a pair of one framework."""
    return "init" not in knobs or not (pair.left.framework == "tensorflow" and pair.right.framework == "torch")


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

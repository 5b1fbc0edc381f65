"""Paired-trainer speed against a minimal hand-written training loop, per side.

    python benchmarks/train.py [--arch vgg16,densenet121] [--batch 64] [--steps 10] [--repeats 3]
                               [--keras-backend tensorflow|jax|torch] [--exchange jax|torch|tensorflow] [--smoke]

For each architecture, torch and Keras (on --keras-backend: Keras picks one backend per process), the
same model, batch size and number of steps run through cwtest's trainer (cwtest.adapters.torch.adapter
/ cwtest.adapters.keras.adapter: per-step loss recording, NaN checks, progress) and through the
smallest loop that trains the model (torch: a hand-written loop on tensors converted once; Keras:
`Model.fit` itself on those arrays, no bookkeeping), alternating, after one warm-up each. cwtest's trainer runs a
Keras side in a child process (cwtest.frameworks.child), so its Keras figure includes the exchange. Prints
images/s of both and their ratio (trainer / minimal; aim >= 0.9).

--exchange BACKEND trains a Keras side on BACKEND in a child process (cwtest.frameworks.child), as a
pair of two Keras backends does, at the smoke budget, and prints the share of its wall time that went
to the exchange (pickling and pipes; aim <= 5%).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cwtest.frameworks import imports
from cwtest.frameworks.sides import KERAS_SIDES, Side
from cwtest.inputs.data import synthetic_cifar10
from cwtest.core.training_loop import Plan, Progress


def _minimal_torch(model, x, y, plan):
    import torch

    images = torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
    labels = torch.from_numpy(y).long()
    optimizer = torch.optim.Adam(model.parameters(), lr=plan.learning_rate, eps=plan.adam_epsilon)
    model.train()
    for start in range(0, len(y), plan.batch_size):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(images[start:start + plan.batch_size]),
                                          labels[start:start + plan.batch_size]).backward()
        optimizer.step()


def _minimal_keras(model, x, y, plan, keras_backend: str):
    keras = imports.keras()
    model.compile(optimizer=keras.optimizers.Adam(plan.learning_rate, epsilon=plan.adam_epsilon),
                  loss=keras.losses.SparseCategoricalCrossentropy(), jit_compile=keras_backend == "jax")
    model.fit(x.astype(np.float32) / 255.0, y, batch_size=plan.batch_size, epochs=1, shuffle=False, verbose=0)


def measure(arch: str, framework: str, batch: int, steps: int, repeats: int, warm_up: bool = True) -> tuple[float, float]:
    from cwtest.frameworks import adapter_for, keras_in_this_process, trainer_for

    side = Side(framework, "cpu")
    # cwtest's trainer (a Keras side's in a child process: cwtest.frameworks.child), against the minimal loop on
    # a model of this process (its adapter's build, here)
    with keras_in_this_process():
        trainer, builder = trainer_for(side), adapter_for(side)
    data = synthetic_cifar10(train=batch * steps, test=10)
    x, y = data.x_train, data.y_train
    plan = Plan(1e-4, 1e-7, batch, 1, len(y), 10)
    minimal = _minimal_torch if side.keras_backend is None else (
        lambda model, x, y, plan: _minimal_keras(model, x, y, plan, side.keras_backend))
    quiet = Progress("bench", plan, lambda line: None)
    rates = {"trainer": [], "minimal": []}
    for round_ in range(0 if warm_up else 1, repeats + 1):  # round 0 warms up both (graph tracing, allocator)
        for name in ("trainer", "minimal"):
            model = (trainer if name == "trainer" else builder).build_trainable(arch, frozenset(), side)
            started = time.perf_counter()
            if name == "trainer":
                trainer.train(model, plan, x, y, frozenset(), side, quiet)
            else:
                minimal(model, x, y, plan)
            if round_:
                rates[name].append(len(y) / (time.perf_counter() - started))
    return statistics.median(rates["trainer"]), statistics.median(rates["minimal"])


def exchange_share(arch: str, keras_backend: str, batch: int) -> tuple[float, float]:
    """(the exchange's seconds, the child's training's wall seconds) for one smoke-budget training in a child."""
    from cwtest.frameworks import trainer_for

    side = Side(KERAS_SIDES[keras_backend], "cpu")
    trainer = trainer_for(side)  # a child process, as every Keras side's trainer
    data = synthetic_cifar10(train=500, test=250)
    plan = Plan(1e-4, 1e-7, batch, 1, len(data.y_train), len(data.y_test))
    model = trainer.build_trainable(arch, frozenset(), side)
    trainer.exchange_seconds = 0.0
    started = time.perf_counter()
    trainer.train(model, plan, data.x_train, data.y_train, frozenset(), side, Progress("bench", plan, lambda line: None))
    trainer.predict(model, data.x_test, side)
    return trainer.exchange_seconds, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="vgg16,densenet121")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keras-backend", default="tensorflow", choices=sorted(KERAS_SIDES))
    parser.add_argument("--exchange", choices=sorted(KERAS_SIDES), help="a Keras backend to train in a child process")
    parser.add_argument("--smoke", action="store_true", help="its smallest run: checks that it works (CI); numbers mean little")
    args = parser.parse_args()
    if args.smoke:
        args.arch, args.batch, args.steps, args.repeats = "vgg16", 2, 1, 1
    imports.keras(args.keras_backend)  # torch first, then Keras on its backend: the order that works in one process
    for arch in args.arch.split(","):
        if args.exchange:
            exchanged, wall = exchange_share(arch, args.exchange, args.batch)
            print(f"{arch:<12} keras-{args.exchange} in a child process: exchange {exchanged:.2f} s of {wall:.1f} s "
                  f"wall, share {exchanged / wall:.1%}")
            continue
        for framework in ("torch", KERAS_SIDES[args.keras_backend]):
            trainer, minimal = measure(arch, framework, args.batch, args.steps, args.repeats, warm_up=not args.smoke)
            print(f"{arch:<12} {framework:<11} trainer {trainer:7.1f} images/s, minimal loop {minimal:7.1f} "
                  f"images/s, ratio {trainer / minimal:.2f}")


if __name__ == "__main__":
    main()

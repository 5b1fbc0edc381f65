"""Paired-trainer speed against a minimal hand-written training loop, per side.

    python benchmarks/train.py [--arch vgg16,densenet121] [--batch 64] [--steps 10] [--repeats 3]

For each architecture and framework, the same model, batch size and number of steps run
through cwtest's trainer (cwtest.backends.torch_backend / cwtest.backends.keras_backend: per-step loss
recording, NaN checks, progress) and through the smallest loop that trains the model (data
converted to float tensors once, no bookkeeping), alternating, after one warm-up each.
Prints images/s of both and their ratio (trainer / minimal; aim >= 0.9).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from cwtest.backends import frameworks
from cwtest.backends.sides import Side
from cwtest.inputs.data import synthetic_cifar10
from cwtest.training.protocol import Plan, Progress


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


def _minimal_keras(model, x, y, plan):
    keras, tf = frameworks.keras(), frameworks.tensorflow()
    optimizer = keras.optimizers.Adam(plan.learning_rate, epsilon=plan.adam_epsilon)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    images = tf.constant(x.astype(np.float32) / 255.0)

    @tf.function
    def step(batch, labels):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(batch, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))

    for start in range(0, len(y), plan.batch_size):
        step(images[start:start + plan.batch_size], y[start:start + plan.batch_size])


def measure(arch: str, framework: str, batch: int, steps: int, repeats: int) -> tuple[float, float]:
    from cwtest.backends import trainer_for

    side = Side(framework, "cpu")
    trainer = trainer_for(side)
    data = synthetic_cifar10(train=batch * steps, test=10)
    x, y = data.x_train, data.y_train
    plan = Plan(1e-4, 1e-7, batch, 1, len(y), 10)
    minimal = _minimal_torch if framework == "torch" else _minimal_keras
    quiet = Progress("bench", plan, lambda line: None)
    rates = {"trainer": [], "minimal": []}
    for round_ in range(repeats + 1):  # round 0 warms up both (graph tracing, allocator)
        for name in ("trainer", "minimal"):
            model = trainer.build_trainable(arch, frozenset(), side)
            started = time.perf_counter()
            if name == "trainer":
                trainer.train(model, plan, x, y, frozenset(), side, quiet)
            else:
                minimal(model, x, y, plan)
            if round_:
                rates[name].append(len(y) / (time.perf_counter() - started))
    return statistics.median(rates["trainer"]), statistics.median(rates["minimal"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="vgg16,densenet121")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frameworks.tensorflow()  # torch first, then TensorFlow: the order that works in one process
    for arch in args.arch.split(","):
        for framework in ("torch", "tensorflow"):
            trainer, minimal = measure(arch, framework, args.batch, args.steps, args.repeats)
            print(f"{arch:<12} {framework:<10} trainer {trainer:7.1f} images/s, minimal loop {minimal:7.1f} "
                  f"images/s, ratio {trainer / minimal:.2f}")


if __name__ == "__main__":
    main()

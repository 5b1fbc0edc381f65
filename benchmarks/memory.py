"""Resident memory a Keras training leaves behind, with its step in a tf.function and eager.

    python benchmarks/memory.py [--arch vgg16] [--trainings 4] [--steps 10] [--smoke]

Each round builds a fresh model, trains it 10 steps (--steps) with a training step of its own (as
cwtest.adapters.keras.adapter does), then drops every reference and clears the Keras session. Prints
the process's resident memory after each round, for the step in a tf.function and for the same
step run eagerly, and each one's growth per training. The eager rounds leave next to nothing, the
tf.function ones hundreds of MB each, whatever Python still refers to (nothing) and after
clear_session: tensorflow/tensorflow#62854, open upstream. This is why cwtest trains every Keras side in a child
process that it replaces once it has grown past RECYCLE_MB (cwtest.frameworks.child). The last rounds go through
cwtest's trainer that way (Keras's own train step in the child): this process's resident memory after each, the
child's, the children started and each training's seconds, once with every child a started interpreter and once
with every child forked from a process that has imported Keras (cwtest.frameworks.forkserver), as the suites run.
(Four VGG16 trainings through cwtest.adapters.torch.adapter stayed within 40 MB.)
"""

from __future__ import annotations

import argparse
import gc
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # a worker's share of the cores under -n 2
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")


def resident_mb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20


def rounds(arch: str, trainings: int, traced: bool, steps: int = 10) -> list[int]:
    from cwtest.frameworks import imports
    from cwtest.adapters.keras.adapter import build_trainable
    from cwtest.frameworks.sides import Side
    from cwtest.inputs.data import synthetic_cifar10

    keras, tf = imports.keras(), imports.tensorflow()
    data, after = synthetic_cifar10(train=steps * 10, test=10), []
    for _ in range(trainings):
        model = build_trainable(arch, frozenset(), Side("tensorflow", "cpu"))
        optimizer, loss_fn = keras.optimizers.Adam(1e-4), keras.losses.SparseCategoricalCrossentropy()

        def step(images, labels, model=model, optimizer=optimizer):
            with tf.GradientTape() as tape:
                loss = loss_fn(labels, model(tf.cast(images, tf.float32) / 255.0, training=True))
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss

        run = tf.function(step) if traced else step
        for start in range(0, steps * 10, 10):
            float(run(data.x_train[start:start + 10], data.y_train[start:start + 10]))
        del model, optimizer, step, run
        keras.backend.clear_session()
        gc.collect()
        after.append(resident_mb())
    return after


def trainer_rounds(arch: str, trainings: int, steps: int, forked: bool) -> list[tuple[int, int, int, float]]:
    """(this process's resident MB, the child's, the children started so far, the training's wall seconds with its
    build) after each training through cwtest's trainer (cwtest.frameworks.trainer_for: Keras in a child process,
    replaced past RECYCLE_MB), each child forked from a fork server or each a started interpreter."""
    from cwtest.core.training_loop import Plan, Progress
    from cwtest.frameworks import child, forkserver, trainer_for
    from cwtest.frameworks.sides import Side
    from cwtest.inputs.data import synthetic_cifar10

    side, data, after = Side("tensorflow", "cpu"), synthetic_cifar10(train=steps * 10, test=10), []
    plan = Plan(1e-4, 1e-7, 10, 1, steps * 10, 10)
    child.keras_on("tensorflow").close()  # the next call starts a child the way asked for
    forkserver.AVAILABLE = forked
    for _ in range(trainings):
        trainer, started = trainer_for(side), time.perf_counter()
        model = trainer.build_trainable(arch, frozenset(), side)
        trainer.train(model, plan, data.x_train, data.y_train, frozenset(), side, Progress("", plan, lambda _: None))
        seconds = time.perf_counter() - started
        del model
        gc.collect()
        after.append((resident_mb(), int(trainer.memory_mb()[0]), trainer.started, seconds))
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="vgg16")
    parser.add_argument("--trainings", type=int, default=4)
    parser.add_argument("--steps", type=int, default=10, help="steps of 10 images per training")
    parser.add_argument("--smoke", action="store_true", help="its smallest run: checks that it works (CI); numbers mean little")
    args = parser.parse_args()
    if args.smoke:
        args.trainings, args.steps = 2, 2  # the fewest trainings that show a growth
    for traced in (False, True):  # eager first: what the tf.function rounds leave would count against it
        after = rounds(args.arch, args.trainings, traced, args.steps)
        growth = (after[-1] - after[0]) / (len(after) - 1)
        print(f"{args.arch} Keras step {'in a tf.function' if traced else 'eager':<16}: resident MB after each "
              f"training {after}, {growth:+.0f} MB per training")
    from cwtest.frameworks.child import RECYCLE_MB

    print(f"{args.arch} through cwtest's trainer: a child is replaced past {RECYCLE_MB:.0f} MB; the first training "
          f"of each way below includes its first process's start")
    seconds = {}
    for forked in (False, True):
        found = trainer_rounds(args.arch, args.trainings * 2, args.steps, forked)
        way = "forked from a fork server" if forked else "each a started interpreter"
        seconds[forked] = sum(f[3] for f in found[1:]) / (len(found) - 1)
        print(f"  children {way}, after each training: this process {[f[0] for f in found]} MB, its Keras child "
              f"{[f[1] for f in found]} MB, children started {[f[2] for f in found]}, seconds "
              f"{[round(f[3], 1) for f in found]}; this process grew {found[-1][0] - found[0][0]:+d} MB")
    print(f"  seconds per training after the first: {seconds[False]:.1f} with started children, {seconds[True]:.1f} "
          f"with forked ones (ratio {seconds[True] / seconds[False]:.2f})")


if __name__ == "__main__":
    main()

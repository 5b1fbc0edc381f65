"""Cost of a weight transfer plus its parity check, against the two forward passes alone.

    python benchmarks/transfer.py [--arch vgg16,resnet50,densenet121] [--batch 128] [--repeats 5] [--smoke]

Per architecture (matched flavour, torch -> Keras, CPU, eval mode) and in the same process:
the median time of the two forward passes (torch, then Keras) on one batch, and of the
transfer plus the parity check (copy every weight, both forward passes, the error
statistics); it prints their ratio (aim: at most 1.5) and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from cwtest.frameworks.sides import Side
from cwtest.core.metrics import measure
from cwtest.registries.architectures import REGISTRY
from cwtest.models.parity import decidable_agreement, logits
from cwtest.models.transfer import copy_weights, transferred

TORCH, KERAS = Side("torch", "cpu"), Side("tensorflow", "cpu")


def _median_seconds(work, repeats: int) -> float:
    work()  # warm-up: first calls trace and allocate
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default=",".join(REGISTRY))
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="its smallest run: checks that it works (CI); numbers mean little")
    args = parser.parse_args()
    if args.smoke:
        args.arch, args.batch, args.repeats = "vgg16", 4, 1
    images = np.random.default_rng(0).integers(0, 256, (args.batch, 32, 32, 3), dtype=np.uint8)
    for arch in args.arch.split(","):
        pair = transferred(arch, "matched", "torch->keras", TORCH, KERAS)

        def forwards():
            logits(pair.torch_model, TORCH, images)
            logits(pair.keras_model, KERAS, images)

        def transfer_and_check():
            copy_weights(pair.structure.pairs, "torch->keras")
            reference, actual = logits(pair.torch_model, TORCH, images), logits(pair.keras_model, KERAS, images)
            decidable_agreement(actual, reference, measure(reference, actual).max_abs)

        alone, checked = _median_seconds(forwards, args.repeats), _median_seconds(transfer_and_check, args.repeats)
        print(f"{arch:>12}: forwards {alone * 1e3:8.1f} ms, transfer + parity {checked * 1e3:8.1f} ms, "
              f"ratio {checked / alone:.2f} (batch {args.batch}, median of {args.repeats})")
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()

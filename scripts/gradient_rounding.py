"""Measures what cwtest.frameworks.precision.gradient_allowance rests on: for each parameter of each model and
each batch, its gradient's relative L2 error on a target against torch fp32 on the CPU, against
the allowance without the nudge term (the "old" criterion: rtol and fp32 floor) and with it (the
"new" one), the source's nudge spread, and how many ReLU inputs changed sign.

    python scripts/gradient_rounding.py OUT.csv [TARGET ...] [--arch vgg16,resnet50] [--batches 3]

TARGET is a side (torch:cuda, torch:cuda:tf32, torch:cpu:bf16; default torch:cpu:bf16), optionally
with a suffix that makes a stand-in on this machine:
  /native   fp32 on the CPU with oneDNN off: other convolution kernels and summation orders, the
            nearest a CPU gets to another device's fp32 (its ReLUs can take the other branch too);
  /planted  the target's first convolution weight moved by PLANTED relative, each element with a
            random sign: a wrong kernel, which the criterion must fail.
Prints one line per model, target and batch; writes every parameter's row to OUT.csv.
ReLU sign changes are counted over nn.ReLU modules (DenseNet's final functional ReLU is not seen):
target, each nudge and the float64 reference, each against the source's fp32 pass.
"""

from __future__ import annotations

import argparse
import csv
import time
from contextlib import contextmanager, nullcontext

import numpy as np

from cwtest.frameworks.precision import NUDGE_MARGIN, NUDGE_UNITS, gradient_allowance, looser, unit_ratio
from cwtest.frameworks.sides import parse_side
from cwtest.inputs.budgets import BUDGETS
from cwtest.inputs.data import synthetic_cifar10
from cwtest.adapters.torch.adapter import float_gradients
from cwtest.models.device_transfer import NUDGE_PATTERNS, compared, copied, float_images, source_gradients
from cwtest.models.parity import comparable

BATCH = 16  # as suites/transfer/test_devices.py
PLANTED = 1e-3  # relative size of the planted error: far below bf16's allowance, far above fp32 rounding


@contextmanager
def relu_signs(model, passes: list):
    """Each forward pass through `model` (or a deep copy of it: hooks are shared) appends a list of
    every nn.ReLU input's sign mask, in call order, to `passes`."""
    import torch

    def start(module, args):
        passes.append([])

    def record(module, args):
        passes[-1].append((args[0] > 0).detach().cpu())

    handles = [model.register_forward_pre_hook(start)]
    handles += [m.register_forward_pre_hook(record) for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    try:
        yield passes
    finally:
        for handle in handles:
            handle.remove()


def flips(masks: list, reference: list) -> int:
    return int(sum((a != b).sum() for a, b in zip(masks, reference, strict=True)))


def plant(model) -> str:
    """Move each element of the first parameter of `model` (its first convolution's weight) by PLANTED relative,
    with a random sign: a wrong kernel. (Scaling a BatchNorm weight as a whole is no test: in ResNet50 the next
    BatchNorm normalizes most of it away, and the old criterion passed it on 2 of 3 batches.)"""
    import torch

    name, parameter = next(iter(model.named_parameters()))
    signs = np.random.default_rng(99).choice((-1.0, 1.0), size=tuple(parameter.shape))
    with torch.no_grad():
        parameter.mul_(1 + PLANTED * torch.from_numpy(signs).float().to(parameter.device))
    return name


def measure(arch: str, spec: str, data, batches: int, patterns: int, rows: list) -> None:
    import torch

    side, _, standin = spec.partition("/")
    source, target = parse_side("torch:cpu"), parse_side(side)
    mode = looser(source, target)
    models = copied(arch, source, target)
    planted = plant(models[1]) if standin == "planted" else ""

    def kernels():  # a fresh context per batch: torch's flags() cannot be entered twice
        return torch.backends.mkldnn.flags(enabled=False) if standin == "native" else nullcontext()

    for batch in range(batches):
        part = slice(batch * BATCH, (batch + 1) * BATCH)
        x, labels = float_images(data.x_test[part]), data.y_test[part]
        started = time.perf_counter()
        with comparable(models[0], "torch"), comparable(models[1], "torch"):
            with relu_signs(models[0], []) as own:
                found = source_gradients(models[0], x, labels, source, mode, patterns)
            with relu_signs(models[1], []) as other, kernels():
                actual = float_gradients(models[1], x, labels, target)
        reference, exact, nudges = own[0], own[1], own[2:]
        worst = {"old": (0.0, ""), "new": (0.0, "")}
        for g in compared(found, actual):
            old, new = gradient_allowance(mode, g.float64_floor), gradient_allowance(mode, g.float64_floor, g.nudge_spread)
            rows.append({"arch": arch, "target": spec, "batch": batch, "parameter": g.name,
                         "relative_l2": g.relative_l2, "fp32_floor": g.float64_floor, "nudge_spread": g.nudge_spread,
                         "old_allowed": old.limit, "old_term": old.term, "new_allowed": new.limit, "new_term": new.term,
                         "old_ratio": g.relative_l2 / old.limit, "new_ratio": g.relative_l2 / new.limit})
            worst["old"] = max(worst["old"], (g.relative_l2 / old.limit, g.name))
            worst["new"] = max(worst["new"], (g.relative_l2 / new.limit, f"{g.name}, {new.term}"))
        found_rows = [r for r in rows if r["arch"] == arch and r["target"] == spec and r["batch"] == batch]
        spread = max(found_rows, key=lambda r: r["nudge_spread"])
        # What the nudge term has to cover: error / spread where the old criterion fails (NUDGE_MARGIN's measure),
        # and how large the spread is against the scaled floor elsewhere (how much the term could loosen).
        needed = max((r["relative_l2"] / (r["nudge_spread"] or 1e-30) for r in found_rows if r["old_ratio"] > 1), default=0.0)
        loosening = float(np.median([r["nudge_spread"] / (r["fp32_floor"] * unit_ratio(mode) or 1e-30) for r in found_rows]))
        print(f"{arch:<12} {spec:<16} batch {batch}  old {worst['old'][0]:9.3g} ({worst['old'][1]})  "
              f"new {worst['new'][0]:9.3g} ({worst['new'][1]})  spread {spread['nudge_spread']:.3g} "
              f"({spread['parameter']}), median spread/scaled floor {loosening:.3g}, error/spread where old "
              f"fails {needed:.3g}  ReLU flips: target {flips(other[0], reference)}, nudges "
              f"{max(flips(n, reference) for n in nudges)}, float64 {flips(exact, reference)} of "
              f"{sum(m.numel() for m in reference)}{f'  planted {planted}' if planted else ''}  "
              f"[{time.perf_counter() - started:.0f} s]", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("targets", nargs="*", default=["torch:cpu:bf16"])
    parser.add_argument("--arch", default="vgg16,resnet50,densenet121")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--nudge-units", type=float, help="override NUDGE_UNITS for every mode, to measure it")
    parser.add_argument("--patterns", type=int, default=NUDGE_PATTERNS, help="nudge patterns (NUDGE_PATTERNS)")
    args = parser.parse_args()
    if args.nudge_units:
        NUDGE_UNITS.update(dict.fromkeys(NUDGE_UNITS, args.nudge_units))
    data = synthetic_cifar10().subset(BUDGETS["smoke"])  # the suite's data on its defaults: batch k is the test's
    print(f"nudge units {NUDGE_UNITS}, up and down, NUDGE_MARGIN {NUDGE_MARGIN:g}; ratios are error / allowance "
          "(>1 fails); modes: "
          + ", ".join(f"{t}={looser(parse_side('torch:cpu'), parse_side(t.partition('/')[0])).name}" for t in args.targets))
    rows: list = []
    for arch in args.arch.split(","):
        for spec in args.targets:
            measure(arch, spec, data, args.batches, args.patterns, rows)
    with open(args.out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("worst per target and model over all batches (old, new):")
    for spec in args.targets:
        for arch in args.arch.split(","):
            mine = [r for r in rows if r["target"] == spec and r["arch"] == arch]
            print(f"  {spec:<16} {arch:<12} {max(r['old_ratio'] for r in mine):9.3g} {max(r['new_ratio'] for r in mine):9.3g}")


if __name__ == "__main__":
    main()

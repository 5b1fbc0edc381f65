"""Measures the float64-referenced rule (cwtest.models.float64_rule) on CPU stand-ins for other devices: how often
it fails a correct computation (a false alarm) and how small a planted error it catches, against the fixed
tolerance it replaces (cwtest.frameworks.precision.allowed, max abs error of the logits).

    python scripts/false_alarms.py [--arch vgg16,resnet50,densenet121] [--seeds 10] [--csv OUT.csv] [--device cuda]

Each seed builds the architecture with fresh random weights (the source, torch fp32 on the CPU) and runs the
test's two image batches (test_devices.py: random pixels and the suite's default data), in eval mode and,
where the model has BatchNorm, in training mode (dropout off), through a float64 copy and through each stand-in:
  fp32  oneDNN off: other convolution kernels and summation orders, the nearest a CPU gets to another device;
  tf32  products emulated in TF32 (cwtest.frameworks.emulation), rounded to the nearest, with oneDNN and without;
        and truncated, oneDNN off (which the rule fails: its errors are 5 to 15 times rounding's);
  bf16  CPU autocast; and products emulated in bf16 with oneDNN off;
  fp16  CPU autocast.
With `--device cuda` the targets are that device itself in each mode (torch:cuda, torch:cuda:tf32, torch:cuda:bf16,
torch:cuda:fp16) instead of the stand-ins: the measurement a GPU's MULTIPLE rests on. Planted errors, which the rule
must fail: the first convolution's weight moved by SIZE relative, each element with a
random sign, in each mode's first stand-in; and, judged as fp32, products rounded to bf16 (a kernel that
claims fp32). Prints one line per model, seed and mode, then the summary: per stand-in the worst error over the
source's scaled error and the false alarms at MULTIPLE; per planted error how many runs each rule caught.
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
from collections import defaultdict
from contextlib import contextmanager, nullcontext

import numpy as np

from cwtest.adapters.torch.adapter import build, comparable, float64_forward, forward
from cwtest.frameworks.emulation import emulated_products, onednn_off
from cwtest.frameworks.precision import MODES, allowed
from cwtest.frameworks.sides import parse_side
from cwtest.inputs.budgets import BUDGETS
from cwtest.inputs.data import synthetic_cifar10
from cwtest.models.float64_rule import MULTIPLE, judged
from cwtest.models.parity import image_batches
from cwtest.registries.tolerances import TRAIN_AMPLIFICATION

SOURCE = parse_side("torch:cpu")
# Planted sizes per mode: from the smallest the rule catches in fp32 to one a lower precision's rounding hides.
PLANTED = {"fp32": (1e-4, 1e-3, 1e-2), "tf32": (1e-2, 1e-1), "bf16": (1e-2, 1e-1), "fp16": (1e-2, 1e-1)}


@contextmanager
def _emulated_without_onednn(fmt: str, nearest: bool = True):
    with onednn_off(), emulated_products(fmt, nearest):
        yield


# mode -> (stand-in, the side it runs as (its precision: autocast where bf16 or fp16), the context it runs in)
STAND_INS = {
    "fp32": [("oneDNN off", "torch:cpu", onednn_off)],
    "tf32": [("emulated, nearest", "torch:cpu", lambda: emulated_products("tf32")),
             ("emulated, nearest, oneDNN off", "torch:cpu", lambda: _emulated_without_onednn("tf32")),
             ("emulated, truncated, oneDNN off", "torch:cpu", lambda: _emulated_without_onednn("tf32", False))],
    "bf16": [("autocast", "torch:cpu:bf16", nullcontext),
             ("emulated, oneDNN off", "torch:cpu", lambda: _emulated_without_onednn("bf16"))],
    "fp16": [("autocast", "torch:cpu:fp16", nullcontext)],
}


def planted(model, size: float):
    """A copy of `model` whose first convolution's weight is moved by `size` relative, element by element."""
    import torch

    moved = copy.deepcopy(model)
    weight = next(p for p in moved.parameters() if p.dim() == 4)
    signs = np.random.default_rng(99).choice((-1.0, 1.0), size=tuple(weight.shape))
    with torch.no_grad():
        weight.mul_(1 + size * torch.from_numpy(signs).float())
    return moved


def on_device(device: str) -> dict:
    """The targets on a real device: the device itself in each mode."""
    return {mode: [(device, f"torch:{device}" + ("" if mode == "fp32" else f":{mode}"), nullcontext)]
            for mode in STAND_INS}


def _has_batchnorm(model) -> bool:
    import torch

    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def run(model, images, side_spec: str, context, training: bool) -> np.ndarray:
    side = parse_side(side_spec)
    model = model if side.device == "cpu" else copy.deepcopy(model).to(side.device)
    with comparable(model), context():
        return forward(model, images, side, training)


def measure(arch: str, seed: int, data, rows: list, targets: dict) -> None:
    model = build(arch, SOURCE, seed)
    for batch, images in image_batches(data, 16).items():
        for training in (False, True) if _has_batchnorm(model) else (False,):  # else training mode is eval's
            with comparable(model):
                exact = float64_forward(model, images, training)
            source = run(model, images, "torch:cpu", nullcontext, training)
            scale = float(np.abs(source).max())
            fixed = {name: allowed(m, scale) * (TRAIN_AMPLIFICATION if training else 1.0) for name, m in MODES.items()}

            def row(mode: str, what: str, target: np.ndarray) -> dict:
                verdict = judged(target, source, exact, MODES[mode], MODES["fp32"])
                found = {"arch": arch, "seed": seed, "batch": batch, "training": training, "mode": mode,
                         "what": what, "target_error": verdict.target_error, "source_error": verdict.source_error,
                         "scaled_ratio": verdict.target_error / (verdict.source_error * MODES[mode].unit
                                                                 / MODES["fp32"].unit or 1e-300),
                         "rule_ratio": verdict.ratio, "rule_fails": not verdict.passed,
                         "fixed_ratio": float(np.abs(target - source).max()) / fixed[mode],
                         "fixed_fails": not float(np.abs(target - source).max()) <= fixed[mode]}
                rows.append(found)
                return found

            line = []
            for mode, stand_ins in targets.items():
                for what, spec, context in stand_ins:
                    found = row(mode, what, run(model, images, spec, context, training))
                    line.append(f"{mode}/{what} {found['scaled_ratio']:.3g}")
                what, spec, context = stand_ins[0]
                for size in PLANTED[mode]:
                    row(mode, f"planted {size:g}", run(planted(model, size), images, spec, context, training))
            row("fp32", "products in bf16", run(model, images, "torch:cpu", lambda: emulated_products("bf16"),
                                                training))
            print(f"{arch:<12} seed {seed:<3} {batch:<6} {'train' if training else 'eval ':<5} source RMS error "
                  f"{rows[-1]['source_error']:.3g} (largest logit {scale:.3g}); error / scaled source error: "
                  + ", ".join(line), flush=True)


def summary(rows: list) -> None:
    groups = defaultdict(list)
    for r in rows:
        groups[(r["mode"], r["what"])].append(r)
    print(f"\n{'mode':<5} {'computation':<34} {'runs':>5} {'worst err/scaled':>16} {'rule fails':>10} "
          f"{'fixed fails':>11}  (MULTIPLE {MULTIPLE})")
    for (mode, what), found in groups.items():
        print(f"{mode:<5} {what:<34} {len(found):>5} {max(r['scaled_ratio'] for r in found):>16.3g} "
              f"{sum(r['rule_fails'] for r in found):>10} {sum(r['fixed_fails'] for r in found):>11}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="vgg16,resnet50,densenet121")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--csv", help="write every run's row here, as it is measured")
    parser.add_argument("--device", help="a torch device (cuda) to measure instead of the CPU stand-ins")
    args = parser.parse_args()
    data = synthetic_cifar10().subset(BUDGETS["smoke"])  # the suite's data on its defaults
    rows: list = []
    with open(args.csv or os.devnull, "w", newline="") as out:
        written = 0
        for arch in args.arch.split(","):
            for seed in range(args.seeds):
                measure(arch, seed, data, rows, on_device(args.device) if args.device else STAND_INS)
                writer = csv.DictWriter(out, fieldnames=list(rows[0]))
                if not written:
                    writer.writeheader()
                writer.writerows(rows[written:])
                out.flush()
                written = len(rows)
    summary(rows)


if __name__ == "__main__":
    main()

"""Measures what cwtest.precision.gradient_allowed rests on: for each parameter of each model, its
gradient's relative L2 error on a device or precision against torch fp32 on the CPU, divided by
(a) its fp32 floor (fp32 against float64) times the mode's unit ratio and (b) the mode's rtol.

    python scripts/gradient_rounding.py OUT.csv [torch:cuda:tf32 torch:cuda:bf16 ...]

Prints the worst ratios per model and target; writes every parameter's row to OUT.csv.
"""

import csv
import sys

from cwtest.data import synthetic_cifar10
from cwtest.device_transfer import copied, gradient_errors
from cwtest.precision import MODES, looser, unit_ratio
from cwtest.sides import parse_side

BATCH = 16  # as suites/transfer/test_devices.py


def main(out: str, targets: list[str]) -> None:
    source = parse_side("torch:cpu")
    data = synthetic_cifar10(train=10, test=3 * BATCH)
    rows = []
    for arch in ("vgg16", "resnet50", "densenet121"):
        for target in map(parse_side, targets):
            mode = looser(source, target)
            models = copied(arch, source, target)
            for batch in range(3):
                images = slice(batch * BATCH, (batch + 1) * BATCH)
                for g in gradient_errors(models, data.x_test[images], data.y_test[images], source, target):
                    rows.append({"arch": arch, "target": str(target), "batch": batch, "parameter": g.name,
                                 "relative_l2": g.relative_l2, "fp32_floor": g.float64_floor,
                                 "over_scaled_floor": g.relative_l2 / (g.float64_floor * unit_ratio(mode) or 1e-30),
                                 "over_rtol": g.relative_l2 / MODES[mode.name].rtol})
            found = [r for r in rows if r["arch"] == arch and r["target"] == str(target)]
            worst = max(found, key=lambda r: r["over_scaled_floor"])
            print(f"{arch:<12} {str(target):<18} worst error/(floor*unit ratio) {worst['over_scaled_floor']:8.2f} "
                  f"({worst['parameter']}, error {worst['relative_l2']:.3g}, floor {worst['fp32_floor']:.3g}); "
                  f"worst error/rtol {max(r['over_rtol'] for r in found):8.2f}", flush=True)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["torch:cpu:bf16"])

"""What `cwtest search` costs over the trainings it runs: n trials through `cwtest search` (a local Ray
started for it, Ray Tune, Optuna's GP sampler, the results file) against the same n trials' hyperparameters
trained directly with the objective's train_pair, in this process, in the same run.

    python benchmarks/search.py [--arch vgg16] [--trials 3] [--budget smoke] [--smoke]

Prints both wall times, their ratio (the aim: at most 1.15 at the smoke budget), and what Ray's start-up
took. The search runs first, in its own process, as a user runs it; the direct trainings then repeat the
hyperparameters it chose, so both do the same work.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="vgg16")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--budget", default="smoke")
    parser.add_argument("--smoke", action="store_true", help="its smallest run: checks that it works (CI); numbers mean little")
    args = parser.parse_args()
    if args.smoke:
        args.trials, args.budget = 1, "smoke"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "found.csv"
        started = time.perf_counter()
        searched = subprocess.run([sys.executable, "-m", "cwtest.cli", "search", "--arch", args.arch, "--budget",
                                   args.budget, "--whole-space", "--trials", str(args.trials), "--out", str(out)],
                                  capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        search_s = time.perf_counter() - started
        if searched.returncode != 0:
            print(searched.stderr[-3000:], file=sys.stderr)
            return 1
        ray_line = next((line for line in searched.stderr.splitlines() if "Ray started in" in line), "")
        with open(out, newline="") as handle:
            configs = [{k: row[k] for k in ("learning_rate", "adam_epsilon", "batch_size", "epochs")}
                       for row in csv.DictReader(handle)]

    from cwtest.frameworks.sides import parse_pair
    from cwtest.inputs.budgets import get_budget
    from cwtest.inputs.data import synthetic_cifar10
    from cwtest.search.objective import score

    budget = get_budget(args.budget)
    data = synthetic_cifar10().subset(budget)
    started = time.perf_counter()
    for config in configs:
        score(args.arch, config, budget, parse_pair("torch:cpu,tensorflow:cpu"), data, "published")
    direct_s = time.perf_counter() - started
    print(f"{args.trials} {args.arch} trials at the {args.budget} budget: cwtest search {search_s:.1f} s "
          f"(the whole command: Python, Ray and the frameworks started, {ray_line.split(': ', 1)[-1].split(';')[0]}), "
          f"train_pair in this process {direct_s:.1f} s (frameworks imported on the way); "
          f"ratio {search_s / direct_s:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The main job against the bare trainings it contains, measured in one run.

    python benchmarks/mainjob.py [pytest arguments]   (default: the README's first command's)
    python benchmarks/mainjob.py --smoke               (its one published VGG16 trial: a check that it works)

1. The main job, `pytest --crossedwires-arch vgg16 -n 2 --crossedwires-report R` in a fresh
   process from the repository root: wall seconds, outcome counts, each worker's peak resident memory (with
   its Keras child's, where the trainings run), and the whole process tree's resident memory, sampled.
2. The trainings it contains, bare: for every training its report's trial rows record (both sides
   of each trial test, and the noise floor's runs of a harmonized one), the same model, batch size
   and steps through the smallest loop that trains it (benchmarks/train.py), in as many processes as
   the job had workers, each with a worker's share of the cores. Their time is the loops' seconds
   summed and split evenly over the workers: a perfect packing, so the ratio errs high, never low.
Prints both and their ratio (aim <= 1.3): what the job costs beyond training its models.
"""

from __future__ import annotations

import concurrent.futures
import csv
import functools
import multiprocessing
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_JOB = ["--crossedwires-arch", "vgg16", "-n", "2"]
SMOKE_JOB = [*README_JOB, "-k", "test_published", "--crossedwires-select", "top:1"]


SAMPLE_S = 0.5  # how often the process tree's resident memory is read


def tree_memory_mb(root: int) -> tuple[float, float]:
    """The resident memory of a process and all its descendants (Linux's /proc), in MB: summed as each process's
    resident set (a shared library's pages counted in every process that maps them: errs high), and as their
    proportional sets (each shared page split between the processes that map it: what they take of the machine)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, found = {root}, True
    while found:
        found = {pid for pid, parent in parents.items() if parent in tree and pid not in tree}
        tree |= found
    resident = proportional = 0.0
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith(("Rss:", "Pss:")):
                value = float(line.split()[1]) / 1024
                resident += value if line.startswith("Rss:") else 0.0
                proportional += value if line.startswith("Pss:") else 0.0
    return resident, proportional


def run_job(args: list[str], report: Path) -> tuple[float, str, tuple[float, float]]:
    """Wall seconds, the job's output, and the most memory its process tree held at once (sampled; MB, resident and
    proportional: `tree_memory_mb`)."""
    started, peak = time.perf_counter(), (0.0, 0.0)
    with tempfile.TemporaryFile("w+") as output:
        job = subprocess.Popen([sys.executable, "-m", "pytest", *args, "--crossedwires-report", str(report)], cwd=ROOT,
                               stdout=output, stderr=subprocess.STDOUT, text=True)
        while job.poll() is None:
            peak = tuple(max(a, b) for a, b in zip(peak, tree_memory_mb(job.pid)))
            time.sleep(SAMPLE_S)
        output.seek(0)
        return time.perf_counter() - started, output.read(), peak


def trainings(report: Path) -> list[tuple[str, str, bool, int, int, int]]:
    """(arch, framework, harmonized, batch size, images, epochs) of every training in the report's trial rows."""
    from cwtest.core.training_loop import Plan
    from cwtest.training.protocol import PARITY_STEPS, first_steps

    found = []
    with report.open() as rows:
        for row in csv.DictReader(rows):
            if row["suite"] != "trials" or not row.get("steps"):
                continue
            harmonized = "::test_harmonized[" in row["nodeid"]
            batch, images, epochs = int(float(row["batch_size"])), int(float(row["train_images"])), int(float(row["epochs"]))
            left, right = (side.split(":")[0] for side in row["pair"].split("->"))
            found += [(row["arch"], left, harmonized, batch, images, epochs),
                      (row["arch"], right, harmonized, batch, images, epochs)]
            if harmonized:
                short, read = first_steps(Plan(1e-4, 1e-7, batch, epochs, images, 0), PARITY_STEPS)
                found += [(row["arch"], left, True, batch, read, short.epochs)] * int(float(row["noise_floor_trainings"]))
    return found


def suite_seconds(report: Path) -> dict[str, float]:
    """The report's test durations summed per suite: where the job's time goes besides its trainings."""
    found: dict[str, float] = {}
    with report.open() as rows:
        for row in csv.DictReader(rows):
            found[row["suite"]] = found.get(row["suite"], 0.0) + float(row["duration_s"] or 0.0)
    return dict(sorted(found.items(), key=lambda item: -item[1]))


def _start_worker() -> None:
    from cwtest.frameworks import imports

    imports.tensorflow()  # torch first, then TensorFlow: the order that works in one process


def bare_loop(arch: str, framework: str, harmonized: bool, batch: int, images: int, epochs: int) -> float:
    """Seconds of the smallest loop that trains this model these steps; the model is built outside the timing."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from train import _minimal_keras, _minimal_torch

    from cwtest.frameworks import adapter_for, keras_in_this_process
    from cwtest.frameworks.sides import Side
    from cwtest.inputs.data import synthetic_cifar10
    from cwtest.registries.knobs import ALL
    from cwtest.core.training_loop import Plan

    side, knobs = Side(framework, "cpu"), ALL if harmonized else frozenset()
    with keras_in_this_process():  # a model of this process, as the bare loop trains it
        model = adapter_for(side).build_trainable(arch, knobs, side)
    data = synthetic_cifar10(train=images, test=10)
    plan = Plan(1e-4, 1e-7, batch, 1, images, 10)
    minimal = _minimal_torch if framework == "torch" else functools.partial(_minimal_keras, keras_backend=side.keras_backend)
    started = time.perf_counter()
    for _ in range(epochs):
        minimal(model, data.x_train, data.y_train, plan)
    return time.perf_counter() - started


def main() -> None:
    args = SMOKE_JOB if sys.argv[1:] == ["--smoke"] else sys.argv[1:] or README_JOB
    workers = int(args[args.index("-n") + 1]) if "-n" in args else 1
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "job.csv"
        wall, output, tree_peak = run_job(args, report)
        if not report.exists():
            sys.exit("the job wrote no report:\n" + output[-3000:])
        todo = trainings(report)
        seconds_per_suite = suite_seconds(report)
    summary = re.findall(r"^=+ (.* in [\d.]+s.*) =+$", output, re.M)
    memory = re.findall(r"^cwtest: peak resident memory: (.*)$", output, re.M)
    print(f"main job (pytest {' '.join(args)}): {wall:.0f} s wall; {summary[-1] if summary else 'no summary'}; "
          f"peak resident memory per worker {memory[-1] if memory else 'not reported'}; all its processes together "
          f"at most {tree_peak[1] / 1024:.1f} GB proportional ({tree_peak[0] / 1024:.1f} GB resident, shared pages "
          f"counted in each process; sampled every {SAMPLE_S:g} s)")

    print("its tests' seconds per suite, summed over the workers: "
          + ", ".join(f"{suite} {seconds:.0f} s" for suite, seconds in seconds_per_suite.items()))

    from cwtest.session.workers import share_cores

    share_cores(workers)  # set before the pool's processes start, as the plugin does for its workers
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker) as pool:
        seconds = list(pool.map(bare_loop, *zip(*todo)))
    bare = sum(seconds) / workers
    print(f"its {len(todo)} trainings as bare loops: {sum(seconds):.0f} s in all, {bare:.0f} s over {workers} "
          f"worker(s); ratio {wall / bare:.2f} (aim <= 1.3)")


if __name__ == "__main__":
    main()

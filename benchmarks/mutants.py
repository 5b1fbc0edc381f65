"""Mutation score: the suites run against planted kernel defects (tests/vendors/mutants.py), one run per mutant.

    python benchmarks/mutants.py [pytest arguments]   (default: the layer suite's blocks and the transfer suite's
                                                        device tests on VGG16, under the default hypothesis profile)
    python benchmarks/mutants.py --smoke               (the control and one mutant on the conv2d blocks: a check
                                                        that it works)
    python benchmarks/mutants.py --mutant NAME [--mutant NAME ...]   (these mutants only; names: tests/vendors/mutants.py)

The plugin `mutant` is registered as a vendor's package is (an entry point in a distribution on the path), and
each run names the pair torch:cpu,mutant:cpu with CWTEST_MUTANT set to one mutant: torch's kernels against the
same kernels with one defect planted. Per mutant it prints whether a test failed (caught), which, and whether a
failure named the mutated layer: a layer-suite block made of that layer (cwtest.registries.layer_arguments); and
the control run, no mutant, which must be green. Wall seconds per run against the control's, from this run.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from cwtest.registries.layer_arguments import tables_of  # noqa: E402
from vendors.mutants import ENVIRONMENT, MUTANTS  # noqa: E402

JOB = ["suites/layers/test_blocks.py", "suites/transfer/test_devices.py", "-n", "2"]  # every block, every model
SMOKE_JOB = ["suites/layers/test_blocks.py", "-k", "conv2d and not depthwise and not same_stride2",
             "--hypothesis-profile", "ci"]
SMOKE_MUTANTS = ["conv_stride_phase"]


def registered(scratch: Path) -> dict[str, str]:
    """The environment that has the plugin installed: its entry point in a distribution on PYTHONPATH."""
    distribution = scratch / "site" / "cwtest_mutant-0.1.dist-info"
    distribution.mkdir(parents=True)
    (distribution / "METADATA").write_text("Metadata-Version: 2.1\nName: cwtest-mutant\nVersion: 0.1\n")
    (distribution / "entry_points.txt").write_text("[cwtest.adapters]\nmutant = vendors.mutants\n")
    path = [str(ROOT), str(ROOT / "tests"), str(distribution.parent), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def run(job: list[str], mutant: str, environment: dict[str, str], report: Path) -> tuple[float, list[str], str]:
    """Wall seconds, the failed tests' ids, and pytest's summary line of one run against `mutant` ("" the control)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", *job, "--crossedwires-pair", "torch:cpu,mutant:cpu",
                             "-p", "no:cacheprovider", "-q", "--crossedwires-report", str(report)], cwd=ROOT,
                            env={**environment, ENVIRONMENT: mutant}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = result.stdout.strip().splitlines()
    if not report.exists():
        sys.exit(f"the run against {mutant or 'the control'} wrote no report:\n" + "\n".join(lines[-30:]) + result.stderr[-2000:])
    with report.open() as rows:
        failed = [row["nodeid"] for row in csv.DictReader(rows) if row["outcome"] == "failed"]
    return wall, failed, lines[-1] if lines else ""


def named(mutant: str, failed: list[str]) -> bool:
    """Whether a failure names the mutated layer: a failing layer-suite block made of it."""
    layers = set(MUTANTS[mutant].split())
    blocks = [nodeid.split("[", 1)[1].rstrip("]").split("-")[0] for nodeid in failed if "test_blocks.py" in nodeid]
    return any(layers & set(tables_of(block)) for block in blocks)


def main() -> None:
    args = sys.argv[1:]
    smoke = args == ["--smoke"]
    chosen = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--mutant"]
    args = [a for i, a in enumerate(args) if a != "--mutant" and (i == 0 or args[i - 1] != "--mutant")]
    unknown = sorted(set(chosen) - set(MUTANTS))
    if unknown:
        sys.exit(f"no such mutant: {', '.join(unknown)}; the mutants: {', '.join(MUTANTS)}")
    job = SMOKE_JOB if smoke else args or JOB
    mutants = SMOKE_MUTANTS if smoke else chosen or list(MUTANTS)
    with tempfile.TemporaryDirectory() as scratch:
        environment = registered(Path(scratch))
        control_wall, control_failed, summary = run(job, "", environment, Path(scratch) / "control.csv")
        print(f"control (no mutant): {summary}; {control_wall:.0f} s" + (
            f"; FAILED: {', '.join(control_failed)}" if control_failed else ""))
        if " passed" not in summary:  # a green control of no tests would make every mutant look uncaught
            sys.exit(f"the control ran no test: check the pytest arguments ({' '.join(job)})")
        caught = located = 0
        print(f"{'mutant':26} {'caught':>6} {'named':>5} {'failed':>6} {'wall/control':>12}  first failures")
        for mutant in mutants:
            wall, failed, _ = run(job, mutant, environment, Path(scratch) / f"{mutant}.csv")
            caught += bool(failed)
            located += named(mutant, failed)
            print(f"{mutant:26} {'yes' if failed else 'NO':>6} {'yes' if named(mutant, failed) else 'no':>5} "
                  f"{len(failed):>6} {wall / control_wall:>12.2f}  {', '.join(n.split('::')[-1] for n in failed[:3])}")
    print(f"caught {caught} of {len(mutants)} mutants, {located} with the mutated layer named "
          f"({located / len(mutants):.0%}); control {'green' if not control_failed else 'NOT green'}")
    if control_failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Collection cost of the trial parametrization: every published trial against the built-in 18.

    python benchmarks/collect.py [--trials ../shared/crossedwires] [--repeats 3] [--smoke]

Both collections run in fresh interpreters on the same machine in the same run; the script
prints the median wall time of each, their ratio, and whether torch or TensorFlow got
imported while collecting (they must not be).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROBE = """
import sys
def pytest_collection_finish(session):
    loaded = sorted(m for m in ("torch", "tensorflow", "keras") if m in sys.modules)
    print("IMPORTED", ",".join(loaded) or "none")
"""


def collect(folder: Path, extra: list[str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-s", "-p", "no:cacheprovider",
                             *extra], cwd=folder, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    lines = result.stdout.splitlines()
    imported = next(line.split()[1] for line in lines if line.startswith("IMPORTED"))
    count = next(int(line.split()[0]) for line in lines if "collected" in line)
    return elapsed, count, imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default=str(REPO.parent / "shared" / "crossedwires"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="its smallest run: checks that it works (CI); numbers mean little")
    args = parser.parse_args()
    if args.smoke:
        args.repeats = 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "conftest.py").write_text(PROBE)
        (folder / "test_trials.py").write_text("def test_trial(crossedwires_trial):\n    pass\n")
        runs = {"built-in": [], "published": []}
        for _ in range(args.repeats):
            runs["built-in"].append(collect(folder, []))
            runs["published"].append(collect(folder, ["--crossedwires-trials", args.trials,
                                                      "--crossedwires-select", "all"]))
    medians = {}
    for name, results in runs.items():
        medians[name] = statistics.median(r[0] for r in results)
        print(f"{name:>9}: {results[0][1]:>5} trials collected in {medians[name]:.2f} s (median of "
              f"{args.repeats}); frameworks imported: {results[0][2]}")
    print(f"ratio published/built-in: {medians['published'] / medians['built-in']:.2f}")


if __name__ == "__main__":
    main()

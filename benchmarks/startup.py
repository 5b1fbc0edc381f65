"""What cwtest costs a pytest run that does not use it: a one-test project in this environment, with the
plugin loaded from its entry point as usual against the same run with `-p no:cwtest`.

    python benchmarks/startup.py [--repeats 15] [--smoke]

Both runs alternate in fresh interpreters on the same machine in the same run; the script prints the
median wall time of each and their ratio (aim: at most 1.05), and checks that the run with the plugin
printed no cwtest line and imported neither numpy nor pandas.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE = """
import sys
def pytest_unconfigure(config):
    print("IMPORTED", ",".join(m for m in ("numpy", "pandas") if m in sys.modules) or "none")
"""


def run(folder: Path, extra: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *extra],
                            cwd=folder, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="its smallest run: checks that it works (CI); numbers mean little")
    args = parser.parse_args()
    if args.smoke:
        args.repeats = 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "conftest.py").write_text(PROBE)
        (folder / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        times: dict[str, list[float]] = {"with cwtest": [], "-p no:cwtest": []}
        outputs = []
        run(folder, [])  # a first run warms the file cache for both
        for _ in range(args.repeats):
            for name, extra in (("with cwtest", []), ("-p no:cwtest", ["-p", "no:cwtest"])):
                elapsed, output = run(folder, extra)
                times[name].append(elapsed)
                if name == "with cwtest":
                    outputs.append(output)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:>14}: median {median * 1000:.0f} ms over {args.repeats} runs")
    print(f"ratio: {medians['with cwtest'] / medians['-p no:cwtest']:.3f} (aim: at most 1.05)")
    lines = [line for line in outputs[-1].splitlines() if "cwtest" in line or "crossedwires" in line]
    imported = next(line.split()[1] for line in outputs[-1].splitlines() if line.startswith("IMPORTED"))
    print(f"cwtest lines printed: {len(lines)}; numpy/pandas imported: {imported}")
    if lines or imported != "none":
        sys.exit("the plugin is not quiet in a run that does not use it")


if __name__ == "__main__":
    main()

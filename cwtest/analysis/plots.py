"""The figures: each one a PNG and an SVG beside it, drawn with matplotlib's file-only backend.

matplotlib is imported inside `_figure`, so that importing this module (the command line,
pytest collection) stays cheap and never needs a display.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cwtest.core.errors import InputError

FORMATS = ("png", "svg")
DPI = 120
# The paper's Figure 2 colours: one per framework, the difference in green, the best accuracy in red.
FRAMEWORK_COLOURS = ("tab:blue", "tab:orange")
DIFFERENCE_COLOUR = "tab:green"
OUTCOME_COLOURS = {"passed": "tab:green", "xpassed": "tab:olive", "skipped": "tab:gray", "xfailed": "tab:cyan",
                   "failed": "tab:red", "error": "tab:purple", "crashed": "black", "interrupted": "tab:brown"}
# Loss curves spanning more than this factor are drawn on a log axis (a blown-up loss reaches 1e30).
LOG_SPAN = 100
# Up to this many trials per architecture, each is also drawn as a tick under the densities.
RUG_MAX = 50
# Accuracies closer than this are one value (a test image at the smoke budget is 0.004): a density
# over float round-off would be a needle of height 1e16.
MIN_SPREAD = 1e-3


@dataclass(frozen=True)
class ArchAccuracies:
    """One architecture's paired accuracies, one entry per trial."""
    arch: str
    first: tuple[float, ...]
    second: tuple[float, ...]
    difference: tuple[float, ...]


def _figure(rows: int, columns: int, width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(rows, columns, figsize=(width, height), squeeze=False, layout="constrained")
    return figure, axes


def output_base(path: str | Path, option: str = "--out") -> Path:
    """`plots/fig2`, `plots/fig2.png` or `plots/fig2.svg` all name plots/fig2.png and plots/fig2.svg."""
    path = Path(path)
    if path.suffix.lstrip(".") in FORMATS:
        path = path.with_suffix("")
    if path.is_dir():
        raise InputError(f"{option}: {path} is a folder; give a file name without suffix, e.g. {path / 'figure'}")
    if not path.parent.is_dir():
        raise InputError(f"{option}: cannot write {path}: folder {path.parent} does not exist")
    return path


def _save(figure, base: Path) -> list[Path]:
    """Each format through a temporary file and a rename: a reader never sees half an image."""
    from matplotlib import pyplot

    written = []
    for suffix in FORMATS:
        target = base.with_name(f"{base.name}.{suffix}")
        temporary = target.with_name(f".{target.name}.tmp")
        try:
            figure.savefig(temporary, format=suffix, dpi=DPI, bbox_inches="tight")
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        written.append(target)
    pyplot.close(figure)
    return written


def _density(values: np.ndarray, grid: np.ndarray) -> np.ndarray | None:
    """Gaussian kernel density with Scott's bandwidth; None when the values have no spread."""
    if values.size < 2 or values.std() < MIN_SPREAD:
        return None
    bandwidth = values.std(ddof=1) * values.size ** (-1 / 5)
    z = (grid[:, None] - values[None, :]) / bandwidth
    return np.exp(-0.5 * z * z).sum(axis=1) / (values.size * bandwidth * math.sqrt(2 * math.pi))


def accuracy_distributions(groups: list[ArchAccuracies], names: tuple[str, str], title: str, base: Path) -> list[Path]:
    """The paper's Figure 2: per architecture, the density of each side's test accuracy and of their
    difference, and the best accuracy as a red line; few trials are also drawn one tick each."""
    figure, axes = _figure(1, len(groups), 5 * len(groups), 4.3)
    grid = np.linspace(-0.05, 1.05, 441)
    for axis, group in zip(axes[0], groups):
        series = [(f"{names[0]} accuracy", group.first, FRAMEWORK_COLOURS[0]),
                  (f"{names[1]} accuracy", group.second, FRAMEWORK_COLOURS[1]),
                  ("accuracy difference", group.difference, DIFFERENCE_COLOUR)]
        for offset, (label, values, colour) in enumerate(series):
            values = np.asarray(values, dtype=float)
            density = _density(values, grid)
            if density is not None:
                axis.plot(grid, density, color=colour, label=label)
            if values.size <= RUG_MAX or density is None:
                # x in data units, y as a fraction of the axis height: a row of ticks per series
                axis.vlines(values, 0.02 + 0.05 * offset, 0.06 + 0.05 * offset, color=colour,
                            transform=axis.get_xaxis_transform(), label=None if density is not None else label)
        best = max(group.first + group.second)
        axis.axvline(best, color="tab:red", linestyle="--", label="best test accuracy")
        axis.set(title=f"{group.arch}: {len(group.first)} trials, best accuracy {best:.3f}",
                 xlabel="test accuracy / accuracy difference", ylabel="density", xlim=(-0.05, 1.05))
        axis.set_ylim(bottom=0, top=max(axis.get_ylim()[1], 1.0))
    legend = {}  # label -> handle over all panels: a series may have a density in one panel only
    for axis in axes[0]:
        legend.update(zip(*reversed(axis.get_legend_handles_labels())))
    figure.legend(legend.values(), legend.keys(), loc="outside lower center", ncol=len(legend))
    figure.suptitle(title)
    return _save(figure, base)


def loss_curves(curves: dict[str, list[float]], title: str, base: Path) -> list[Path]:
    """A trial pair's per-epoch training losses; non-finite values (a blown-up loss) are left out."""
    figure, axes = _figure(1, 1, 7, 4)
    axis = axes[0][0]
    finite = [v for values in curves.values() for v in values if math.isfinite(v)]
    for label, values in curves.items():
        epochs = [e for e, v in enumerate(values, 1) if math.isfinite(v)]
        axis.plot(epochs, [v for v in values if math.isfinite(v)], marker="o", markersize=3, label=label)
    if finite and min(finite) > 0 and max(finite) / min(finite) > LOG_SPAN:
        axis.set_yscale("log")
    axis.set(title=title, xlabel="epoch", ylabel="training loss")
    axis.legend()
    return _save(figure, base)


def layer_profile(rows, tolerance: float, title: str, base: Path) -> list[Path]:
    """Per paired layer (first to last) the max relative and max absolute error of its activation,
    the tolerance, and the first layer over it; `rows` are cwtest.models.localize.LayerError."""
    figure, axes = _figure(1, 1, 9, 4)
    axis = axes[0][0]
    index = [r.index for r in rows]
    floor = 1e-12  # an exact layer (error 0) still needs a place on the log axis
    axis.plot(index, [max(r.errors.max_rel, floor) for r in rows], marker=".", label="max relative error")
    axis.plot(index, [max(r.errors.max_abs, floor) for r in rows], marker=".", alpha=0.6, label="max absolute error")
    axis.axhline(tolerance, color="tab:red", linestyle="--", label=f"tolerance (max rel {tolerance:g})")
    first = next((r for r in rows if r.errors.max_rel > tolerance), None)
    if first is not None:
        axis.axvline(first.index, color="tab:gray", linestyle=":", label=f"first over: #{first.index} {first.torch_name}")
    axis.set_yscale("log")
    axis.set(title=title, xlabel="paired layer (input to output)", ylabel=f"activation error (0 drawn at {floor:g})")
    axis.legend(fontsize="small")
    return _save(figure, base)


def report_overview(counts: dict[str, dict[str, int]], seconds: dict[str, float], title: str,
                    base: Path) -> list[Path]:
    """Per group (suite and architecture) the tests by outcome as stacked bars, and the time spent."""
    groups = list(counts)
    figure, axes = _figure(1, 2, 12, 1.2 + 0.45 * len(groups))
    outcomes, timing = axes[0]
    left = np.zeros(len(groups))
    for outcome, colour in OUTCOME_COLOURS.items():
        values = np.array([counts[g].get(outcome, 0) for g in groups])
        if values.any():
            outcomes.barh(groups, values, left=left, color=colour, label=outcome)
            left += values
    outcomes.set(title="tests by outcome", xlabel="tests")
    outcomes.invert_yaxis()
    figure.legend(loc="outside lower center", ncol=len(OUTCOME_COLOURS))
    timing.barh(groups, [seconds[g] for g in groups], color="tab:blue")
    timing.set(title="time spent", xlabel="seconds (sum over tests)")
    timing.invert_yaxis()
    timing.tick_params(labelleft=False)
    figure.suptitle(title)
    return _save(figure, base)


def mutual_information(found, repeats: int, title: str, base: Path) -> list[Path]:
    """The paper's Figure 4: per architecture, bars of mutual information with accuracy_diff, single
    hyperparameters and pairs, with the standard deviation over the repeats."""
    from matplotlib.patches import Patch

    archs = list(dict.fromkeys(r.arch for r in found))
    figure, axes = _figure(1, len(archs), 5 * len(archs), 4.5)
    for axis, arch in zip(axes[0], archs):
        rows = [r for r in found if r.arch == arch]
        colours = ["tab:blue" if len(r.hyperparameters) == 1 else "tab:purple" for r in rows]
        axis.barh([r.label for r in rows], [r.mean for r in rows], xerr=[r.std for r in rows], color=colours)
        axis.invert_yaxis()
        axis.set(title=arch, xlabel=f"mutual information (bits), mean ± std of {repeats}")
    handles = [Patch(color="tab:blue", label="one hyperparameter"),
               Patch(color="tab:purple", label="pair of hyperparameters")]
    figure.legend(handles=handles, loc="outside lower center", ncol=2)
    figure.suptitle(title)
    return _save(figure, base)


def compatibility(found, title: str, base: Path) -> list[Path]:
    """Per side and kind (cwtest.report.summary.compatibility): the worst error in units of its
    tolerance, log scale, with the tolerance drawn at 1; bars over it are failures. Labels carry the counts."""
    labels = [f"{c.side} against {c.reference}: {c.kind} ({c.passed} passed, {c.failed} failed)" for c in found]
    worst = np.array([c.worst if c.worst == c.worst else 0.0 for c in found])
    figure, axes = _figure(1, 1, 12, 1.2 + 0.45 * len(found))
    axis = axes[0][0]
    floor = max(float(worst[worst > 0].min(initial=1.0)) / 10, 1e-6)
    axis.barh(labels, np.maximum(worst, floor), color=["tab:red" if w > 1 else "tab:green" for w in worst])
    axis.axvline(1.0, color="black", linestyle="--", label="tolerance")
    axis.set_xscale("log")
    axis.set(title=title, xlabel=f"worst error / tolerance (none recorded drawn at {floor:.2g})")
    axis.invert_yaxis()
    axis.legend(fontsize="small")
    return _save(figure, base)


def search_progress(values: dict[int, list[float]], objective: str, title: str, base: Path) -> list[Path]:
    """A search's objective per trial in the order they ended, one colour per subspace, and the best so far."""
    figure, axes = _figure(1, 1, 7, 4)
    axis = axes[0][0]
    number, best, running = 0, [], -math.inf
    for subspace, found in values.items():
        trials = list(range(number + 1, number + len(found) + 1))
        axis.scatter(trials, found, s=18, label=f"subspace {subspace}")
        for value in found:
            running = max(running, value)
            best.append(running)
        number += len(found)
    axis.step(range(1, number + 1), best, where="post", color="black", linewidth=1, label="best so far")
    axis.set(title=title, xlabel="trial (subspace by subspace, in the order each ended)", ylabel=objective)
    axis.legend(fontsize="small")
    return _save(figure, base)

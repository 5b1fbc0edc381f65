"""What a search shows while it runs and when it ends, drawn with rich: a live bar (trial k of n, its
subspace, the best objective so far, the time left), a line per finished trial, and the summary table.
Off a terminal the bar is not drawn and the lines are printed as they come."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

SUMMARY_ROWS = 10
LOG_WIDTH = 160


class SearchProgress:
    def __init__(self, total: int, subspaces: int, console: Console | None = None):
        # Off a terminal rich assumes 80 columns and would cut the summary's columns to an ellipsis.
        self.console = console or Console(stderr=True, width=None if sys.stderr.isatty() else LOG_WIDTH)
        self.subspaces = subspaces
        self.best: float | None = None
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("best {task.fields[best]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                            console=self.console, transient=True)
        self.task = self.bar.add_task("search", total=total, best="-")

    def __enter__(self) -> SearchProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def ray_started(self, seconds: float, done: list[dict]) -> None:
        self.console.print(f"cwtest search: Ray started in {seconds:.1f} s; {len(done)} trial(s) already in the results file")
        for entry in done:
            self._count(float(entry["objective_value"]))

    def _count(self, value: float) -> None:
        self.best = value if self.best is None else max(self.best, value)
        self.bar.update(self.task, advance=1, best=f"{self.best:.4f}")

    def trial_started(self, subspace: int, number: int, config: dict) -> None:
        self.bar.update(self.task, description=f"subspace {subspace} trial {number}")

    def trial_ended(self, entry: dict) -> None:
        self._count(float(entry["objective_value"]))
        self.console.print(f"{entry['Name']}: {entry['objective']} {entry['objective_value']:.4f} (torch "
                           f"{entry['pt_test_acc']:.4f}, keras {entry['tf_test_acc']:.4f}); lr {entry['learning_rate']:.4g}, "
                           f"epsilon {entry['adam_epsilon']:.4g}, batch {entry['batch_size']}, epochs {entry['epochs']}, "
                           f"{entry['Runtime']} s")


def summary(rows: list[dict], out: str) -> Table:
    """The found trials, the largest objective first."""
    ranked = sorted(rows, key=lambda r: -float(r["objective_value"]))
    table = Table(title=f"{len(rows)} trial(s) in {out}" + (f", the {SUMMARY_ROWS} largest" if len(rows) > SUMMARY_ROWS
                                                           else ""))
    for column in ("trial", "subspace", "learning rate", "epsilon", "batch", "epochs", "torch acc", "keras acc",
                   "objective"):
        table.add_column(column, justify="left" if column == "trial" else "right")
    for r in ranked[:SUMMARY_ROWS]:
        table.add_row(r["Name"], str(r["subspace"]), f"{float(r['learning_rate']):.4g}", f"{float(r['adam_epsilon']):.4g}",
                      str(r["batch_size"]), str(r["epochs"]), f"{float(r['pt_test_acc']):.4f}",
                      f"{float(r['tf_test_acc']):.4f}", f"{float(r['objective_value']):.4f}")
    return table

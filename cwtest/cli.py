"""The `cwtest` command: look at a CrossedWires trial table without running pytest.

    cwtest trials summary [--trials PATH]
    cwtest trials show [--trials PATH] [--arch A] [--top N | --bottom N]

Exit codes: 0 done, 2 bad input (one line on stderr naming it).
"""

from __future__ import annotations

import argparse
import statistics
import sys

from cwtest.errors import InputError
from cwtest.settings import parse_archs
from cwtest.trials import ARCHITECTURES, DIVERGENT, Trial, load_table



def _table(args) -> list[Trial]:
    table = load_table(args.trials, option="--trials")
    archs = parse_archs(args.arch, option="--arch")
    return [t for t in table.finished if t.arch in archs]


def summary(trials: list[Trial]) -> list[str]:
    header = (f"{'architecture':<12} {'trials':>6} {'diff min':>9} {'max':>7} {'median':>7} {'mean':>7} "
              f"{'pt min':>7} {'pt max':>7} {'tf min':>7} {'tf max':>7} {'>=' + str(DIVERGENT):>7}")
    lines = [header]
    for arch in ARCHITECTURES:
        group = [t for t in trials if t.arch == arch]
        if not group:
            continue
        diffs = [t.accuracy_diff for t in group]
        pt, tf = [t.pt_test_acc for t in group], [t.tf_test_acc for t in group]
        share = sum(d >= DIVERGENT for d in diffs) / len(diffs)
        lines.append(f"{arch:<12} {len(group):>6} {min(diffs):>9.4f} {max(diffs):>7.4f} "
                     f"{statistics.median(diffs):>7.4f} {statistics.fmean(diffs):>7.4f} "
                     f"{min(pt):>7.4f} {max(pt):>7.4f} {min(tf):>7.4f} {max(tf):>7.4f} {share:>7.1%}")
    overall = sum(t.accuracy_diff >= DIVERGENT for t in trials) / len(trials)
    lines.append(f"all: {len(trials)} finished trials, {overall:.1%} with accuracy_diff >= {DIVERGENT}")
    return lines


def show(trials: list[Trial], top: int | None, bottom: int | None) -> list[str]:
    lines = [f"{'architecture':<12} {'trial':<22} {'adam_eps':>9} {'batch':>5} {'lr':>9} {'epochs':>6} "
             f"{'pt acc':>7} {'tf acc':>7} {'diff':>7}"]
    for arch in ARCHITECTURES:
        ranked = sorted((t for t in trials if t.arch == arch), key=lambda t: (-t.accuracy_diff, t.name))
        if top is None and bottom is None:
            chosen = ranked
        else:
            chosen = ranked[:top or 0] + (ranked[len(ranked) - bottom:] if bottom else [])
        lines += [f"{t.arch:<12} {t.name:<22} {t.adam_epsilon:>9.5f} {t.batch_size:>5} {t.learning_rate:>9.5f} "
                  f"{t.epochs:>6} {t.pt_test_acc:>7.5f} {t.tf_test_acc:>7.5f} {t.accuracy_diff:>7.5f}"
                  for t in chosen]
    return lines


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="cwtest", description="cross-framework equivalence tools")
    commands = main.add_subparsers(dest="command", required=True)
    trials = commands.add_parser("trials", help="statistics and listings of a CrossedWires trial table")
    actions = trials.add_subparsers(dest="action", required=True)
    for name, help_text in (("summary", "per-architecture accuracy-difference statistics (paper Tables 2-3)"),
                            ("show", "list trials ranked by accuracy difference (paper Tables 4-6)")):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--trials", help="an export CSV or a folder of them (default: built-in table)")
        action.add_argument("--arch", default="all", help="architectures, comma list (default: all)")
        if name == "show":
            action.add_argument("--top", type=_positive, help="the N most divergent trials per architecture")
            action.add_argument("--bottom", type=_positive, help="the N least divergent trials per architecture")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        trials = _table(args)
        if not trials:
            raise InputError(f"--trials: no finished trial for {args.arch}")
        lines = summary(trials) if args.action == "summary" else show(trials, args.top, args.bottom)
    except InputError as exc:
        print(f"cwtest: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `cwtest` command: trial tables and reports, without running pytest.

    cwtest trials summary [--trials PATH]
    cwtest trials show [--trials PATH] [--arch A] [--top N | --bottom N]
    cwtest trials mi [--trials PATH] [--arch A] [--repeats N] [--plot BASE]
    cwtest compare BASELINE.csv NEW.csv [--junit-xml PATH]
    cwtest plot accuracy [--trials PATH | --report R.csv [--test NAME]] --out BASE
    cwtest plot losses (--trials PATH --trial NAME | --report R.csv --test PART) --out BASE
    cwtest plot layers --arch A [--flavour F] --out BASE
    cwtest plot overview REPORT.csv --out BASE
    cwtest plot compatibility REPORT.csv --out BASE
    cwtest plot search FOUND.csv --out BASE
    cwtest export REPORT.csv --out PATH.csv [--trials PATH] [--test NAME]
    cwtest merge SHARD.csv SHARD.csv [...] --out PATH.csv [--allow-versions]
    cwtest search --arch A [--pair P] [--budget B] [--objective O] [--trials N] [--subspaces N | --whole-space]
                  [--space NAME=LOW:HIGH,...] [--data PATH] [--out FOUND.csv] [--address HOST:PORT]
    cwtest suites [layers|models|transfer|trials ...] [PYTEST ARGS]   (pytest's exit code)

Exit codes: 0 done, 1 `compare` found a regression or a `search` trial failed, 2 bad input (one line on
stderr naming it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from cwtest.analysis import mutual_information, plot_data, plots
from cwtest.core.errors import InputError
from cwtest.inputs.trials import ARCHITECTURES, DIVERGENT, Trial, load_table
from cwtest.registries.architectures import FLAVOURS
from cwtest.report import compare, export, merge
from cwtest.report.reader import read_report
from cwtest.report.writer import render, write_atomically
from cwtest.session import shipped
from cwtest.inputs.choices import parse_archs
from cwtest.inputs.paths import check_writable


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


def _output(path: str, option: str, inputs: tuple[str, ...]) -> Path:
    """A file this command may write: never one of its inputs (a baseline is never overwritten)."""
    target = Path(path)
    check_writable(target, option)
    if any(target.resolve() == Path(i).resolve() for i in inputs if i):
        raise InputError(f"{option}: {path} is one of the inputs; write the output elsewhere")
    return target


def _wrote(paths: list[Path]) -> list[str]:
    return [f"wrote {p}" for p in paths]


def _listing(args) -> tuple[list[str], int]:
    trials = _table(args)
    if not trials:
        raise InputError(f"--trials: no finished trial for {args.arch}")
    return (summary(trials) if args.action == "summary" else show(trials, args.top, args.bottom)), 0


def _mi(args) -> tuple[list[str], int]:
    base = plots.output_base(args.plot, "--plot") if args.plot else None
    found = mutual_information.analyse(_table(args), args.repeats, args.seed)
    if not found:
        raise InputError(f"--trials: no architecture with two or more finished trials in {args.arch}")
    lines = mutual_information.table(found, args.repeats)
    if base is not None:
        lines += _wrote(plots.mutual_information(found, args.repeats, "mutual information with accuracy_diff "
                                                 "(paper Figure 4)", base))
    return lines, 0


def _compare(args) -> tuple[list[str], int]:
    baseline, new = read_report(args.baseline, "baseline"), read_report(args.new, "new report")
    changes = compare.compare(baseline, new)
    lines = [*compare.header(baseline, new), "", *compare.table(changes)]
    if args.junit_xml:
        target = _output(args.junit_xml, "--junit-xml", (args.baseline, args.new))
        write_atomically(target, compare.junit_xml(changes))
        lines.append(f"wrote {target}")
    return lines, int(any(c.status == "regressed" for c in changes))


def _plot_accuracy(args) -> tuple[list[str], int]:
    base, archs = plots.output_base(args.out), parse_archs(args.arch, option="--arch")
    if args.report:
        groups, names = plot_data.from_report(read_report(args.report, "--report"), args.test)
        source = args.report
    else:
        groups, names = plot_data.from_trials(_table(args)), plot_data.TABLE_NAMES
        source = args.trials or "built-in trial table"
    groups = [g for g in groups if g.arch in archs]
    if not groups:
        raise InputError(f"--arch: no trials of {args.arch} in {source}")
    return _wrote(plots.accuracy_distributions(groups, names, f"test accuracy and accuracy difference: {source}",
                                               base)), 0


def _plot_losses(args) -> tuple[list[str], int]:
    base = plots.output_base(args.out)
    if args.report:
        if not args.test:
            raise InputError("--test: name the report row (a part of its node id) whose losses to plot")
        title, curves = plot_data.report_losses(read_report(args.report, "--report"), args.test)
    else:
        if not args.trial:
            raise InputError("--trial: name the trial whose recorded losses to plot")
        trial, curves = plot_data.trial_losses(list(load_table(args.trials, option="--trials").trials), args.trial)
        title = f"{trial.id}: pt {trial.pt_test_acc:.4f}, tf {trial.tf_test_acc:.4f} test accuracy"
    return _wrote(plots.loss_curves(curves, title, base)), 0


def _plot_overview(args) -> tuple[list[str], int]:
    base = plots.output_base(args.out)
    counts, seconds = plot_data.overview(read_report(args.report, "report"))
    return _wrote(plots.report_overview(counts, seconds, f"report {args.report}", base)), 0


def _plot_compatibility(args) -> tuple[list[str], int]:
    from cwtest.report.summary import compatibility, compatibility_lines

    base = plots.output_base(args.out)
    rows = list(read_report(args.report, "report").rows.values())
    if not compatibility(rows):
        raise InputError(f"report {args.report}: no rows of the layer, transfer or models suites with a pair")
    written = plots.compatibility(compatibility(rows), f"compatibility, report {args.report}", base)
    return compatibility_lines(rows) + _wrote(written), 0


def _plot_layers(args) -> tuple[list[str], int]:
    from cwtest.inputs.data import synthetic_cifar10
    from cwtest.models.localize import profile
    from cwtest.registries.tolerances import DEFAULTS

    base, arch = plots.output_base(args.out), parse_archs(args.arch, option="--arch")
    if len(arch) != 1:
        raise InputError(f"--arch: name one architecture, not {args.arch}")
    rows = profile(arch[0], args.flavour, synthetic_cifar10().x_test)
    tolerance = DEFAULTS["logits_eval"]
    return _wrote(plots.layer_profile(rows, tolerance, f"{arch[0]} ({args.flavour}): activation error per layer, "
                                      "torch weights copied into Keras", base)), 0


def _export(args) -> tuple[list[str], int]:
    target = _output(args.out, "--out", (args.report,))
    trials = list(load_table(args.trials, option="--trials").trials)
    columns, rows = export.export_rows(read_report(args.report, "report"), trials, args.test)
    write_atomically(target, render(columns, rows))
    return [f"wrote {len(rows)} trial rows to {target}"], 0


def _plot_search(args) -> tuple[list[str], int]:
    from cwtest.search.results import read_found

    base = plots.output_base(args.out)
    table = read_found(args.found)
    by_subspace: dict[int, list[float]] = {}
    for row in table:
        by_subspace.setdefault(int(row["subspace"]), []).append(float(row["objective_value"]))
    objective = table[0]["objective"]
    title = f"{table[0]['architecture']} search, objective {objective}: {args.found}"
    return _wrote(plots.search_progress(by_subspace, f"{objective} accuracy difference", title, base)), 0


def _merge(args) -> tuple[list[str], int]:
    target = _output(args.out, "--out", tuple(args.reports))
    reports = [read_report(path, "shard") for path in args.reports]
    columns, rows = merge.merge(reports, args.allow_versions)
    write_atomically(target, render(columns, rows))
    return [f"wrote {len(rows)} rows from {len(reports)} reports to {target}"], 0


def _search(args) -> tuple[list[str], int]:
    from cwtest.search.cli import search

    return search(args)


def _trials_option(command) -> None:
    command.add_argument("--trials", help="an export CSV or a folder of them (default: built-in table)")
    command.add_argument("--arch", default="all", help="architectures, comma list (default: all)")


def _report_options(command) -> None:
    command.add_argument("--report", help="a cwtest CSV report instead of a trial table")
    command.add_argument("--test", help="the test function (or, for losses, part of the node id) to take rows from")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="cwtest", description="cross-framework equivalence tools")
    commands = main.add_subparsers(dest="command", required=True)
    trials = commands.add_parser("trials", help="statistics and listings of a CrossedWires trial table")
    actions = trials.add_subparsers(dest="action", required=True)
    for name, help_text in (("summary", "per-architecture accuracy-difference statistics (paper Tables 2-3)"),
                            ("show", "list trials ranked by accuracy difference (paper Tables 4-6)")):
        action = actions.add_parser(name, help=help_text)
        _trials_option(action)
        action.set_defaults(handler=_listing)
        if name == "show":
            action.add_argument("--top", type=_positive, help="the N most divergent trials per architecture")
            action.add_argument("--bottom", type=_positive, help="the N least divergent trials per architecture")
    mi = actions.add_parser("mi", help="mutual information of hyperparameters with accuracy_diff (paper Figure 4)")
    _trials_option(mi)
    mi.add_argument("--repeats", type=_positive, default=mutual_information.REPEATS,
                    help=f"bootstrap repeats (default: {mutual_information.REPEATS})")
    mi.add_argument("--seed", type=int, default=0, help="seed of the repeats (default: 0)")
    mi.add_argument("--plot", help="also draw the figure: BASE.png and BASE.svg")
    mi.set_defaults(handler=_mi)

    gate = commands.add_parser("compare", help="a new report against a baseline: exit 1 on any regression")
    gate.add_argument("baseline", help="the baseline CSV report (read only)")
    gate.add_argument("new", help="the new CSV report")
    gate.add_argument("--junit-xml", help="also write the verdict per test as JUnit XML")
    gate.set_defaults(handler=_compare)

    plot = commands.add_parser("plot", help="figures (PNG and SVG) from a trial table or a report")
    figures = plot.add_subparsers(dest="figure", required=True)
    accuracy = figures.add_parser("accuracy", help="accuracy and accuracy-difference distributions (paper Figure 2)")
    losses = figures.add_parser("losses", help="a trial pair's per-epoch training losses")
    for figure in (accuracy, losses):
        _trials_option(figure)
        _report_options(figure)
    losses.add_argument("--trial", help="the trial (its Name) whose recorded losses to plot")
    layers = figures.add_parser("layers", help="per-layer activation error of a transferred pair (localization)")
    layers.add_argument("--arch", required=True, help="the architecture")
    layers.add_argument("--flavour", default="matched", choices=FLAVOURS, help="architecture flavour (default: matched)")
    overview = figures.add_parser("overview", help="a report's tests by outcome and time per suite and architecture")
    overview.add_argument("report", help="a cwtest CSV report")
    compatible = figures.add_parser("compatibility", help="per side (framework, device and precision): blocks and models "
                                                          "passed, failed, worst error in units of the tolerance")
    compatible.add_argument("report", help="a cwtest CSV report")
    searched = figures.add_parser("search", help="a search's objective over its trials (cwtest search)")
    searched.add_argument("found", help="the results file of cwtest search")
    for figure, handler in ((accuracy, _plot_accuracy), (losses, _plot_losses), (layers, _plot_layers),
                            (overview, _plot_overview), (compatible, _plot_compatibility), (searched, _plot_search)):
        figure.add_argument("--out", required=True, help="output file name without suffix: writes .png and .svg")
        figure.set_defaults(handler=handler)

    out = commands.add_parser("export", help="a report's trained pairs in the CrossedWires export schema")
    out.add_argument("report", help="a cwtest CSV report of trained pairs")
    out.add_argument("--out", required=True, help="the CSV to write (never the report itself)")
    out.add_argument("--trials", help="the trial table the run used (default: built-in table)")
    out.add_argument("--test", help="the test function to take rows from, where the report has several")
    out.set_defaults(handler=_export)
    joined = commands.add_parser("merge", help="shard reports of one run joined into the report the unsplit run writes")
    joined.add_argument("reports", nargs="+", help="the shards' CSV reports")
    joined.add_argument("--out", required=True, help="the CSV to write (never one of the shards)")
    joined.add_argument("--allow-versions", action="store_true",
                        help="join reports written under other framework versions too")
    joined.set_defaults(handler=_merge)

    from cwtest.search.cli import add_search  # argparse only; Ray is imported when a search runs

    add_search(commands).set_defaults(handler=_search)
    # parsed by main() before argparse, which would take pytest's options for its own
    commands.add_parser("suites", help="run the shipped suites with pytest: cwtest suites [SUITE ...] [PYTEST ARGS]")
    return main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["suites"]:
        return shipped.run(argv[1:])
    args = parser().parse_args(argv)
    try:
        lines, code = args.handler(args)
    except InputError as exc:
        print(f"cwtest: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())

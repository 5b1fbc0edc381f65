"""`cwtest search`: its options, checked before anything starts, and the run.

    cwtest search --arch vgg16 --budget smoke --subspaces 2 --trials 3 --out found.csv

Every bad input (an unknown architecture, an empty or inverted range, an unreachable --address, a results
file of another search) is one line before Ray starts, and nothing is written (exit 2). A trial that fails
in its worker stops the search with one line (exit 1); the trials before it stay, and the command resumes.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from cwtest.frameworks import trainable
from cwtest.frameworks.sides import parse_pair
from cwtest.core.errors import InputError
from cwtest.inputs.budgets import BUDGETS, get_budget
from cwtest.search.objective import OBJECTIVES
from cwtest.search.plan import Search, check_address
from cwtest.inputs.choices import parse_archs
from cwtest.inputs.paths import check_writable

DEFAULT_OUT = "found.csv"
PUBLISHED_TRIALS = 25  # per subspace, as the published search ran


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def add_search(commands) -> argparse.ArgumentParser:
    search = commands.add_parser("search", help="find divergent trials: a GP-guided search on Ray (the published one)")
    search.add_argument("--arch", required=True, help="the architecture (vgg16, resnet50, densenet121)")
    search.add_argument("--pair", default="torch:cpu,tensorflow:cpu", help="a torch side and a Keras side, as "
                        "--crossedwires-pair (default: torch:cpu,tensorflow:cpu)")
    search.add_argument("--budget", default="smoke", choices=list(BUDGETS), help="each trial's budget (default: smoke)")
    search.add_argument("--objective", default="published", choices=list(OBJECTIVES),
                        help="published: the accuracy difference as the dataset measured it; unexplained: the "
                             "difference left with every harmonization knob on (default: published)")
    search.add_argument("--trials", type=_positive, default=PUBLISHED_TRIALS,
                        help=f"trials per subspace (default: {PUBLISHED_TRIALS}, as published)")
    search.add_argument("--subspaces", type=_positive, default=None,
                        help="search the first N of the 16 overlapping subspaces (default: all)")
    search.add_argument("--whole-space", action="store_true", help="one search over the whole space, unsplit")
    search.add_argument("--space", default="", help="narrow dimensions: name=low:high[,...] (learning_rate, "
                        "adam_epsilon, batch_size, epochs; default: the published space)")
    search.add_argument("--data", help="a CIFAR-10 python-version folder (default: synthetic CIFAR-shaped data)")
    search.add_argument("--out", default=DEFAULT_OUT, help=f"the results file: appended to, and resumed from "
                        f"(default: {DEFAULT_OUT})")
    search.add_argument("--address", help="HOST:PORT of a running Ray cluster to join (default: a local Ray)")
    search.add_argument("--cpus-per-trial", type=_positive, help="CPUs each trial reserves (default: all of a "
                        "machine's, so a machine trains one trial at a time)")
    return search


def prepare(args):
    """The search the arguments describe, every input checked; nothing started, nothing written."""
    from cwtest.search import results
    from cwtest.search.space import describe, parse_space, subspaces

    archs = parse_archs(args.arch, "--arch")
    if len(archs) != 1:
        raise InputError(f"--arch: one architecture per search, not {args.arch!r}")
    pair = parse_pair(args.pair, "--pair")
    if not pair.torch_and_keras or not all(trainable(s.framework) for s in (pair.left, pair.right)):
        raise InputError(f"--pair: a search trains a torch side against a Keras side, and {pair} is not such a pair")
    space = parse_space(args.space)
    split = [space] if args.whole_space else subspaces(space)
    count = args.subspaces or len(split)
    if count > len(split):
        raise InputError(f"--subspaces: {count} asked, the space splits into {len(split)}")
    out = Path(args.out)
    check_writable(out, "--out")
    results.read(out, arch=archs[0], objective=args.objective, budget=args.budget, pair=str(pair), space=describe(space))
    if args.address:
        check_address(args.address)
    return Search(archs[0], pair, get_budget(args.budget), args.objective, tuple(split[:count]), tuple(range(count)),
                  args.trials, out, space, args.address, args.cpus_per_trial)


def search(args) -> tuple[list[str], int]:
    from cwtest.inputs.data import load_cifar10, synthetic_cifar10

    prepared = prepare(args)
    try:
        from cwtest.search import engine
        from cwtest.search.progress import SearchProgress, summary
    except ImportError as missing:
        raise InputError(f"cwtest search needs {missing.name}: pip install 'cwtest[search]'") from None
    data = (load_cifar10(args.data) if args.data else synthetic_cifar10()).subset(prepared.budget)

    try:
        with SearchProgress(len(prepared.subspaces) * prepared.trials, len(prepared.subspaces)) as show:
            rows = engine.run(prepared, data, show)
    except engine.TrialFailed as failed:
        return [f"cwtest search: {failed}"], 1
    show.console.print(summary(rows, str(prepared.out)))
    return [f"wrote {prepared.out}: {len(rows)} trial(s); replay them with {replay_command(prepared, args.data)}"], 0


def replay_command(search: Search, data: str | None) -> str:
    """The trial suite on what a search found, as it trained them: `cwtest suites` runs in any folder, where
    `pytest suites/trials` runs only at a checkout's top."""
    options = {"trials": search.out, "arch": search.arch, "budget": search.budget.name,
               "pair": f"{search.pair.left},{search.pair.right}", "data": data}
    return shlex.join(["cwtest", "suites", "trials",
                       *(f"--crossedwires-{name}={value}" for name, value in options.items() if value)])

"""`--crossedwires-select`: which trials of the table to run.

    all | top:N | bottom:N | sample:N[:seed] | name:ID[,ID...] | a query

top/bottom/sample apply per architecture (N each), ranked by `accuracy_diff`. A query is
a boolean expression over the trial's numeric fields, e.g. `epochs<=3 and batch_size>500`,
evaluated by a small interpreter over Python's syntax tree (no `eval`).
"""

from __future__ import annotations

import ast
import operator
import random
from collections.abc import Sequence

from cwtest.core.errors import InputError
from cwtest.inputs.trials import Trial

OPTION = "--crossedwires-select"
FIELDS = ("learning_rate", "batch_size", "epochs", "adam_epsilon",
          "pt_test_acc", "tf_test_acc", "accuracy_diff", "runtime_s")
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}


def select(trials: Sequence[Trial], spec: str) -> list[Trial]:
    """The trials `spec` picks, in table order; an empty result is an error."""
    spec = spec.strip()
    kind, _, arg = spec.partition(":")
    if spec == "all":
        chosen = list(trials)
    elif kind in ("top", "bottom", "sample") and arg:
        chosen = _per_arch(trials, kind, arg, spec)
    elif kind == "name" and arg:
        chosen = _by_name(trials, arg)
    else:
        predicate = _compile_query(spec)
        chosen = [t for t in trials if predicate(t)]
    if not chosen:
        raise InputError(f"{OPTION}: {spec!r} matches no trial")
    return chosen


def _count(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"{OPTION}: {spec!r}: the count must be a positive whole number")
    return int(text)


def _per_arch(trials: Sequence[Trial], kind: str, arg: str, spec: str) -> list[Trial]:
    count_text, _, seed_text = arg.partition(":")
    count = _count(count_text, spec)
    if seed_text and (kind != "sample" or not seed_text.isdigit()):
        raise InputError(f"{OPTION}: {spec!r}: only sample takes a seed, a whole number")
    keep: set[str] = set()
    for arch in dict.fromkeys(t.arch for t in trials):
        group = [t for t in trials if t.arch == arch]
        if kind == "sample":
            picked = random.Random(int(seed_text or 0)).sample(group, min(count, len(group)))
        else:
            # Ties broken by name so that every xdist worker picks the same trials.
            ranked = sorted(group, key=lambda t: (-t.accuracy_diff if kind == "top" else t.accuracy_diff, t.name))
            picked = ranked[:count]
        keep.update(t.id for t in picked)
    return [t for t in trials if t.id in keep]


def _by_name(trials: Sequence[Trial], arg: str) -> list[Trial]:
    wanted = [n.strip() for n in arg.split(",") if n.strip()]
    known = {t.name for t in trials} | {t.id for t in trials}
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise InputError(f"{OPTION}: unknown trial name(s) {', '.join(unknown)}")
    return [t for t in trials if t.name in wanted or t.id in wanted]


def _compile_query(spec: str):
    try:
        tree = ast.parse(spec, mode="eval").body
    except SyntaxError:
        raise InputError(f"{OPTION}: {spec!r} is neither all, top:N, bottom:N, sample:N[:seed], "
                         f"name:ID nor a query such as 'epochs<=3 and batch_size>500'") from None
    _check(tree, spec)
    return lambda trial: bool(_evaluate(tree, trial))


def _check(node: ast.AST, spec: str) -> None:
    """Reject anything but comparisons of fields and numbers joined by and/or/not."""
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, spec)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, spec)
    elif isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        for operand in [node.left, *node.comparators]:
            if isinstance(operand, ast.Name):
                if operand.id not in FIELDS:
                    raise InputError(f"{OPTION}: unknown field {operand.id!r} in {spec!r} "
                                     f"(fields: {', '.join(FIELDS)})")
            elif not (isinstance(operand, ast.Constant) and isinstance(operand.value, (int, float))):
                raise InputError(f"{OPTION}: {spec!r}: compare fields with numbers only")
    else:
        raise InputError(f"{OPTION}: {spec!r}: a query is comparisons joined by and/or/not, "
                         f"e.g. 'epochs<=3 and batch_size>500'")


def _evaluate(node: ast.AST, trial: Trial):
    if isinstance(node, ast.BoolOp):
        results = (_evaluate(v, trial) for v in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp):
        return not _evaluate(node.operand, trial)
    if isinstance(node, ast.Compare):
        values = [_operand(n, trial) for n in [node.left, *node.comparators]]
        if any(v is None for v in values):  # e.g. a trial without a recorded runtime
            return False
        return all(_COMPARE[type(op)](a, b) for op, a, b in zip(node.ops, values, values[1:]))
    raise AssertionError("unchecked query node")


def _operand(node: ast.AST, trial: Trial):
    return getattr(trial, node.id) if isinstance(node, ast.Name) else node.value

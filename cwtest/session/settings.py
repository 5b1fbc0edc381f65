"""The `crossedwires` options, resolved once (command line, then ini) into one immutable object."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cwtest.frameworks import TRAINABLE, trainable
from cwtest.frameworks.sides import Pair, decomposition_sides, parse_pair
from cwtest.core.errors import InputError
from cwtest.inputs.budgets import Budget, get_budget
from cwtest.inputs.paths import check_writable
from cwtest.inputs.selection import select
from cwtest.inputs.trials import Trial, TrialTable, load_table
from cwtest.registries.architectures import FLAVOURS, REGISTRY, ZOO, parse_archs, parse_flavours
from cwtest.registries.tolerances import parse as parse_tolerances
from cwtest.report.reader import read_baseline
from cwtest.registries.knobs import keras_flavour, parse_knobs


@dataclass(frozen=True)
class Settings:
    archs: tuple[str, ...]
    pair: Pair
    table: TrialTable
    selected: tuple[Trial, ...]  # finished trials of the chosen architectures that the selection picks
    data_path: str | None
    budget: Budget
    report_path: Path | None
    flavours: tuple[str, ...] = FLAVOURS
    layers: tuple[str, ...] = ()  # layer selectors for localization on request; () = only on failure
    tolerances: dict[str, float] = field(default_factory=dict)  # run overrides of tolerances.DEFAULTS
    knobs: frozenset[str] = frozenset()  # harmonization knobs of the published-protocol trial tests
    attribution: bool = False
    decompose: bool = False
    repeats: int = 1
    deterministic: bool = False
    baseline: Path | None = None
    checkpoints: Path | None = None

    @property
    def excluded_unfinished(self) -> int:
        return sum(1 for t in self.table.unfinished if t.arch in self.archs)


def _raw(config, name: str) -> tuple[str, Path]:
    """The option's text and the folder its relative paths are relative to."""
    value = config.getoption(f"crossedwires_{name}")
    if value is not None:
        return (",".join(value) if isinstance(value, list) else value), Path(config.invocation_params.dir)
    return str(config.getini(f"crossedwires_{name}")).strip(), Path(config.rootpath)


def _path(config, name: str) -> Path | None:
    text, base = _raw(config, name)
    return (base / os.path.expanduser(text)).resolve() if text else None


def parse_layers(text: str, option: str = "--crossedwires-layers") -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if not re.fullmatch(r"[A-Za-z0-9_.\-]+", n)]
    if bad:
        raise InputError(f"{option}: {bad[0]!r} is not a layer name (letters, digits, '_', '.', '-')")
    return names


def _flag(text: str, option: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        raise InputError(f"{option}: {text!r} is not true or false")
    return text.lower() in ("true", "1", "yes", "on")


def _repeats(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"--crossedwires-repeats: {text!r} is not a positive whole number")
    return int(text)


def _baseline(path: Path | None) -> Path | None:
    if path is not None:
        if not path.is_file():
            raise InputError(f"--crossedwires-baseline: no such file: {path}")
        read_baseline(path)  # a broken baseline is a usage error now, not a failure per test
    return path


def _checkpoints(path: Path | None, option: str = "--crossedwires-checkpoints") -> Path | None:
    """cwtest's own folder of pairs (created when missing), or the published dataset: its root or its zip."""
    if path is not None and path.is_file():
        from cwtest.published.layout import Root

        try:
            Root(path).close()  # a file that is not the dataset's zip is named now, before any test
        except InputError as error:
            raise InputError(f"{option}: {error}") from None
        return path
    return _folder(path, option)


def _folder(path: Path | None, option: str) -> Path | None:
    if path is not None:
        if path.exists() and not path.is_dir():
            raise InputError(f"{option}: {path} is not a folder")
        if not path.exists() and not path.parent.is_dir():
            raise InputError(f"{option}: cannot create {path}: folder {path.parent} does not exist")
    return path


def check_combination(settings: Settings) -> None:
    """Reject options that every test reading them could only fail or ignore with this pair and these
    trials: such an option is bad input, found before any test runs, not a test failure."""
    pair = settings.pair
    # Only the trial suite reads these, and it trains both sides of the pair.
    training = {"harmonize": bool(settings.knobs), "attribution": settings.attribution, "decompose": settings.decompose,
                "repeats": settings.repeats > 1, "baseline": settings.baseline is not None,
                "checkpoints": settings.checkpoints is not None}
    given = [name for name, on in training.items() if on]
    untrainable = [side for side in (pair.left, pair.right) if not trainable(side.framework)]
    if given and untrainable:
        raise InputError(f"--crossedwires-{given[0]}: only the trial suite reads it, and it cannot train "
                         f"{untrainable[0]} (trainable: {', '.join(TRAINABLE)}); name trainable sides in "
                         f"--crossedwires-pair or drop --crossedwires-{given[0]}")
    if settings.decompose and (not pair.torch_and_keras or decomposition_sides(pair) is None):
        raise InputError(f"--crossedwires-decompose: splits a torch side's difference from a Keras side on "
                         f"TensorFlow or JAX, and {pair} is not such a pair; name e.g. torch:cpu,tensorflow:cpu "
                         f"or torch:cpu,keras-jax:cpu, or drop --crossedwires-decompose")
    if settings.checkpoints is not None and pair.crossedwires_columns is None:
        raise InputError(f"--crossedwires-checkpoints: the CrossedWires layout holds one torch and one tensorflow "
                         f"model per trial, and {pair} is not torch against tensorflow; name one side of each "
                         f"in --crossedwires-pair, or drop --crossedwires-checkpoints")
    if "init" in settings.knobs and pair.torch_and_keras:
        for arch in dict.fromkeys(t.arch for t in settings.selected):
            # init copies torch's weights layer by layer, which needs the same structure on both sides.
            differences = REGISTRY[arch].flavours[keras_flavour(arch, settings.knobs)].differences
            if differences:
                raise InputError(f"--crossedwires-harmonize: init cannot copy torch's {arch} weights into the "
                                 f"published Keras {arch} ({', '.join(d.name for d in differences)}); add the "
                                 f"architecture knob (init,architecture) or leave {arch} out of --crossedwires-arch")


def resolve(config) -> Settings:
    """Every option checked and parsed; an InputError names the first bad one."""
    archs = parse_archs(_raw(config, "arch")[0])
    pair = parse_pair(_raw(config, "pair")[0])
    budget = get_budget(_raw(config, "budget")[0])
    table = load_table(_path(config, "trials"))
    trained = [arch for arch in archs if arch not in ZOO]  # the zoo's pairs have no trials
    candidates = [t for t in table.finished if t.arch in trained]
    if trained and not candidates:
        raise InputError(f"--crossedwires-trials: {table.source} has no finished trial for {', '.join(trained)}")
    selected = select(candidates, _raw(config, "select")[0]) if trained else []
    data = _path(config, "data")
    report = _path(config, "report")
    if report is not None:
        check_writable(report, "--crossedwires-report")
    settings = Settings(archs, pair, table, tuple(selected), str(data) if data else None, budget, report,
                        flavours=parse_flavours(_raw(config, "flavour")[0]),
                        layers=parse_layers(_raw(config, "layers")[0]),
                        tolerances=parse_tolerances(_raw(config, "tolerance")[0]),
                        knobs=parse_knobs(_raw(config, "harmonize")[0]),
                        attribution=_flag(_raw(config, "attribution")[0], "--crossedwires-attribution"),
                        decompose=_flag(_raw(config, "decompose")[0], "--crossedwires-decompose"),
                        deterministic=_flag(_raw(config, "deterministic")[0], "--crossedwires-deterministic"),
                        repeats=_repeats(_raw(config, "repeats")[0]),
                        baseline=_baseline(_path(config, "baseline")),
                        checkpoints=_checkpoints(_path(config, "checkpoints")))
    check_combination(settings)
    return settings

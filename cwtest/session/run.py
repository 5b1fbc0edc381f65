"""A cwtest run: its settings and data, the header, the test order, each test's context and the CSV
report. The entry point (cwtest.session.plugin) registers this plugin when a run asks for cwtest.

Nothing here imports torch or TensorFlow: collection stays fast and the frameworks are
imported by the tests that use them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import tempfile
import threading
from pathlib import Path

import pytest

from cwtest import __version__
from cwtest.frameworks.determinism import prepare_environment
from cwtest.frameworks.imports import RUN_KERAS_BACKENDS, choose_keras_backend, framework_versions
from cwtest.core.errors import InputError
from cwtest.inputs.data import Cifar10, load_cifar10, synthetic_cifar10
from cwtest.report.summary import attribution_lines, compatibility_lines, decomposition_lines
from cwtest.report.summary import lines as summary_lines
from cwtest.core import events
from cwtest.core.properties import CONTEXT, METRIC
from cwtest.report.writer import (CHILDREN_PEAK_RSS, CRASH_COLUMNS, PEAK_RSS, Collector, PartialRows, peak_rss_mb, render,
                                  write_atomically)
from cwtest.session import blackbox, live
from cwtest.session.options import spaced
from cwtest.session.stash import SESSION_STARTED, SETTINGS
from cwtest.session.settings import Settings, resolve
from cwtest.session.workers import assign_gpu, share_cores, worker_index

GPU = pytest.StashKey[str]()  # the physical GPU id an xdist worker was given, "" for none
RESTORE = pytest.StashKey[list]()  # what pytest_unconfigure puts back: signal handlers, environment
LATE = pytest.StashKey[bool]()  # started during collection (by a test's fixture), after the header was written
TRAINS = "crossedwires_trains"


def data_of(settings: Settings) -> Cifar10:
    return load_cifar10(settings.data_path) if settings.data_path else synthetic_cifar10()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.option.help or config.option.version:
        return
    position = worker_index(getattr(config, "workerinput", None))
    events.install(live.show, live.restart, blackbox.note)  # the training loop's and the layer suite's reports
    if position is not None:
        share_cores(position[1])
        config.stash[GPU] = assign_gpu(position[0]) or ""
        live.into_record(config)
    try:
        settings = resolve(config)
        data_of(settings)  # a missing or corrupt data file is a usage error now, not one per test
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS] = settings
    config.stash[LATE] = config.stash.get(SESSION_STARTED, False)
    if settings.pair.left.accelerated or settings.pair.right.accelerated:
        # deterministic kernels (the option, the trainer's knob) need it before CUDA starts
        prepare_environment(deterministic=settings.deterministic)
    config.stash[RESTORE] = []
    if settings.pair.keras_backends:
        _keras_backends(config, settings.pair.keras_backends)
    config.addinivalue_line("markers", f"{TRAINS}: a test that trains models (minutes each); runs before the others")
    # Keras on torch turns torch tensors and its variables into arrays with np.array(x), which numpy 2
    # warns about on every call (torch's __array__ takes no copy argument): Keras's, not the test's.
    config.addinivalue_line("filterwarnings", "ignore:__array__ implementation doesn't accept a copy "
                                              "keyword:DeprecationWarning:keras")
    _interrupt_on(config, signal.SIGTERM)
    if position is None:
        config.pluginmanager.register(ReportWriter(settings.report_path, rerun_command(config)), "cwtest-report")
        xdist = bool(getattr(config.option, "numprocesses", None))  # xdist runs the tests in workers
        if xdist and not config.stash[LATE]:  # a late start: the workers are running, without crash notes
            _blackbox_folder(config)
            live.watch_workers(config, Path(os.environ[blackbox.ENV]))
            _one_test_at_a_time(config)
        elif not xdist:
            live.direct_to_terminal(config)


def _keras_backends(config: pytest.Config, backends: tuple[str, ...]) -> None:
    """The Keras backend of the pair's (first) Keras side, chosen before anything imports Keras, and all
    the pair's Keras backends named (cwtest.frameworks.imports.run_keras_backends); xdist's workers
    inherit both. The old values are put back at the end."""
    previous = {name: os.environ.get(name) for name in ("KERAS_BACKEND", RUN_KERAS_BACKENDS)}
    try:
        choose_keras_backend(backends[0])
    except InputError as exc:
        raise pytest.UsageError(f"--crossedwires-pair: {exc}") from None
    os.environ[RUN_KERAS_BACKENDS] = ",".join(backends)

    def undo() -> None:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    config.stash[RESTORE].append(undo)


def _one_test_at_a_time(config: pytest.Config) -> None:
    """xdist's load scheduler first hands each worker a consecutive quarter of its share of the tests:
    the trainings, which run first (pytest_collection_modifyitems), all went to one worker, and the
    other ran the short tests and waited. One test at a time (unless the run sets --maxschedchunk)
    gives the next test to whichever worker is free."""
    if getattr(config.option, "dist", None) == "load" and getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


def _blackbox_folder(config: pytest.Config) -> None:
    """The run's folder for the workers' crash notes (cwtest.session.blackbox), made before xdist starts its
    workers (at session start) so that they inherit it; removed, and the old value put back, at the end."""
    folder, previous = tempfile.mkdtemp(prefix="cwtest-blackbox-"), os.environ.get(blackbox.ENV)
    os.environ[blackbox.ENV] = folder

    def undo() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        if previous is None:
            os.environ.pop(blackbox.ENV, None)
        else:
            os.environ[blackbox.ENV] = previous

    config.stash[RESTORE].append(undo)


def _interrupt_on(config: pytest.Config, signum: int) -> None:
    """A CI job at its time limit is usually ended with SIGTERM, which by default kills the process
    before pytest can report anything: turn it into the KeyboardInterrupt pytest already handles, in
    the controller (which then writes the report) and in each worker. A handler the user set stays."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signum) == signal.SIG_DFL:
        signal.signal(signum, _raise_interrupt)
        config.stash[RESTORE].append(lambda: signal.signal(signum, signal.SIG_DFL))


def _raise_interrupt(signum: int, frame) -> None:
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def pytest_unconfigure(config: pytest.Config) -> None:
    for undo in reversed(config.stash.get(RESTORE, [])):  # only what this session set up
        undo()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [] if config.stash.get(LATE, True) else header(config)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    return header(config) if config.stash.get(LATE, False) else []


def header(config: pytest.Config) -> list[str]:
    s = config.stash[SETTINGS]
    versions = ", ".join(f"{k} {v or 'not installed'}" for k, v in framework_versions().items())
    data = data_of(s)
    if data.official is None:
        data_line = f"synthetic CIFAR-shaped data ({len(data.y_train)} train, {len(data.y_test)} test images)"
    else:
        data_line = f"{data.source} ({'official files' if data.official else 'not the official files (md5)'})"
    budget = s.budget
    scale = "all images and epochs" if budget.train_images is None else (
        f"{budget.train_images} train / {budget.test_images} test images, at most {budget.max_epochs} epoch(s)")
    return [
        f"cwtest {__version__}: {versions}",
        f"crossedwires trials: {s.table.source}: {len(s.selected)} selected for {', '.join(s.archs)}; "
        f"{s.excluded_unfinished} not finished, excluded",
        f"crossedwires data: {data_line}",
        f"crossedwires budget: {budget.name} ({scale}); pair: {s.pair}",
    ]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The trainings first, the rest after them, each in its own order. xdist hands tests out in this
    order, one at a time (_one_test_at_a_time), so every worker starts on a training and the short
    tests fill whichever worker finishes first; with the trainings last, one worker ended its last
    training while the other waited (the README's first command: 429 s of tests on one worker, 399 s
    on the other). The report sorts its rows by test id, so they do not move."""
    items.sort(key=lambda item: item.get_closest_marker(TRAINS) is None)


def compare_on_pair(pair, record_metric, torch_model, keras_model, inputs, keras_inputs=None, **options):
    """The crossedwires_compare fixture's work (cwtest.session.plugin)."""
    from cwtest.frameworks import keras_in_this_process
    from cwtest.frameworks.availability import require
    from cwtest.models.yours import compare_models

    if not pair.torch_and_keras:
        pytest.skip(f"crossedwires_compare compares torch with Keras, and the pair is {pair}: name one torch and "
                    f"one Keras side in --crossedwires-pair")
    torch_side, keras_side = pair.torch_first((pair.left, pair.right))
    with keras_in_this_process():  # the user's Keras model is an object of this process, as compare_models runs it
        require(torch_side, keras_side, roles=("runner", "weights", "layers", "user models"))
    result = compare_models(torch_model, keras_model, inputs, keras_inputs, torch_side=torch_side,
                            keras_side=keras_side, **options)
    for name, value in result.metrics().items():
        record_metric(name, value)
    if not result.equivalent:
        raise AssertionError(result.report())
    return result


def _device(settings: Settings, gpu: str) -> str:
    accelerated = settings.pair.left.accelerated or settings.pair.right.accelerated
    return f"{settings.pair.devices} (GPU {gpu})" if gpu and accelerated else settings.pair.devices


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Attach the test's context, so that it reaches the report and JUnit with the result."""
    settings = item.config.stash[SETTINGS]
    params = getattr(getattr(item, "callspec", None), "params", {})
    trial = params.get("crossedwires_trial")
    context = {
        "arch": trial.arch if trial else params.get("crossedwires_arch", ""),
        "trial": trial.name if trial else "",
        "pair": str(settings.pair),
        "device": _device(settings, item.config.stash.get(GPU, "")),
        "budget": settings.budget.name,
    }
    item.user_properties.extend((CONTEXT + k, v) for k, v in context.items())
    blackbox.start(item.nodeid)
    side = params.get("crossedwires_side")
    if side is not None:
        from cwtest.frameworks.availability import require

        require(side)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Hypothesis calls a test flaky when an example failed once and passed when replayed: that is a
    side giving two answers for one input, and the failure says so first."""
    outcome = yield
    report = outcome.get_result()
    error = call.excinfo.value if call.excinfo else None
    if report.failed and type(error).__module__.startswith("hypothesis") and "Flaky" in type(error).__name__:
        report.longrepr = (f"non-deterministic: the same example failed on one call and passed on another, so a "
                           f"side (or the test) gave two answers for one input; hypothesis says:\n{report.longrepr}")
    if call.when == "teardown":
        # What `-n N` needs per worker: the process's peak so far, a column of every row, and its Keras children's
        # (cwtest.frameworks.child: the trainings run there) where it started one.
        report.user_properties.append((METRIC + PEAK_RSS, peak_rss_mb()))
        from cwtest.frameworks.child import children_peak_mb

        children = children_peak_mb()
        if children:
            report.user_properties.append((METRIC + CHILDREN_PEAK_RSS, children))


def _worker_of(report: pytest.TestReport) -> str:
    """The xdist worker ("gw0") a report came from; "" in a run without xdist."""
    return getattr(getattr(getattr(report, "node", None), "gateway", None), "id", "")


def rerun_command(config: pytest.Config):
    """nodeid -> a command that runs that one test again, in the folder the run was started from: the test file
    named from there (under `cwtest suites` it is in the installed package, not below that folder), with the
    run's crossedwires options as given, all but the report (which the command would overwrite)."""
    here, given, kept = config.invocation_params.dir, list(config.invocation_params.args), []
    while given:
        arg = given.pop(0)
        if arg.startswith("--crossedwires-"):
            value = [given.pop(0)] if "=" not in arg and spaced([arg, *given[:1]]) else []
            if not arg.startswith("--crossedwires-report"):
                kept += [arg, *value]

    def command(nodeid: str) -> str:
        file, _, rest = nodeid.partition("::")
        path = config.rootpath / file
        shown = path.relative_to(here) if path.is_relative_to(here) else path
        return shlex.join(["pytest", f"{shown}::{rest}" if rest else str(shown), "-p", "no:xdist", *kept])

    return command


class ReportWriter:
    """Registered only in the process that sees every result (the xdist controller, or the only one):
    folds every test into a row, writes the CSV report when a path is given, and shows the
    end-of-run summary table either way."""

    def __init__(self, path, rerun) -> None:
        self.path = path
        self.rerun = rerun  # nodeid -> the command that runs that test again, alone
        self.collector = Collector()
        # Every finished row, appended as it finishes: what a run killed outright (SIGKILL) leaves.
        self.partial = PartialRows(path) if path is not None else None
        self.rows: list[dict] = []
        self.outcome = ""
        self.crashes: list[str] = []
        self.interrupted = ""  # the signal or key that stopped the run
        self.peaks: dict[str, float] = {}  # worker -> its peak resident memory, MB
        self.children_peaks: dict[str, float] = {}  # worker -> its Keras children's, MB

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "???":  # xdist: the worker died inside this test
            self._crashed(report)
        self.collector.add(report)
        for key, value in report.user_properties:
            if key in (METRIC + PEAK_RSS, METRIC + CHILDREN_PEAK_RSS):
                peaks = self.peaks if key == METRIC + PEAK_RSS else self.children_peaks
                worker = _worker_of(report) or "this process"
                peaks[worker] = max(peaks.get(worker, 0.0), float(value))
        if self.partial is not None and report.when in ("teardown", "???"):
            self.partial.append(self.collector.rows[report.nodeid])

    def _crashed(self, report: pytest.TestReport) -> None:
        worker = _worker_of(report)
        record = blackbox.read(worker) if worker else {}
        if record.get("nodeid") != report.nodeid:
            record = {}
        reproduce = record.get("reproduce") or self.rerun(report.nodeid)
        details = dict(zip(CRASH_COLUMNS, (worker, record.get("side", ""),
                                           blackbox.dumps(record["inputs"]) if "inputs" in record else "", reproduce)))
        self.collector.annotate(report.nodeid, details)
        self.crashes.append(f"{report.nodeid} killed worker {worker or '?'}"
                            + (f" in {details['crash_side']}" if details["crash_side"] else "")
                            + (f" with inputs {details['crash_inputs']}" if details["crash_inputs"] else "")
                            + f"; reproduce: {reproduce}")

    def pytest_keyboard_interrupt(self, excinfo) -> None:
        self.interrupted = str(excinfo.value) or "KeyboardInterrupt"
        # Now, not only at session end: xdist first waits for its workers to stop, and a job that sent
        # SIGTERM may send SIGKILL before that. Session end writes the same rows again.
        self.pytest_sessionfinish()

    def pytest_sessionfinish(self) -> None:
        columns, self.rows = self.collector.table()
        if self.path is None:
            return
        try:
            write_atomically(self.path, render(columns, self.rows))
            self.outcome = f"cwtest: wrote {len(self.rows)} rows to {self.path}"
            self.partial.remove()
        except OSError as exc:
            self.outcome = (f"cwtest: could not write the report {self.path}: {exc.strerror or exc}; "
                            f"the finished rows are in {self.partial.path}")

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.interrupted:
            stopped = sum(row["outcome"] == "interrupted" for row in self.rows)
            terminalreporter.write_line(f"cwtest: the run was interrupted ({self.interrupted}): "
                                        f"{len(self.rows) - stopped} tests finished, {stopped} interrupted")
        for line in self.crashes:
            terminalreporter.write_line(f"cwtest: crash: {line}")
        for title, table in (("outcomes and largest divergences", summary_lines),
                             ("compatibility per side (framework, device and precision)", compatibility_lines),
                             ("accuracy difference by harmonization knob (share removed)", attribution_lines),
                             ("accuracy difference split into semantics and kernels", decomposition_lines)):
            lines = table(self.rows)
            if lines:  # a table the run has rows for
                terminalreporter.write_sep("-", f"cwtest: {title}")
                for line in lines:
                    terminalreporter.write_line(line)
        if self.peaks:
            # A worker and its Keras child each at its own peak: a bound on what they held at once.
            terminalreporter.write_line("cwtest: peak resident memory: " + ", ".join(
                f"{worker} {(mb + self.children_peaks.get(worker, 0.0)) / 1024:.1f} GB"
                + (f" ({mb / 1024:.1f} GB and its Keras processes' {self.children_peaks[worker] / 1024:.1f} GB)"
                   if worker in self.children_peaks else "") for worker, mb in sorted(self.peaks.items())))
        if self.outcome:
            terminalreporter.write_line(self.outcome)

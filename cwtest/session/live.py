"""Progress a person can watch: a long test says how far it is, and the run's terminal shows it.

A training reports each side's steps through `show`. Where the test runs decides how the line
gets out, since pytest captures a test's output and an xdist worker has no terminal at all:
- without xdist, `show` writes to the terminal itself, past output capture (as pytest's live
  logging does);
- in an xdist worker, it puts the line into the worker's record (cwtest.session.blackbox), and the
  controller's `Watcher` reads the records from a thread and writes each new line, prefixed with
  the worker, between pytest's own lines.
Either way at most one line per EVERY_S seconds per test, besides the ones that end a stage (an
epoch). Nothing is shown with -q.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import pytest

from cwtest.session import blackbox

EVERY_S = 20.0  # a line at least this often tells a slow run from a hung one; more is noise in a CI log
POLL_S = 0.5  # how often the controller looks at the workers' records
# Held while the controller writes a line: pytest's reporter writes from the main thread, the
# watcher from its own, and a line must not land inside another.
TERMINAL = threading.RLock()

_sink: Callable[[str], None] | None = None  # where this process's lines go; set at configure time
_last_shown = -float("inf")


def show(line: str, final: bool = False) -> None:
    """Report the running test's progress; `final` for a line that ends a stage, shown unthrottled."""
    global _last_shown
    now = time.monotonic()
    if not final and now - _last_shown < EVERY_S:
        return
    _last_shown = now
    if _sink is not None:
        _sink(line)


def restart() -> None:
    """A new stage starts (a side begins training): its first line is shown at once."""
    global _last_shown
    _last_shown = -float("inf")


def _test_name(nodeid: str) -> str:
    return nodeid.rsplit("/", 1)[-1]


def _write(reporter, line: str) -> None:
    with TERMINAL:
        reporter.ensure_newline()  # after a test file's name
        if reporter._tw.width_of_current_line:  # after result letters, which xdist writes without a file name
            reporter.write("\n")
        reporter.write_line(line)


def direct_to_terminal(config: pytest.Config) -> None:
    """A run without xdist: the running test's lines go to the terminal as they come."""
    global _sink
    if config.get_verbosity() < 0:
        return

    def write(line: str) -> None:
        # Looked up now: at configure time pytest has not registered them yet.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        line = f"cwtest: {_test_name(blackbox.running().get('nodeid', ''))} {line}"
        if capture is None:
            _write(reporter, line)
            return
        with capture.global_and_fixture_disabled():
            _write(reporter, line)

    _sink = write
    config.add_cleanup(lambda: globals().update(_sink=None))


def into_record(config: pytest.Config) -> None:
    """An xdist worker: the running test's lines go into its record, for the controller to show."""
    global _sink
    _sink = lambda line: blackbox.note(progress=line)  # noqa: E731
    config.add_cleanup(lambda: globals().update(_sink=None))


class Watcher:
    """The xdist controller's side: a thread that shows each worker's new progress lines."""

    def __init__(self, config: pytest.Config, folder: Path) -> None:
        self.config, self.folder = config, folder
        self.shown: dict[str, tuple[str, str]] = {}  # worker -> (nodeid, line) last shown
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="cwtest-progress", daemon=True)

    def _watch(self) -> None:
        while not self.stop.wait(POLL_S):
            self._sweep()

    def _sweep(self) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        for path in sorted(self.folder.glob("gw*.json")):
            record = blackbox.read(path.stem)
            seen = (record.get("nodeid", ""), record.get("progress", ""))
            if seen[1] and self.shown.get(path.stem) != seen:
                self.shown[path.stem] = seen
                _write(reporter, f"[{path.stem}] {_test_name(seen[0])} {seen[1]}")

    def pytest_sessionstart(self) -> None:
        self.thread.start()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.stop.set()
        self.thread.join()
        self._sweep()  # a line written since the last look

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_logreport(self, report):
        with TERMINAL:  # the reporter's result letter and the report writer's rows, whole
            self._sweep()  # the test's last line before its result
            return (yield)


def watch_workers(config: pytest.Config, folder: Path) -> None:
    """The xdist controller: show the workers' progress lines while the run goes."""
    if config.get_verbosity() >= 0:
        config.pluginmanager.register(Watcher(config, folder), "cwtest-progress")

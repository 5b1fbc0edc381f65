"""What each xdist worker is running, kept on disk so that a crash can be named.

A test that kills its process (an abort, a segfault) takes its report with it: xdist only learns
that the worker died. So each worker keeps a small JSON file up to date: the running test's id,
and what the test notes while it runs (its inputs, the side computing, a line that reproduces it).
When xdist reports the crash, the controller reads the dead worker's file into the report row
and the terminal summary. Without xdist nobody outlives the crash to read it, so nothing is kept.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ENV = "CWTEST_BLACKBOX"  # the run's folder, made by the controller; workers inherit it
_running: dict = {}


def _file(worker: str) -> Path | None:
    folder = os.environ.get(ENV)
    return Path(folder) / f"{worker}.json" if folder else None


def _worker() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


def dumps(value) -> str:
    """A record's field as one line of JSON (tuples as lists, anything else by its repr)."""
    return json.dumps(value, default=repr, sort_keys=True)


def running() -> dict:
    """This process's record of its running test (kept in memory with or without xdist)."""
    return dict(_running)


def _write() -> None:
    worker = _worker()
    target = _file(worker) if worker else None
    if target is None:
        return
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{worker}.")
    with os.fdopen(handle, "w") as out:
        out.write(dumps(_running))
    os.replace(name, target)  # a reader sees the old note or the new one, never half of one


def start(nodeid: str) -> None:
    """A new test runs in this process: forget the last one's notes."""
    _running.clear()
    _running["nodeid"] = nodeid
    _write()


def note(**fields) -> None:
    """Add what the running test is doing now (inputs=..., side=..., reproduce=...) to its record."""
    _running.update(fields)
    _write()


def read(worker: str) -> dict:
    """The last record of `worker` ("gw0"), {} where it left none."""
    target = _file(worker)
    try:
        return json.loads(target.read_text()) if target else {}
    except (OSError, ValueError):
        return {}

"""Running a catalogued defect's standalone reproducer (cwtest.registries.defects), always in a process of its own.

A reproducer may corrupt the heap or crash, so it never runs in the test process. Most of them import one framework
and set nothing before that import but KERAS_BACKEND (`Defect.forks_after`): those run in a fork of a process that
has already imported it (cwtest.frameworks.forkserver), which saves the import a fresh interpreter pays on every run
(4-5 s for TensorFlow on these CPUs). A reproducer that sets something its framework reads at import (the oneDNN ISA
cap) still runs in a fresh interpreter.

The server's kernel reaps the children it forks, so each fork forks once more to run the reproducer and waits for it:
the exit status, a crash's signal included, comes back on the second pipe.
"""

from __future__ import annotations

import ctypes
import json
import os
import runpy
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from cwtest.frameworks import forkserver
from cwtest.registries.defects import Defect

_WORD = 8  # bytes per number on the status pipe: the reproducer's pid, then its exit status


@dataclass(frozen=True)
class Outcome:
    """A reproducer's run, as subprocess.CompletedProcess reports one: a negative status is the signal that killed it."""

    returncode: int
    stdout: str
    stderr: str


class Reproducers:
    """Runs reproducers under `env`, forking those it can from one server at a time (a server holds its framework's
    memory, so a run that moves to another framework's reproducers replaces it)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._server: forkserver.ForkServer | None = None
        self._serves: str | None = None  # the framework the server has imported

    def run(self, defect: Defect, *args: str, timeout_s: float) -> Outcome:
        command = [str(defect.script), *args]
        # A reproducer that follows KERAS_BACKEND runs on the one the environment names; a fork from a server that
        # imported another would run it on the wrong backend.
        if (not forkserver.AVAILABLE or defect.forks_after is None
                or self.env.get("KERAS_BACKEND", defect.forks_after) != defect.forks_after):
            done = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=timeout_s,
                                  env=self.env)
            return Outcome(done.returncode, done.stdout, done.stderr)
        return self._forked(defect.forks_after, command, timeout_s)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self._server = self._serves = None

    def _forked(self, framework: str, command: list[str], timeout_s: float) -> Outcome:
        if self._serves != framework or self._server is None or not self._server.running:
            self.close()
            self._server = forkserver.ForkServer(__name__, {**self.env, "KERAS_BACKEND": framework})
            self._serves = framework
        with tempfile.TemporaryDirectory(prefix="cwtest-reproducer-") as folder:
            outputs = {name: str(Path(folder) / name) for name in ("stdout", "stderr")}
            request_read, request_write = os.pipe()
            status_read, status_write = os.pipe()
            self._server.fork(request_read, status_write)
            os.close(request_read)
            os.close(status_write)
            with os.fdopen(request_write, "w") as request:
                json.dump({"command": command, **outputs}, request)
            try:
                returncode = _status(status_read, timeout_s)
            finally:
                os.close(status_read)
            return Outcome(returncode, *(Path(outputs[name]).read_text(errors="replace") for name in outputs))


def _status(status: int, timeout_s: float) -> int:
    """The reproducer's exit status from the waiter's pipe; past `timeout_s` the reproducer is killed."""
    deadline = time.monotonic() + timeout_s
    received = b""
    while len(received) < 2 * _WORD:
        ready, _, _ = select.select([status], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            if len(received) >= _WORD:
                os.kill(int.from_bytes(received[:_WORD], "little"), signal.SIGKILL)
            raise subprocess.TimeoutExpired("a forked reproducer", timeout_s)
        part = os.read(status, 2 * _WORD - len(received))
        if not part:
            raise RuntimeError("a reproducer's waiter ended without its status; the output above says why")
        received += part
    return int.from_bytes(received[_WORD:], "little", signed=True)


def preload() -> None:
    """What a server imports ahead of the reproducers it forks: the framework KERAS_BACKEND names (TensorFlow's import
    loads Keras; a reproducer that imports Keras on another framework imports it itself)."""
    import importlib

    importlib.import_module(os.environ["KERAS_BACKEND"])


def run_forked(inbox: int, outbox: int, state: None) -> None:
    """In a fork of a server: read the request, run the reproducer in a child of this process, send its status."""
    with os.fdopen(inbox) as request_file:
        request = json.load(request_file)
    pid = os.fork()
    if pid == 0:
        os._exit(_reproduce(request))
    os.write(outbox, pid.to_bytes(_WORD, "little"))
    _, wait_status = os.waitpid(pid, 0)
    os.write(outbox, os.waitstatus_to_exitcode(wait_status).to_bytes(_WORD, "little", signed=True))
    os.close(outbox)


def _reproduce(request: dict) -> int:
    """Runs the reproducer as `python SCRIPT ARGS` would, its output into the request's files; its exit status."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        file = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(file, fd)
        os.close(file)
    sys.argv = list(request["command"])
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
        code = 0
    except SystemExit as ended:
        if ended.code is None or isinstance(ended.code, int):
            code = ended.code or 0
        else:
            print(ended.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    ctypes.CDLL(None).fflush(None)  # what the framework wrote through C's stdio (oneDNN's verbose log)
    return code

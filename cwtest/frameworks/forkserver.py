"""A fork server: a process that has imported what a module's children need, and forks a fresh child on request.

A Keras child (cwtest.frameworks.child) is replaced once it has grown past its bound, after nearly every
architecture's training; a started interpreter pays the Keras import again each time (about 5 s with TensorFlow on
these CPUs), a fork of a process that has already imported it pays none of it. The server imports and runs nothing
else: no framework op runs in it and it starts no thread of its own, so a fork holds no lock another thread took
(numpy's BLAS pool, the one other thread, re-creates itself after a fork).

multiprocessing has a fork server too, but one per process with one set of preloaded modules, while each Keras
backend needs its own (Keras picks its backend once, at import) with KERAS_BACKEND set before that import.

The module served names two functions: `preload() -> state`, run once in the server, and
`run_forked(inbox: int, outbox: int, state) -> None`, run in each fork with the two pipe ends the parent handed in.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import time

AVAILABLE = sys.platform == "linux"  # fork after these imports is tried and measured on Linux only


class ForkServer:
    """The server for `module`, started under `env`: a fork runs under the environment the server started with,
    so a caller whose environment has changed since starts another (`env` says which it was)."""

    def __init__(self, module: str, env: dict[str, str]) -> None:
        self.env = env
        ours, theirs = socket.socketpair()
        self._process = subprocess.Popen([sys.executable, "-m", __name__, module, str(theirs.fileno())],
                                         pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        self._socket = ours

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def fork(self, inbox: int, outbox: int) -> Forked:
        """A fresh child serving the two pipe ends (the caller closes its own copies)."""
        socket.send_fds(self._socket, [b"fork"], [inbox, outbox])
        reply = b""
        while len(reply) < 8:
            part = self._socket.recv(8 - len(reply))
            if not part:
                raise RuntimeError(f"the fork server for {self._process.args[3]} ended "
                                   f"(exit status {self._process.wait()}); its output above says why")
            reply += part
        return Forked(int.from_bytes(reply, "little"))

    def close(self) -> None:
        self._socket.close()  # the server ends at the end of its input; the children it forked go on
        self._process.wait(timeout=30)


class Forked:
    """A child the server forked, as its grandparent sees it: what RemoteKeras asks of a subprocess.Popen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        """None while it runs (the server has the kernel reap its children, so an ended one is gone), else 0: its
        exit status is its parent's to read."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        return None

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"forked child {self.pid}", timeout)
            time.sleep(0.01)
        return 0


def _serve(module_name: str, control: socket.socket) -> None:
    module = importlib.import_module(module_name)
    state = module.preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children: none is left a zombie
    while True:
        message, fds, _, _ = socket.recv_fds(control, 16, 2)
        if not message:  # the parent closed its end, or ended
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            status = 1
            try:
                module.run_forked(fds[0], fds[1], state)
                status = 0
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)  # never back into the server's loop, nor its exit handlers
        for fd in fds:
            os.close(fd)
        control.sendall(pid.to_bytes(8, "little"))


if __name__ == "__main__":
    _serve(sys.argv[1], socket.socket(fileno=int(sys.argv[2])))

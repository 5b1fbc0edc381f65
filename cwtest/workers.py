"""What an xdist worker must set up before any framework is imported.

Two workers on two cores each running torch and TensorFlow with a thread per core
oversubscribe the machine and run slower than one process; so each worker gets its
share of the cores, set through the environment before the frameworks read it.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def worker_index(workerinput: dict | None) -> tuple[int, int] | None:
    """(index, count) of this xdist worker, None in a run without workers."""
    if not workerinput:
        return None
    return int(workerinput["workerid"].lstrip("gw")), int(workerinput["workercount"])


def share_cores(count: int, environ=os.environ, cores: int | None = None) -> int:
    """Limit the frameworks' thread pools to cores/count; settings the user made are kept."""
    threads = max(1, (cores or os.cpu_count() or 1) // count)
    for variable in THREAD_VARIABLES:
        environ.setdefault(variable, str(threads))
    environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    return threads

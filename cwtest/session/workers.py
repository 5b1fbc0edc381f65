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


def visible_gpus(environ=os.environ, probe=None) -> list[str]:
    """The GPU ids this process may use: CUDA_VISIBLE_DEVICES when set, else what nvidia-smi lists."""
    if environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return [g.strip() for g in environ["CUDA_VISIBLE_DEVICES"].split(",") if g.strip()]
    return (probe or _nvidia_smi)()


def _nvidia_smi() -> list[str]:
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return []
    listed = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                            capture_output=True, text=True, timeout=30)
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()] if listed.returncode == 0 else []


def assign_gpu(index: int, environ=os.environ, probe=None) -> str | None:
    """Give worker `index` one GPU (index mod count) before any framework starts CUDA; None without GPUs.

    Each framework then sees that GPU as its device 0, so `torch:cuda` and `tensorflow:gpu`
    need no index per worker.
    """
    gpus = visible_gpus(environ, probe)
    if not gpus:
        return None
    environ["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    return environ["CUDA_VISIBLE_DEVICES"]

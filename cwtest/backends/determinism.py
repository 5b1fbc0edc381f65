"""Deterministic kernels (`--crossedwires-deterministic` and the trainer's `deterministic` knob):
switching them on, and reading back whether they are on.

torch runs in warn-only mode: some CUDA backward kernels (adaptive average pooling, NLL loss)
have no deterministic implementation, and an error there would end the comparison instead of
naming the kernel; the warning names it. cuBLAS is deterministic only with a fixed workspace,
which it reads from CUBLAS_WORKSPACE_CONFIG, so that is set before CUDA starts.
TensorFlow's op determinism cannot be switched off again once the process has computed with it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

CUBLAS_WORKSPACE = ":4096:8"


def prepare_environment(environ=os.environ) -> None:
    """Before any framework touches the GPU: the cuBLAS workspace deterministic kernels need."""
    environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)


def switch_on(framework: str) -> None:
    if framework == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
    elif framework == "tensorflow":
        from cwtest.backends import frameworks

        frameworks.tensorflow().config.experimental.enable_op_determinism()


@contextmanager
def torch_kernels(on: bool):
    """torch's deterministic kernels on inside (when `on`), as they were outside."""
    import torch

    saved = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    if on:
        switch_on("torch")
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])


def torch_state() -> str:
    import torch

    if not torch.are_deterministic_algorithms_enabled():
        return "off"
    return "on (warn only)" if torch.is_deterministic_algorithms_warn_only_enabled() else "on"


def tensorflow_state() -> str:
    # TensorFlow has no public getter; this is the one enable_op_determinism sets.
    from tensorflow.python.framework import config

    return "on" if config.is_op_determinism_enabled() else "off"

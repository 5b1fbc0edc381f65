"""Deterministic kernels (`--crossedwires-deterministic` and the trainer's `deterministic` knob):
switching them on, and reading back whether they are on.

torch runs in warn-only mode: some CUDA backward kernels (adaptive average pooling, NLL loss)
have no deterministic implementation, and an error there would end the comparison instead of
naming the kernel; the warning names it. cuBLAS is deterministic only with a fixed workspace,
which it reads from CUBLAS_WORKSPACE_CONFIG, so that is set before CUDA starts.
TensorFlow's op determinism cannot be switched off again once the process has computed with it.
JAX on a CPU is deterministic; on a GPU XLA reads --xla_gpu_deterministic_ops when JAX starts, so
it is set in the environment, before any JAX import, by `prepare_environment`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

CUBLAS_WORKSPACE = ":4096:8"
# Set once a process switches deterministic kernels on: a Keras child process it starts later does as well
# (cwtest.frameworks.child).
ENV = "CWTEST_DETERMINISTIC"


XLA_DETERMINISTIC = "--xla_gpu_deterministic_ops=true"


def prepare_environment(environ=os.environ, deterministic: bool = False) -> None:
    """Before any framework touches the GPU: the cuBLAS workspace deterministic kernels need, and
    XLA's deterministic GPU kernels where the run asks for them."""
    environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    if deterministic and XLA_DETERMINISTIC not in environ.get("XLA_FLAGS", ""):
        environ["XLA_FLAGS"] = f"{environ.get('XLA_FLAGS', '')} {XLA_DETERMINISTIC}".strip()


def switch_on(backend: str) -> None:
    """Deterministic kernels on in a framework or Keras backend ("torch", "tensorflow", "jax")."""
    if backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
    elif backend == "tensorflow":
        from cwtest.frameworks import imports

        imports.tensorflow().config.experimental.enable_op_determinism()
    # jax: fixed when JAX starts (prepare_environment)


def switch_on_for_the_run(frameworks: list[str]) -> None:
    """`--crossedwires-deterministic`: deterministic kernels on in these frameworks, and in every Keras child
    process this one starts from now on."""
    os.environ[ENV] = "1"
    for framework in frameworks:
        switch_on(framework)


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


def jax_state() -> str:
    return "on" if XLA_DETERMINISTIC in os.environ.get("XLA_FLAGS", "") else "off (deterministic on a CPU)"

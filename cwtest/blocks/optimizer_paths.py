"""An optimizer case stepped on both sides (cwtest.registries.optimizers): torch's path against Keras's, or
Keras's on the run's first Keras backend against another backend's (each in its child process)."""

from __future__ import annotations

import numpy as np

from cwtest.frameworks import adapter_for, case_runner
from cwtest.registries.optimizers import Optimizer, start


def trajectories(entry: Optimizer, params: dict, kept: frozenset = frozenset(),
                 checkpoints: tuple[int, ...] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(torch, Keras) parameters after each checkpoint step (default: the case's last step)."""
    checkpoints = checkpoints or (params["steps"],)
    theta, gradients = start(params, max(checkpoints))
    torch_path = case_runner("torch").optimizer_path(entry, theta, gradients, params, kept, checkpoints)
    keras_path = case_runner("keras").optimizer_path(entry, theta, gradients, params, kept, checkpoints)
    return list(zip(torch_path, keras_path))


def keras_pair_trajectories(entry: Optimizer, params: dict, other, checkpoints: tuple[int, ...]
                            ) -> list[tuple[np.ndarray, np.ndarray]]:
    """As `trajectories` for a harmonized case, on the run's first Keras backend and on `other`, a Keras side
    on another backend in its own process (cwtest.frameworks.child)."""
    theta, gradients = start(params, max(checkpoints))
    ours = case_runner("keras").optimizer_path(entry, theta, gradients, params, frozenset(), checkpoints)
    return list(zip(ours, adapter_for(other).optimizer_on_cpu(entry.name, params, checkpoints)))


def path_scale(theta: np.ndarray, path: list[np.ndarray]) -> float:
    """What a trajectory's errors are measured against: the largest parameter and the largest single
    step along it (torch's side). A step subtracts an update from a parameter, and where the result
    cancels towards zero it keeps the round-off of both terms: a thorough draw stepped 0.0034 by
    0.0066 (Adam, a gradient of 6e-7 next to eps 1e-8), 2.5 units of the result apart, 1.2 of the step."""
    before = [theta, *path[:-1]]
    return max(float(max(np.abs(a).max(), np.abs(b).max(), np.abs(b - a).max())) for a, b in zip(before, path))

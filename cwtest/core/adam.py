"""Adam's arithmetic as each framework computes it, in plain numpy: Keras's float32 step size, and the float64
reference the optimizer cases are measured against (cwtest.registries.differences states the placements)."""

from __future__ import annotations

import math

import numpy as np


def keras_adam_alpha(lr: float, beta1: float, beta2: float, t: int) -> float:
    """Keras's Adam step size at step t, lr * sqrt(1 - beta2^t) / (1 - beta1^t), computed as Keras
    computes it: in float32, from the betas rounded to float32 (0.999 -> 0.99900001)."""
    one, step = np.float32(1), np.float32(t)
    beta1_power, beta2_power = np.power(np.float32(beta1), step), np.power(np.float32(beta2), step)
    return float(np.float32(lr) * np.sqrt(one - beta2_power) / (one - beta1_power))


def adam_reference(theta: np.ndarray, gradients: np.ndarray, lr: float, beta1: float, beta2: float, eps: float,
                   epsilon_hat: bool, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """Adam in float64 as the catalogue states it: eps after bias correction (torch) or on sqrt(v)
    (Keras's epsilon hat)."""
    theta, m, v, found = theta.astype(np.float64), 0.0, 0.0, []
    for t, g in enumerate(gradients.astype(np.float64), start=1):
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        if epsilon_hat:
            theta = theta - lr * math.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps)
        else:
            theta = theta - lr / (1 - beta1**t) * m / (np.sqrt(v) / math.sqrt(1 - beta2**t) + eps)
        if t in checkpoints:
            found.append(theta)
    return found

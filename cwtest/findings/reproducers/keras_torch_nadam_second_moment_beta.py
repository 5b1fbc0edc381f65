"""Keras 3 on torch: Nadam's second moment takes 1 - beta_2 in float64 and its bias correction 1 - beta_2 ** t in
float32, so its first steps are about 54 float32 roundings short.

    python keras_torch_nadam_second_moment_beta.py [THREADS] [--avoided]

Keras on torch runs its own Nadam (keras/src/backend/torch/optimizers/torch_nadam.py), which updates the second
moment with torch._foreach_add_(v, g * g, alpha=1 - self.beta_2), the Python float, and divides it by
1 - beta_2 ** t computed from beta_2 cast to float32. 0.999 rounds to 0.99900001 in float32, so 1 - beta_2 is 1.3e-5
(relatively) smaller in the correction than in the moment: at the first step v_hat is g * g * (1 + 1.3e-5), not
g * g, and the step is 6.4e-6 (54 float32 eps) short. Keras's Nadam on TensorFlow and JAX
(keras/src/optimizers/nadam.py) casts beta_2 once and uses it in both, and takes the step the formula gives.
Expected: one step from 0 with gradient 1 and learning rate 1 is -m_hat, with v_hat = 1 (Keras's formula, in
float64). `--avoided`: betas that float32 represents exactly (what the layer suite gives both sides on Keras on
torch), so that both roundings agree: then it computes right.

Exit status: 0 when the step is right, 1 when it is not.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402

# A float32 step through a dozen operations is right within a few roundings of its size.
ALLOWED_EPS = 8


def main() -> int:
    import torch

    torch.set_num_threads(int(next((a for a in sys.argv[1:] if a.isdigit()), "2")))
    beta_1, beta_2 = 0.9, 0.999
    if "--avoided" in sys.argv:
        beta_1, beta_2 = float(np.float32(beta_1)), float(np.float32(beta_2))
    variable = keras.Variable(np.zeros(1, np.float32))
    optimizer = keras.optimizers.Nadam(learning_rate=1.0, beta_1=beta_1, beta_2=beta_2, epsilon=1e-12)
    optimizer.apply_gradients([(keras.ops.convert_to_tensor(np.ones(1, np.float32)), variable)])
    got = float(keras.ops.convert_to_numpy(variable)[0])
    # Keras's Nadam at t = 1 in float64: m = 1 - beta_1, v_hat = (1 - beta_2) / (1 - beta_2) = 1.
    u_1, u_2 = beta_1 * (1 - 0.5 * 0.96), beta_1 * (1 - 0.5 * 0.96 ** 2)
    expected = -(u_2 * (1 - beta_1) / (1 - u_1 * u_2) + (1 - u_1) / (1 - u_1))
    off = abs(got - expected) / abs(expected) / float(np.finfo(np.float32).eps)
    right = off <= ALLOWED_EPS
    print(f"keras {keras.__version__} on {keras.backend.backend()}, Nadam(beta_2={beta_2!r}) one step from 0 with "
          f"gradient 1: {got!r}, expected {expected!r}, {off:.1f} float32 eps off ({'right' if right else 'wrong'})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

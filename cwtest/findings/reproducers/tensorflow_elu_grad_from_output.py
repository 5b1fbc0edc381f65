"""TensorFlow: the gradient of tf.nn.elu (and tf.nn.selu) is computed from the output, as output + 1 (output +
scale * alpha for SELU), which has lost the low digits of exp(x) where x is far below zero: 0 at x = -20 for
exp(-20) = 2.1e-9, 4e-4 off at x = -10. torch and JAX differentiate exp(x) itself.

    python tensorflow_elu_grad_from_output.py [THREADS] [--avoided]

Keras's ELU on TensorFlow runs it. Expected: d/dx tf.nn.elu(x) at x = -20, -16, -10 within 4 float32 roundings of
exp(x). `--avoided`: x = -2, -1, -0.5, where output + 1 keeps exp(x)'s digits (the layer suite measures an
activation's gradient against the upstream gradient's size: cwtest.registries.layers). Reported upstream as
tensorflow/tensorflow#124833 (fixed after 2.21 by tensorflow/tensorflow#124902).

Exit status: 0 when the gradient is right, 1 when it is wrong.
"""

import os
import sys

# TensorFlow's import loads Keras, which imports the backend KERAS_BACKEND names: a run of the suites on Keras on
# torch would otherwise load torch beside TensorFlow here, an import order that crashes.
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

EPS32 = float(np.finfo(np.float32).eps)


def main() -> int:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    x = tf.constant([-2.0, -1.0, -0.5] if "--avoided" in sys.argv else [-20.0, -16.0, -10.0], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.elu(x)
    got = tape.gradient(y, x).numpy().astype(np.float64)
    exact = np.exp(x.numpy().astype(np.float64))
    relative = np.abs(got - exact) / exact
    right = bool((relative <= 4 * EPS32).all())
    print(f"tensorflow {tf.__version__}, d/dx tf.nn.elu(x) at x = {x.numpy()}: {got} for {exact}, relative errors "
          f"{', '.join(f'{r:.2g}' for r in relative)} ({'right' if right else 'wrong'}; allowed {4 * EPS32:.2g})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

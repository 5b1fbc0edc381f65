"""tensorflow: the gradient of GELU's tanh form in float16 is NaN where |x| is 256 or more: its x ** 3 (and the
derivative's x ** 2) overflow float16, and the derivative multiplies that infinity by tanh's zero slope. The exact
gradient there is 0 or 1, which torch's float16 GELU gives (it computes in float32).

    python tensorflow_gelu_tanh_float16_grad.py [THREADS] [--avoided]

Keras's gelu (keras.activations.gelu(approximate=True), keras.ops.gelu's default) runs it on tensorflow. Expected: the
gradient of sum(gelu(x)) at x = -2000, -300, 300, 2000 in float16 within a float16 rounding of 0, 0, 1, 1.
`--avoided`: float32 (where the layer suite judges such a case): then it computes right.

Exit status: 0 when the gradient is right, 1 when it is wrong.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"  # nothing else is imported: a run on Keras on torch must not load torch here

import numpy as np  # noqa: E402

X = [-2000.0, -300.0, 300.0, 2000.0]
EXACT = np.array([0.0, 0.0, 1.0, 1.0])


def main() -> int:
    import tensorflow as tf

    threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    dtype = tf.float32 if "--avoided" in sys.argv else tf.float16
    x = tf.constant(X, dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.nn.gelu(x, approximate=True))
    got = tf.cast(tape.gradient(y, x), tf.float64).numpy()
    right = bool(np.all(np.abs(got - EXACT) <= 2.0 ** -10))
    print(f"tensorflow {tf.__version__}, d/dx tf.nn.gelu(x, approximate=True) in {dtype.name} at x = {X}: {got} "
          f"({'right' if right else 'wrong'}; exact {EXACT})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

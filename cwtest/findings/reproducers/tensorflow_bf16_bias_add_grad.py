"""TensorFlow: the gradient of a bias in bfloat16 (BiasAddGrad) sums the upstream gradient in bfloat16, so a sum
over a few thousand positions loses its low digits, where tf.reduce_sum of the same tensor sums in float32 and
rounds once.

    python tensorflow_bf16_bias_add_grad.py [THREADS] [--avoided]

A bfloat16 Conv2D or Dense layer with a bias, on TensorFlow (Keras's too), takes its bias gradient from
BiasAddGrad. Over an upstream gradient of shape (4, 32, 32, 8), normal values, the per-channel sums are about 75
in size: torch's bias gradient and tf.reduce_sum are off the float64 sum by at most 0.08 (one rounding: a
bfloat16 unit at 64 is 0.5), BiasAddGrad by 13. Expected: as close to the float64 sums as tf.reduce_sum of the
same tensor comes, within a factor of 4, plus one unit of the type at the largest sum. `--avoided`: float32 (what
the suites judge gradients in): then it computes right.

Exit status: 0 when the sums are right, 1 when they are wrong.
"""

import os
import sys

# TensorFlow's import loads Keras, which imports the backend KERAS_BACKEND names: a run of the suites on Keras on
# torch would otherwise load torch beside TensorFlow here, an import order that crashes.
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main() -> int:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    dtype = tf.float32 if "--avoided" in sys.argv else tf.bfloat16
    upstream = tf.cast(np.random.default_rng(0).standard_normal((4, 32, 32, 8)), dtype)
    exact = tf.cast(upstream, tf.float64).numpy().sum(axis=(0, 1, 2))
    got = tf.cast(tf.raw_ops.BiasAddGrad(out_backprop=upstream), tf.float64).numpy()
    summed = tf.cast(tf.reduce_sum(upstream, axis=(0, 1, 2)), tf.float64).numpy()
    mantissa = {tf.float32: 23, tf.bfloat16: 7}[dtype]
    unit = 2.0 ** (np.floor(np.log2(np.abs(exact).max())) - mantissa)
    right = np.abs(got - exact).max() <= 4 * np.abs(summed - exact).max() + unit
    print(f"tensorflow {tf.__version__}, BiasAddGrad in {dtype.name} over {tuple(upstream.shape)}: "
          f"{'right' if right else 'wrong'}; largest error {np.abs(got - exact).max():.3g} (tf.reduce_sum "
          f"{np.abs(summed - exact).max():.3g}; one {dtype.name} unit of the largest sum, "
          f"{np.abs(exact).max():.3g}: {unit:g})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

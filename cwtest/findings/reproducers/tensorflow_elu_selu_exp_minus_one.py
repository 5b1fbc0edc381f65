"""TensorFlow: tf.nn.elu and tf.nn.selu compute exp(x) - 1 for a negative x, which cancels near zero: a float32
result 19% off at x = -1e-7 and 0 at x = -1e-8, where expm1(x), which torch and JAX use, is right to a rounding.

    python tensorflow_elu_selu_exp_minus_one.py [THREADS] [--avoided]

Keras's ELU and SELU on TensorFlow run these kernels. Over negative inputs of -1e-8 to -1e-3, each result is
expected within 4 float32 roundings of its float64 value (torch.nn.ELU is within one). `--avoided`: inputs of
-0.1 and beyond (the layer suite's input scales of 0.1 and up on TensorFlow): then it computes right.
Reported upstream as tensorflow/tensorflow#116943.

Exit status: 0 when every result is right, 1 when one is wrong.
"""

import os
import sys

# TensorFlow's import loads Keras, which imports the backend KERAS_BACKEND names: a run of the suites on Keras on
# torch would otherwise load torch beside TensorFlow here, an import order that crashes.
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

SELU_SCALE_ALPHA = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
EPS32 = float(np.finfo(np.float32).eps)


def main() -> int:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    sizes = [0.1, 0.5, 2.0] if "--avoided" in sys.argv else [1e-8, 1e-7, 1e-6, 1e-3]
    x = -np.array(sizes, np.float32)
    right = True
    for name, function, factor in (("elu", tf.nn.elu, 1.0), ("selu", tf.nn.selu, SELU_SCALE_ALPHA)):
        exact = factor * np.expm1(x.astype(np.float64))
        got = function(tf.constant(x)).numpy().astype(np.float64)
        relative = np.abs(got - exact) / np.abs(exact)
        right &= bool((relative <= 4 * EPS32).all())
        print(f"tensorflow {tf.__version__}, tf.nn.{name} at x = {', '.join(f'{v:g}' for v in x)}: relative errors "
              f"{', '.join(f'{r:.2g}' for r in relative)} (allowed {4 * EPS32:.2g})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

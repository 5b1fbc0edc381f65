"""TensorFlow: the gradient of an average pool with SAME padding (AvgPoolGrad) is wrong in some cases where the window
is larger than the input, in TensorFlow's own CPU kernel: float16 and float64 (measured on x86), and every type where
oneDNN's kernels are off (TF_ENABLE_ONEDNN_OPTS=0). oneDNN's kernel, which float32 and bfloat16 run on x86, computes
right.

    python tensorflow_avgpool_grad_oversized_window.py [THREADS] [--avoided]

An average pool is linear: its gradient against an upstream gradient g is J^T g, J the matrix of the forward
(built here column by column from the forward on unit inputs). Over a float64 row of 4 with a window of 5 at
stride 1, SAME padding (2 rows on each side, not counted), and g drawn from seed 0, AvgPoolGrad gives
[0.1585, 0.1935, 0.1935, 0.1935] where J^T g is [0.169, 0.204, 0.204, 0.162]. Expected: AvgPoolGrad's result
equal to J^T g within float64 rounding. `--avoided`: a window that fits the input (a row of 6), what the suites
feed TensorFlow's own kernel: then it computes right.

Exit status: 0 when the gradient is right, 1 when it is wrong.
"""

import os
import sys

# TensorFlow's import loads Keras, which imports the backend KERAS_BACKEND names: a run of the suites on Keras on
# torch would otherwise load torch beside TensorFlow here, an import order that crashes.
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def pool(x):
    return tf.nn.avg_pool2d(x, ksize=(5, 1), strides=1, padding="SAME")


def main() -> int:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    rows = 6 if "--avoided" in sys.argv else 4
    shape = (1, rows, 1, 1)
    forward = np.stack([pool(tf.constant(np.eye(rows)[i].reshape(shape))).numpy().ravel() for i in range(rows)], 1)
    upstream = np.random.default_rng(0).standard_normal(forward.shape[0])
    exact = forward.T @ upstream
    x = tf.zeros(shape, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = pool(x)
    got = tape.gradient(y, x, output_gradients=tf.constant(upstream.reshape(y.shape))).numpy().ravel()
    right = np.allclose(got, exact, rtol=1e-12, atol=1e-12)
    print(f"tensorflow {tf.__version__}, AvgPoolGrad in float64, window 5 over a row of {rows}, SAME: "
          f"{'right' if right else 'wrong'}; gradient {np.round(got, 4).tolist()}, the forward's transpose gives "
          f"{np.round(exact, 4).tolist()}")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

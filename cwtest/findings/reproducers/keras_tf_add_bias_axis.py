"""Keras 3 on TensorFlow: keras.ops.add(x, b) with b of shape (1, C, 1, 1), a channels-first bias, adds b along
x's last axis instead of its channels where that axis also has length C.

    python keras_tf_add_bias_axis.py [THREADS] [--avoided]

`keras.ops.add` on TensorFlow (keras/src/backend/tensorflow/numpy.py, `add`) calls `tf.nn.bias_add` for any
second operand that squeezes to a vector whose length is x's axis 1 or its last axis, and picks NHWC whenever
the last axis has that length, whatever axis the operand broadcasts along. Every channels-first layer that adds
its bias that way (Conv2D, DepthwiseConv2D, ...) then adds it along the width of an output as wide as its
channels. Expected: numpy's broadcast, x + b. `--avoided`: a width other than the channels (what the suites
keep on TensorFlow): then it computes right.

Exit status: 0 when the sum is right, 1 when it is wrong.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402


def main() -> int:
    channels, width = 3, (4 if "--avoided" in sys.argv else 3)
    x = np.zeros((1, channels, 2, width), np.float32)  # NCHW
    bias = np.arange(1, channels + 1, dtype=np.float32).reshape(1, channels, 1, 1)
    got = keras.ops.convert_to_numpy(keras.ops.add(x, bias))
    right = np.array_equal(got, x + bias)
    print(f"keras {keras.__version__} on {keras.backend.backend()}, x {x.shape} + b {bias.shape}: "
          f"{'right' if right else 'wrong'}; first row of channel 0: {got[0, 0, 0].tolist()} (expected "
          f"{(x + bias)[0, 0, 0].tolist()})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

"""Keras 3 on TensorFlow, CPU: a channels-first Conv2D or Conv2DTranspose in float16, or a dilated float16
Conv2DTranspose, raises instead of computing.

    python keras_tf_channels_first_float16_conv.py [THREADS] [--avoided]

Keras's TensorFlow convolution (keras/src/backend/tensorflow/nn.py, `conv` and `conv_transpose`) hands a channels-
first input to TensorFlow as NCHW. TensorFlow's CPU kernels take NCHW in float32 and bfloat16 (oneDNN's) but not in
float16: Conv2D raises UnimplementedError ("The Conv2D op currently only supports the NHWC tensor format on the
CPU"), Conv2DTranspose InvalidArgumentError; a dilated Conv2DTranspose raises in float16 in either format ("Current
CPU implementations do not yet support dilation rates larger than 1"). Keras already routes other convolutions that
TensorFlow's CPU kernels cannot run (channels-first 3-D, grouped) through XLA; this one it does not. Conv1D in
float16 channels-first raises the same way. Expected: the convolution, as in float32 or with the input in NHWC.
`--avoided`: float32 (what the suites keep on TensorFlow): then it computes.

Exit status: 0 when every layer computes, 1 when one raises.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402
import numpy as np  # noqa: E402


def main() -> int:
    dtype = "float32" if "--avoided" in sys.argv else "float16"
    failed = False
    for layer, x in ((keras.layers.Conv2D(2, 3, data_format="channels_first", dtype=dtype), np.ones((1, 2, 5, 5), dtype)),
                     (keras.layers.Conv2DTranspose(2, 3, data_format="channels_first", dtype=dtype),
                      np.ones((1, 2, 5, 5), dtype)),
                     (keras.layers.Conv2DTranspose(2, 3, dilation_rate=2, dtype=dtype), np.ones((1, 5, 5, 2), dtype))):
        case = (f"keras {keras.__version__} on {keras.backend.backend()}, {type(layer).__name__} "
                f"{layer.data_format} dilation {layer.dilation_rate} {dtype}")
        try:
            print(f"{case}: output {tuple(keras.ops.shape(layer(x)))}")
        except Exception as error:  # TensorFlow's error types differ by layer
            failed = True
            print(f"{case}: raised {type(error).__name__}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

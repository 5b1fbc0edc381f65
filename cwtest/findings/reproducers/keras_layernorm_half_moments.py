"""Keras 3.5.0: LayerNormalization built with a half dtype computes its mean and variance in that type.

    python keras_layernorm_half_moments.py [THREADS] [--avoided]

Inputs of about 1e3 have a variance of about 1e6, past float16's largest value (65504): the variance overflows and
the normalized output is off by up to 3 (bfloat16 keeps the range but only 8 bits, and is as far off). Fixed in
Keras 3.6.0 by keras-team/keras#20257, which computes the moments of a half-type input in float32. Runs on the
Keras backend KERAS_BACKEND names (TensorFlow where it is unset). Expected: numpy's normalization of the float32
input, within a few roundings of float16. `--avoided`: the same layer in float32 (what the suites run on these
releases): then it computes right.

Exit status: 0 when the output is right, 1 when it is wrong.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

EPSILON = 1e-3
# float16 keeps 11 bits: a normalized output of at most about 2 is right within a few of its roundings.
ALLOWED = 8 * 2.0 ** -10


def main() -> int:
    dtype = "float32" if "--avoided" in sys.argv else "float16"
    x = (np.random.default_rng(0).standard_normal((2, 3, 4)) * 1e3).astype(np.float32)
    layer = keras.layers.LayerNormalization(axis=-1, epsilon=EPSILON, dtype=dtype)
    got = keras.ops.convert_to_numpy(keras.ops.cast(layer(keras.ops.cast(x, dtype)), "float32"))
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + EPSILON)
    error = float(np.max(np.abs(got - expected))) if np.isfinite(got).all() else float("inf")
    right = error <= ALLOWED
    print(f"keras {keras.__version__} on {keras.backend.backend()}, LayerNormalization in {dtype} over inputs of "
          f"about 1e3: largest error {error:.3g} ({'right' if right else 'wrong'}; allowed {ALLOWED:.3g})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

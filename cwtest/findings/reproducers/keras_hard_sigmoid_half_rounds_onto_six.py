"""Keras on TensorFlow and JAX: hard_sigmoid's gradient is 0 just below 3 in half precision, where x + 3 rounds onto 6.

    python keras_hard_sigmoid_half_rounds_onto_six.py [THREADS] [--avoided]

keras.activations.hard_sigmoid is 0 for x <= -3, 1 for x >= 3 and x / 6 + 0.5 between (its documentation), so its
slope is 1/6 on (-3, 3). On TensorFlow Keras computes it as relu6(x + 3) / 6 in the input's type, and on JAX it
calls jax.nn.hard_sigmoid, which does the same. In float16 the largest value below 3 is 2.998046875, and x + 3 =
5.998046875 lies halfway between float16's 5.99609375 and 6, so it rounds to 6: relu6's gradient there is 0. In
bfloat16 the same happens at 2.984375. torch's hardsigmoid compares x with 3 itself and gives 1/6. Runs on Keras on
TensorFlow, whatever KERAS_BACKEND says (jax.grad of jax.nn.hard_sigmoid at the same float16 input gives 0 too).
`--avoided`: the same input in float32 (what the layer suite runs a half-precision case of this block in): then the
slope is right.

Exit status: 0 when the gradient is 1/6 within the type's rounding, 1 when it is not.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"  # a run of Keras on torch, which computes right, must not pick torch here

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def gradient(x: float, dtype: str) -> float:
    """d/dx hard_sigmoid at x in `dtype`, through TensorFlow's differentiation."""
    t = tf.constant(x, dtype=dtype)
    with tf.GradientTape() as tape:
        tape.watch(t)
        y = keras.activations.hard_sigmoid(t)
    return float(tf.cast(tape.gradient(y, t), "float32"))


def main() -> int:
    dtype = "float32" if "--avoided" in sys.argv else "float16"
    x = float(np.nextafter(np.float16(3.0), np.float16(0.0)))  # 2.998046875, the largest float16 below 3
    got = gradient(x, dtype)
    right = abs(got - 1 / 6) <= 2.0 ** -10  # a float16 rounding of 1/6
    print(f"keras {keras.__version__} on {keras.backend.backend()}, d/dx hard_sigmoid at x = {x} in {dtype}: {got:.6g}, "
          f"expected 1/6 = {1 / 6:.6g} ({'right' if right else 'wrong'})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

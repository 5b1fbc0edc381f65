"""Keras: kl_divergence in float16 divides the target by a prediction clipped to 1e-7, which overflows.

    python keras_kl_divergence_float16_overflow.py [THREADS] [--avoided]

keras.losses.kl_divergence(y_true, y_pred) clips both to [1e-7, 1] and sums y_true * log(y_true / y_pred). In
float16, 1e-7 is a subnormal (1.19e-7) and y_true / y_pred passes float16's largest value (65504) wherever a
prediction is under y_true / 65504: a target of 0.5 against a prediction of 2e-9 (logits 20 apart) gives
0.5 / 1.19e-7 = 4.2e6, inf; the loss is inf and its gradient NaN. Computed as y_true * (log(y_true) - log(y_pred))
it is 7.37, the float32 loss. Runs on the Keras backend KERAS_BACKEND names (TensorFlow where it is unset).
`--avoided`: the same loss in float32 (what the layer suite runs a float16 case of this block in): then it
computes right.

Exit status: 0 when the loss is finite and right, 1 when it is not.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

# float16 keeps 11 bits: a loss of about 7 is right within a few of its roundings.
ALLOWED = 8 * 7.4 * 2.0 ** -10


def main() -> int:
    dtype = "float32" if "--avoided" in sys.argv else "float16"
    y_true = np.array([[0.5, 0.5]], dtype)
    logits = keras.ops.convert_to_tensor(np.array([[0.0, -20.0]], dtype))  # softmax: 1 and 2.1e-9
    loss = keras.losses.kl_divergence(y_true, keras.ops.softmax(logits))
    got = float(keras.ops.convert_to_numpy(keras.ops.cast(loss, "float32"))[0])
    clipped = np.array([1.0, 1e-7])  # Keras's own clip of the prediction, in float64
    expected = float(np.sum(0.5 * np.log(0.5 / clipped)))
    right = np.isfinite(got) and abs(got - expected) <= ALLOWED
    print(f"keras {keras.__version__} on {keras.backend.backend()}, kl_divergence in {dtype} of a target of 0.5 against "
          f"a prediction clipped to 1e-7: {got:.4g}, expected {expected:.4g} ({'right' if right else 'wrong'})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

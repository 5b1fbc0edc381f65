"""Keras 3 on torch: AveragePooling2D(padding="same") where `same` pads one side more than the other averages
copies of the edge pixels into the border windows, instead of the mean of the inputs each window holds.

    python keras_torch_avgpool_same_replicate.py [THREADS] [--avoided]

Keras on torch (keras/src/backend/torch/nn.py, `average_pool`) hands torch's avg_pool2d symmetric padding
itself, with count_include_pad=False; where TensorFlow's `same` rule pads asymmetrically (a window of 3 at
stride 2 over an even size: one pixel after, none before) it pads the input first, in "replicate" mode, and
the edge pixels are then counted twice in the last windows. Expected: the mean of the window's inputs, as Keras
on TensorFlow and JAX compute it (keras-team/keras#18452; a fix, keras-team/keras#23233, was merged after
Keras 3.15.1). `--avoided`: an odd size, whose `same` padding is symmetric (what the suites keep on torch):
then it computes right. (A rectangular window, (1, 3), raised on Keras 3.5.0 on torch instead: "pad should be at
most half of effective kernel size"; the square one computes there.)

Exit status: 0 when the means are right, 1 when they are wrong.
"""

import os
import sys

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402


def main() -> int:
    import torch

    torch.set_num_threads(int(next((a for a in sys.argv[1:] if a.isdigit()), "2")))
    size = 5 if "--avoided" in sys.argv else 4
    image = np.arange(1, size * size + 1, dtype=np.float32).reshape(size, size)
    got = keras.ops.convert_to_numpy(keras.layers.AveragePooling2D(3, 2, "same")(image.reshape(1, size, size, 1)))
    # TensorFlow's `same`: ceil(size / 2) windows a side; the padding they need, the odd pixel after.
    total = max((-(-size // 2) - 1) * 2 + 3 - size, 0)
    padded = np.pad(image, (total // 2, total - total // 2), constant_values=np.nan)
    windows = range(0, len(padded) - 2, 2)
    expected = np.array([[np.nanmean(padded[i:i + 3, j:j + 3]) for j in windows] for i in windows], np.float32)
    right = np.allclose(got[0, :, :, 0], expected, rtol=1e-6)
    print(f"keras {keras.__version__} on {keras.backend.backend()}, means of 3x3 windows at stride 2 over a "
          f"{size}x{size} image of 1..{size * size}: {got[0, :, :, 0].tolist()} ({'right' if right else 'wrong'}; "
          f"expected {expected.tolist()})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

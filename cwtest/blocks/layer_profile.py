"""The per-layer error profile of one architecture's transferred pair, for `cwtest plot layers`.

The torch model's weights are copied into the Keras model of the same flavour, both run on the
same images, and every paired layer's activation is compared (cwtest.models.localize). The frameworks
are imported here, on demand, never by the command line's other commands.
"""

from __future__ import annotations

from cwtest.errors import InputError
from cwtest.backends.sides import Side

TORCH, KERAS = Side("torch", "cpu"), Side("tensorflow", "cpu")
IMAGES = 16


def profile(arch: str, flavour: str, images):
    """The LayerError rows, input to output, of `arch` in `flavour` on `images` (NHWC floats)."""
    from cwtest.models.localize import layer_errors
    from cwtest.models.structure import summary
    from cwtest.models.transfer import transferred

    pair = transferred(arch, flavour, "torch->keras", TORCH, KERAS)
    if not pair.structure.equivalent:
        raise InputError(f"--flavour: {arch} {flavour} has no common structure to copy weights through "
                         f"({summary(pair.structure.mismatches)}); try --flavour matched")
    return layer_errors(pair, images[:IMAGES], TORCH, KERAS)

"""What the layer suite draws for each block of the registry (cwtest.registries.layers): hypothesis
strategies of plain data, the inputs' NHWC shapes, a seed, a scale (an offset) and the block's options. Arrays are
made from the seed (cwtest.registries.layer_strategies.inputs_for), so a failing case prints as a few numbers.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

SEEDS = st.integers(0, 2**16)
SCALES = st.sampled_from([1.0, 0.1, 10.0])


def image(draw, min_size=1, max_size=8, channels=None, min_batch=1):
    """An NHWC shape."""
    return (draw(st.integers(min_batch, 3)), draw(st.integers(min_size, max_size)),
            draw(st.integers(min_size, max_size)), channels or draw(st.integers(1, 6)))


def case(draw, *shapes, **options):
    return {"inputs": list(shapes), "seed": draw(SEEDS), "scale": draw(SCALES), **options}


# --- convolutions ---------------------------------------------------------------------------------

@st.composite
def conv_params(draw):
    groups = draw(st.sampled_from([1, 2]))
    dilation = draw(st.integers(1, 2))
    stride = 1 if dilation > 1 else draw(st.integers(1, 3))  # Keras rejects dilation with stride
    padding = draw(st.sampled_from(["valid", "explicit"] + (["same"] if stride == 1 else [])))
    pad = draw(st.integers(1, 2)) if padding == "explicit" else 0
    kernel = draw(st.integers(1, 5))
    reach = dilation * (kernel - 1) + 1
    shape = image(draw, min_size=max(1, reach - 2 * pad), max_size=max(8, reach),
                   channels=groups * draw(st.integers(1, 3)))
    return case(draw, shape, filters=groups * draw(st.integers(1, 3)), kernel=kernel, stride=stride,
                 dilation=dilation, padding=padding, pad=pad, groups=groups, bias=draw(st.booleans()))


@st.composite
def same_stride2_params(draw):
    # Even sizes: there TF's `same` pads asymmetrically; odd sizes pad as torch does.
    size = st.integers(2, 6).map(lambda n: 2 * n)
    shape = (draw(st.integers(1, 3)), draw(size), draw(size), draw(st.integers(1, 4)))
    return case(draw, shape, filters=draw(st.integers(1, 4)), kernel=draw(st.sampled_from([3, 5])))


@st.composite
def depthwise_params(draw):
    stride = draw(st.integers(1, 2))
    kernel = draw(st.integers(1, 3))
    shape = image(draw, min_size=kernel, channels=draw(st.integers(1, 4)))
    return case(draw, shape, kernel=kernel, stride=stride, multiplier=draw(st.integers(1, 2)),
                 bias=draw(st.booleans()))


# --- dense, normalization, pooling, shape ---------------------------------------------------------

@st.composite
def dense_params(draw):
    return case(draw, (draw(st.integers(1, 4)), draw(st.integers(1, 64))), units=draw(st.integers(1, 32)),
                 bias=draw(st.booleans()))


@st.composite
def flatten_dense_params(draw):
    return case(draw, image(draw, max_size=4), units=draw(st.integers(1, 16)))


# Batch statistics over n values: torch refuses n=1, and for n=2 the input gradient is exactly
# zero up to epsilon terms, so its "error" is round-off measured against nothing. Training
# cases keep n >= 8 at every BatchNorm (batch >= 2, and at least 2x2 after a stride of 2).
@st.composite
def batchnorm_params(draw):
    return case(draw, image(draw, min_size=2, min_batch=2))


# A batch whose mean is 100 or 1000 times its spread, as after a conv bias: where computing the batch
# variance in one pass cancels (semantics.bn_one_pass_variance). Spread 1, so that the output's round-off,
# which grows with the mean over the spread, is measured against the inputs (the offset).
@st.composite
def offset_batchnorm_params(draw):
    return {**case(draw, image(draw, min_size=2, min_batch=2)), "scale": 1.0,
            "offset": draw(st.sampled_from([100.0, 1000.0]))}


@st.composite
def pool_params(draw):
    pool = draw(st.integers(1, 3))
    return case(draw, image(draw, min_size=pool), pool=pool, stride=draw(st.integers(1, 3)))


@st.composite
def padding_params(draw):
    pads = st.integers(0, 2)
    return case(draw, image(draw), top=draw(pads), bottom=draw(pads), left=draw(pads), right=draw(pads))


@st.composite
def image_params(draw):
    return case(draw, image(draw))


@st.composite
def softmax_params(draw):
    classes = draw(st.integers(2, 12))
    return case(draw, image(draw, max_size=4, channels=classes) if draw(st.booleans())
                 else (draw(st.integers(1, 4)), classes))


@st.composite
def two_images_params(draw, same_channels):
    first = image(draw)
    second = first if same_channels else (*first[:3], draw(st.integers(1, 6)))
    return case(draw, first, second)


@st.composite
def dropout_params(draw, rate):
    return case(draw, image(draw), rate=draw(rate))


# --- compound blocks of the three architectures ---------------------------------------------------

@st.composite
def vgg_params(draw):
    return case(draw, image(draw, min_size=2, channels=draw(st.integers(1, 4))),
                 convs=draw(st.integers(1, 3)), filters=draw(st.integers(1, 6)))


@st.composite
def bottleneck_params(draw):
    # At least two filters: with one, conv3 maps a single channel affinely into each BatchNorm
    # channel, and in training mode BatchNorm is invariant to that map, so conv3's weight gradient
    # is exactly zero and both sides return amplified round-off (a dev-profile draw: 4346 units,
    # max rel 0.9, on a 2x3x3 batch).
    filters, stride = draw(st.integers(2, 3)), draw(st.integers(1, 2))
    shape = image(draw, min_size=3, min_batch=2, channels=draw(st.integers(1, 8)))
    # A projection shortcut where the identity cannot add up, and sometimes where it could.
    projection = stride == 2 or shape[3] != 4 * filters or draw(st.booleans())
    return case(draw, shape, filters=filters, stride=stride, projection=projection,
                 training=draw(st.booleans()))


@st.composite
def dense_layer_params(draw):
    return case(draw, image(draw, min_size=2, min_batch=2, channels=draw(st.integers(1, 8))),
                 growth=draw(st.integers(1, 4)), training=draw(st.booleans()))


@st.composite
def transition_params(draw):
    return case(draw, image(draw, min_size=2, min_batch=2, channels=draw(st.integers(2, 8))),
                 training=draw(st.booleans()))


# --- losses ---------------------------------------------------------------------------------------

@st.composite
def logits_params(draw):
    # Large scales put true-class probabilities under Keras's 1e-7 clip.
    return {"inputs": [(draw(st.integers(1, 8)), draw(st.integers(2, 10)))], "seed": draw(SEEDS),
            "scale": draw(st.sampled_from([1.0, 10.0, 30.0, 100.0]))}


def inputs_for(params: dict) -> list[np.ndarray]:
    """The case's inputs (NHWC), drawn from its seed: hypothesis draws shapes and a seed, not arrays."""
    rng = np.random.default_rng(params["seed"])
    return [(params.get("offset", 0.0) + rng.standard_normal(shape) * params.get("scale", 1.0)).astype(np.float32)
            for shape in params["inputs"]]


def labels_for(params: dict) -> np.ndarray:
    """A loss block's class labels, drawn from its seed; its input is (batch, classes) logits."""
    batch, classes = params["inputs"][0]
    return np.random.default_rng(params["seed"] + 2).integers(0, classes, batch)

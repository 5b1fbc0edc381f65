"""What the layer suite draws for each block of the registry (cwtest.registries.layers): hypothesis
strategies of plain data, the inputs' NHWC shapes, a seed, a scale (an offset) and the block's options. Arrays are
made from the seed (cwtest.registries.layer_strategies.inputs_for), so a failing case prints as a few numbers.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

SEEDS = st.integers(0, 2**16)
# Inputs' spread: from tiny to large, so that an epsilon or a clip that only matters at one scale shows.
SCALES = st.sampled_from([1.0, 0.1, 10.0, 1e-3, 1e3])
# For the architectures' compound blocks: a conv bias of their initial size over inputs of 1e-3 is a batch whose
# mean is about 500 times its spread, and a training-mode BatchNorm then amplifies the fp32 round-off of the
# conv's output (a dev-profile draw: resnet_bottleneck_v1, 846 eps units of the output). That cancellation is
# batchnorm_train_offset's case, measured against its inputs.
COMPOUND_SCALES = st.sampled_from([1.0, 0.1, 10.0])
# How input values are drawn (inputs_for): normal; "ties", values on a grid of half units, so that windows hold
# equal maxima (which one a max-pool's gradient goes to); "zeros", half of them exactly zero (ReLU's kink, a
# max-pool's padding against a window of zeros).
DISTRIBUTIONS = st.sampled_from(["normal", "ties", "zeros"])
DATA_FORMATS = st.sampled_from(["channels_last", "channels_first"])  # Keras's; torch's layers are channels first
# The type both sides compute in: float32 (three of five entries of its sample), else a half type, which every block
# accepts on both sides on the CPU (torch's module and inputs `.to(dtype)`, a Keras layer built with `dtype=`; tried
# on every block forward and backward, torch 2.14.1, Keras 3.15.1 on TensorFlow 2.21), but for a float16 channels-
# first Conv2D or Conv2DTranspose on TensorFlow (cwtest.registries.defects: keras_tf_channels_first_float16_conv). A
# half case is judged against torch's float64 run (cwtest.blocks.layer_parity.half_judgements). Drawn last: the other
# draws stay as they were.
HALF_TYPES = ("bfloat16", "float16")
DTYPES = st.sampled_from(("float32", "float32", "float32", *HALF_TYPES))


def image(draw, min_size=1, max_size=8, channels=None, min_batch=1):
    """An NHWC shape; `min_size` one bound for both sides or (height, width)."""
    low_h, low_w = min_size if isinstance(min_size, tuple) else (min_size, min_size)
    return (draw(st.integers(min_batch, 3)), draw(st.integers(low_h, max(low_h, max_size))),
            draw(st.integers(low_w, max(low_w, max_size))), channels or draw(st.integers(1, 6)))


def window(draw, low: int, high: int) -> tuple[int, int]:
    """A kernel's, a pool's or a stride's (height, width): square half the time, as most models use them."""
    height = draw(st.integers(low, high))
    return (height, height) if draw(st.booleans()) else (height, draw(st.integers(low, high)))


def case(draw, *shapes, scales=SCALES, **options):
    return {"inputs": list(shapes), "seed": draw(SEEDS), "scale": draw(scales),
            "distribution": draw(DISTRIBUTIONS), **options, "dtype": draw(DTYPES)}


def compound_case(draw, *shapes, **options):
    return case(draw, *shapes, scales=COMPOUND_SCALES, **options)


# --- convolutions ---------------------------------------------------------------------------------

def _reach(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    return tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))


@st.composite
def conv_params(draw):
    # Kernels smaller than, equal to and larger than the stride, each padding mode with every stride
    # (`same` at a stride over 1 pads more after than before on some sizes), both of Keras's data formats.
    groups = draw(st.sampled_from([1, 2]))
    dilation = window(draw, 1, 2)
    stride = (1, 1) if dilation != (1, 1) else window(draw, 1, 3)  # Keras rejects dilation with stride
    padding = draw(st.sampled_from(["valid", "explicit", "same"]))
    pad = window(draw, 1, 2) if padding == "explicit" else (0, 0)
    kernel = window(draw, 1, 5)
    reach = _reach(kernel, dilation)
    low = (1, 1) if padding == "same" else tuple(max(1, r - 2 * p) for r, p in zip(reach, pad))
    shape = image(draw, min_size=low, max_size=8, channels=groups * draw(st.integers(1, 3)))
    return case(draw, shape, filters=groups * draw(st.integers(1, 3)), kernel=kernel, stride=stride,
                dilation=dilation, padding=padding, pad=pad, groups=groups, bias=draw(st.booleans()),
                data_format=draw(DATA_FORMATS))


@st.composite
def same_stride2_params(draw):
    # Even sizes: there TF's `same` pads asymmetrically; odd sizes pad as torch does.
    size = st.integers(2, 6).map(lambda n: 2 * n)
    shape = (draw(st.integers(1, 3)), draw(size), draw(size), draw(st.integers(1, 4)))
    return case(draw, shape, filters=draw(st.integers(1, 4)), kernel=draw(st.sampled_from([3, 5])),
                bias=draw(st.booleans()))


@st.composite
def depthwise_params(draw):
    dilation = window(draw, 1, 2)
    stride = (1, 1) if dilation != (1, 1) else window(draw, 1, 3)
    kernel = window(draw, 1, 3)
    padding = draw(st.sampled_from(["valid", "same"]))
    low = (1, 1) if padding == "same" else _reach(kernel, dilation)
    shape = image(draw, min_size=low, channels=draw(st.integers(1, 4)))
    return case(draw, shape, kernel=kernel, stride=stride, dilation=dilation, padding=padding,
                multiplier=draw(st.integers(1, 2)), bias=draw(st.booleans()), data_format=draw(DATA_FORMATS))


def _conv_nd_options(draw, rank: int, paddings: tuple[str, ...]) -> dict:
    """A 1-D or 3-D convolution's options, drawn as conv_params draws a 2-D one's: kernels smaller than, equal to
    and larger than the stride, dilation only at stride 1 (Keras rejects both), each padding with every stride."""
    dilation = draw(st.integers(1, 2))
    stride = 1 if dilation > 1 else draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    return {"kernel": kernel, "stride": stride, "dilation": dilation, "padding": draw(st.sampled_from(paddings))}


@st.composite
def conv1d_params(draw):
    """A sequence (batch, steps, channels), `causal` padding too (what the steps before give, and no later one)."""
    options = _conv_nd_options(draw, 1, ("valid", "same", "causal"))
    groups = draw(st.sampled_from([1, 2]))
    reach = options["dilation"] * (options["kernel"][0] - 1) + 1
    steps = draw(st.integers(1 if options["padding"] != "valid" else reach, 12))
    return case(draw, (draw(st.integers(1, 3)), steps, groups * draw(st.integers(1, 3))),
                filters=groups * draw(st.integers(1, 3)), groups=groups, bias=draw(st.booleans()), **options)


@st.composite
def conv3d_params(draw):
    """A volume (batch, depth, height, width, channels)."""
    options = _conv_nd_options(draw, 3, ("valid", "same"))
    groups = draw(st.sampled_from([1, 2]))
    low = [1 if options["padding"] == "same" else options["dilation"] * (k - 1) + 1 for k in options["kernel"]]
    volume = tuple(draw(st.integers(lo, max(lo, 4))) for lo in low)
    return case(draw, (draw(st.integers(1, 2)), *volume, groups * draw(st.integers(1, 2))),
                filters=groups * draw(st.integers(1, 2)), groups=groups, bias=draw(st.booleans()), **options)


@st.composite
def transpose_params(draw):
    """A transposed convolution (Keras's Conv2DTranspose, whose output sizes follow its padding: `valid`, input *
    stride + max(reach - stride, 0); `same`, input * stride), kernels smaller than, equal to and larger than the
    stride, dilation at stride 1."""
    dilation = window(draw, 1, 2)
    stride = (1, 1) if dilation != (1, 1) else window(draw, 1, 3)
    shape = image(draw, max_size=5)
    return case(draw, shape, filters=draw(st.integers(1, 4)), kernel=window(draw, 1, 4), stride=stride,
                dilation=dilation, padding=draw(st.sampled_from(["valid", "same"])), bias=draw(st.booleans()),
                data_format=draw(DATA_FORMATS))


# --- dense, normalization, pooling, shape ---------------------------------------------------------

@st.composite
def dense_params(draw):
    return case(draw, (draw(st.integers(1, 4)), draw(st.integers(1, 64))), units=draw(st.integers(1, 32)),
                 bias=draw(st.booleans()))


@st.composite
def flatten_dense_params(draw):
    return case(draw, image(draw, max_size=4), units=draw(st.integers(1, 16)), bias=draw(st.booleans()))


# Batch statistics over n values: torch refuses n=1, and for n=2 the input gradient is exactly
# zero up to epsilon terms, so its "error" is round-off measured against nothing. Training
# cases keep n >= 8 at every BatchNorm (batch >= 2, and at least 2x2 after a stride of 2).
# Epsilon and momentum drawn (None: each framework's default, as a model that sets neither has them; a kept
# bn_epsilon or bn_momentum compares the defaults), a learnable scale and offset, a scale alone (torch's
# `bias=False`, Keras's `center=False`) or neither, the channels last or first (Keras's `axis`).
def _batchnorm_options(draw) -> dict:
    affine = draw(st.booleans())
    return {"epsilon": draw(st.sampled_from([None, 1e-3, 0.1, 1e-5])), "momentum": draw(st.sampled_from([None, 0.01, 0.5])),
            "affine": affine, "center": affine and draw(st.booleans()), "data_format": draw(DATA_FORMATS)}


@st.composite
def batchnorm_params(draw):
    return case(draw, image(draw, min_size=2, min_batch=2), **_batchnorm_options(draw))


# A batch whose mean is 100 or 1000 times its spread, as after a conv bias: where computing the batch
# variance in one pass cancels (semantics.bn_one_pass_variance). Spread 1, so that the output's round-off,
# which grows with the mean over the spread, is measured against the inputs (the offset).
@st.composite
def offset_batchnorm_params(draw):
    return {**case(draw, image(draw, min_size=2, min_batch=2), **_batchnorm_options(draw)), "scale": 1.0,
            "distribution": "normal", "offset": draw(st.sampled_from([100.0, 1000.0]))}


# BatchNorm over a matrix (batch, features), a sequence (batch, steps, channels) or a volume (batch, depth, height,
# width, channels): torch's BatchNorm1d and BatchNorm3d, Keras's one BatchNormalization over the last axis. As for
# images, at least 8 values per channel (a matrix of 8 to 10 rows).
@st.composite
def batchnorm_nd_params(draw, rank: int):
    if rank == 1:
        shape = (draw(st.integers(8, 10)), draw(st.integers(1, 6))) if draw(st.booleans()) else \
            (draw(st.integers(2, 3)), draw(st.integers(4, 6)), draw(st.integers(1, 6)))
    else:
        shape = (2, *(draw(st.integers(2, 3)) for _ in range(3)), draw(st.integers(1, 4)))
    return case(draw, shape, **{**_batchnorm_options(draw), "data_format": "channels_last"})


# Layer and group normalization: epsilon drawn as BatchNorm's (None: each framework's default; a kept
# layernorm_epsilon or groupnorm_epsilon compares the defaults), a learnable scale and offset, a scale alone or
# neither. The inputs' scales include 1e-3, where a variance of 1e-6 meets an epsilon of 1e-5 or 1e-3.
def _norm_options(draw) -> dict:
    affine = draw(st.booleans())
    return {"epsilon": draw(st.sampled_from([None, 1e-5, 1e-3, 1e-6])), "affine": affine,
            "center": affine and draw(st.booleans())}


@st.composite
def layernorm_params(draw):
    """A transformer's (batch, tokens, features) or a matrix (batch, features), normalized over its last axis or,
    for tokens, its last two (`axes`)."""
    batch, features = draw(st.integers(1, 3)), draw(st.integers(1, 16))
    shape = (batch, draw(st.integers(1, 6)), features) if draw(st.booleans()) else (batch, features)
    return case(draw, shape, axes=draw(st.sampled_from([1, 2])) if len(shape) == 3 else 1, **_norm_options(draw))


# torch's RMSNorm without an eps takes its input type's machine epsilon: the harmonized case passes that number to
# both sides, so that torch's float64 reference normalizes with the same epsilon as its half-type run.
MACHINE_EPSILON = {"float32": 2.0 ** -23, "float16": 2.0 ** -10, "bfloat16": 2.0 ** -7}


def rmsnorm_epsilon(params: dict) -> float:
    """The epsilon a harmonized RMS normalization case gives both sides."""
    return MACHINE_EPSILON[params["dtype"]] if params["epsilon"] is None else params["epsilon"]


@st.composite
def rmsnorm_params(draw):
    """A transformer's (batch, tokens, features) or a matrix (batch, features), normalized over its last axis or,
    for tokens, its last two; epsilon drawn (None: each framework's default; a kept rmsnorm_epsilon compares the
    defaults). Always a learnable scale: Keras's RMSNormalization has one whatever is asked."""
    batch, features = draw(st.integers(1, 3)), draw(st.integers(1, 16))
    shape = (batch, draw(st.integers(1, 6)), features) if draw(st.booleans()) else (batch, features)
    return case(draw, shape, axes=draw(st.sampled_from([1, 2])) if len(shape) == 3 else 1,
                epsilon=draw(st.sampled_from([None, 1e-6, 1e-5, 1e-3])))


@st.composite
def groupnorm_params(draw):
    """An image whose channels split into 1 (layer normalization over C, H, W) to 4 groups of 1 (instance
    normalization) to 3 channels, channels last or first; at least 2 by 2 (torch refuses a group of one value)."""
    groups = draw(st.integers(1, 4))
    shape = image(draw, min_size=2, channels=groups * draw(st.integers(1, 3)))
    return case(draw, shape, groups=groups, data_format=draw(DATA_FORMATS), **_norm_options(draw))


@st.composite
def pool_params(draw):
    # Windows smaller than, equal to and larger than the stride, rectangular ones, `same` (which pads more
    # after than before on some sizes, and for a max pool pads with nothing a window can take).
    pool, stride = window(draw, 1, 3), window(draw, 1, 3)
    padding = draw(st.sampled_from(["valid", "same"]))
    shape = image(draw, min_size=pool if padding == "valid" else 1)
    return case(draw, shape, pool=pool, stride=stride, padding=padding, data_format=draw(DATA_FORMATS))


@st.composite
def same_pool_params(draw):
    # An odd window at stride 1: `same` pads (window - 1) / 2 on each side, which torch's pools take as their own
    # padding: every example pads (pool_params draws that in few), so a max pool that pads with zeros meets a
    # border window of negative inputs, and an average pool counts the padding unless count_include_pad=False
    # (semantics.avgpool_counts_padding).
    pool = tuple(draw(st.sampled_from([3, 5])) for _ in range(2))
    return case(draw, image(draw), pool=pool, stride=(1, 1), padding="same", data_format=draw(DATA_FORMATS))


@st.composite
def padding_params(draw):
    pads = st.integers(0, 2)
    return case(draw, image(draw), top=draw(pads), bottom=draw(pads), left=draw(pads), right=draw(pads),
                data_format=draw(DATA_FORMATS))


@st.composite
def cropping_params(draw):
    """Rows and columns cut from each side, at least one of each left."""
    top, bottom, left, right = (draw(st.integers(0, 2)) for _ in range(4))
    shape = image(draw, min_size=(top + bottom + 1, left + right + 1))
    return case(draw, shape, top=top, bottom=bottom, left=left, right=right, data_format=draw(DATA_FORMATS))


@st.composite
def upsampling_params(draw):
    return case(draw, image(draw, max_size=5), size=window(draw, 1, 3),
                interpolation=draw(st.sampled_from(["nearest", "bilinear"])), data_format=draw(DATA_FORMATS))


@st.composite
def resize_params(draw):
    """An image resized to another height and width, up or down. The width is never an integer multiple of the input's
    (1 times included), where the frameworks' nearest-neighbour rules part (semantics resize_nearest_pixel_centers):
    so that a case with the published rule always meets that difference."""
    shape = image(draw, min_size=(1, 2))
    width = draw(st.integers(1, 12).filter(lambda w: w % shape[2] != 0))
    return case(draw, shape, height=draw(st.integers(1, 12)), width=width,
                interpolation=draw(st.sampled_from(["nearest", "bilinear"])), data_format=draw(DATA_FORMATS))


@st.composite
def flatten_params(draw):
    return case(draw, image(draw, max_size=4), data_format=draw(DATA_FORMATS))


@st.composite
def image_params(draw):
    return case(draw, image(draw))


# --- elementwise activations ------------------------------------------------------------------------

@st.composite
def activation_params(draw, kinks: tuple[float, ...] = (), **options: st.SearchStrategy):
    """An elementwise activation on an image, with its options drawn. `kinks`: where its derivative jumps, put in a
    quarter of every example's inputs (inputs_for): which side of a kink each framework's gradient takes is a
    convention, and a normal draw meets an exact kink too seldom to test it."""
    return case(draw, image(draw), kinks=kinks, **{name: draw(strategy) for name, strategy in options.items()})


@st.composite
def prelu_params(draw):
    """PReLU with a learnable slope per channel or one for all (torch's num_parameters, Keras's shared_axes), a
    quarter of the inputs on its kink at 0; the slopes are drawn with torch's weights."""
    return case(draw, image(draw), kinks=(0.0,), per_channel=draw(st.booleans()), data_format=draw(DATA_FORMATS))


NEGATIVE_SLOPES = st.sampled_from([0.01, 0.1, 0.2, 0.3])  # torch's default, others, Keras's two defaults
ELU_ALPHAS = st.sampled_from([1.0, 0.5, 2.0])


@st.composite
def global_pool_params(draw):
    return case(draw, image(draw), keepdims=draw(st.booleans()), data_format=draw(DATA_FORMATS))


# An image's axes in Keras's NHWC order and the same axes in torch's NCHW.
TORCH_AXIS = {1: 2, 2: 3, 3: 1, -1: 1}


# Logits: up to 1e3, and 100 and 1e3 two draws in five, where exp overflows fp32 unless the maximum is subtracted.
LOGIT_SCALES = st.sampled_from([1.0, 0.1, 10.0, 100.0, 1e3])


@st.composite
def softmax_params(draw):
    classes = draw(st.integers(2, 12))
    if draw(st.booleans()):  # an image: over its channels mostly, or over a spatial axis longer than 1
        shape = image(draw, max_size=4, channels=classes)
        return case(draw, shape, scales=LOGIT_SCALES,
                    axis=draw(st.sampled_from([-1, -1, *(a for a in (1, 2) if shape[a] > 1)])))
    return case(draw, (draw(st.integers(1, 4)), classes), scales=LOGIT_SCALES, axis=-1)


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
    return compound_case(draw, image(draw, min_size=2, channels=draw(st.integers(1, 4))),
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
    return compound_case(draw, shape, filters=filters, stride=stride, projection=projection,
                 training=draw(st.booleans()))


@st.composite
def dense_layer_params(draw):
    return compound_case(draw, image(draw, min_size=2, min_batch=2, channels=draw(st.integers(1, 8))),
                 growth=draw(st.integers(1, 4)), training=draw(st.booleans()))


@st.composite
def transition_params(draw):
    return compound_case(draw, image(draw, min_size=2, min_batch=2, channels=draw(st.integers(2, 8))),
                 training=draw(st.booleans()))


# --- losses ---------------------------------------------------------------------------------------

@st.composite
def logits_params(draw):
    # Large scales put true-class probabilities under Keras's 1e-7 clip.
    return {"inputs": [(draw(st.integers(1, 8)), draw(st.integers(2, 10)))], "seed": draw(SEEDS),
            "scale": draw(st.sampled_from([1.0, 10.0, 30.0, 100.0])), "dtype": draw(DTYPES)}


@st.composite
def regression_params(draw):
    # Predictions against targets of the same spread (targets_for), so that Huber's delta falls among their differences.
    return {"inputs": [(draw(st.integers(1, 8)), draw(st.integers(1, 10)))], "seed": draw(SEEDS), "scale": draw(SCALES),
            "delta": draw(st.sampled_from([1.0, 0.1, 5.0])), "dtype": draw(DTYPES), "targets": "regression"}


@st.composite
def mae_params(draw):
    # A quarter of the predictions exactly on their targets (targets_for), where |x - y| has its kink
    # (mae_gradient_at_zero): as a half type rounds a prediction and a target of 1e3 to one value.
    return {**draw(regression_params()), "on_targets": True}


@st.composite
def smooth_l1_params(draw):
    # torch's beta, Keras's delta: never 1, where smooth L1 and Huber are the same function (smooth_l1_is_huber_over_beta)
    return {**draw(regression_params()), "delta": draw(st.sampled_from([0.1, 5.0, 0.5]))}


@st.composite
def binary_params(draw):
    # Soft targets in [0, 1] or hard ones, smoothed towards 0.5 or not.
    return {**draw(logits_params()), "targets": draw(st.sampled_from(["soft", "hard"])),
            "label_smoothing": draw(st.sampled_from([0.0, 0.1, 0.2]))}


@st.composite
def smoothed_logits_params(draw):
    return {**draw(logits_params()), "label_smoothing": draw(st.sampled_from([0.1, 0.0, 0.2]))}


@st.composite
def distribution_params(draw):
    # The predicted distribution is softmax(inputs); large scales put its smallest probabilities under Keras's 1e-7 clip.
    return {**draw(logits_params()), "scale": draw(st.sampled_from([100.0, 30.0, 1.0, 10.0])), "targets": "distribution"}


def targets_for(params: dict) -> np.ndarray:
    """A loss block's targets, drawn from its seed, rounded to the case's type: values of the inputs' spread
    ("regression"), probabilities ("soft", "hard": 0 or 1) or distributions over the last axis ("distribution")."""
    rng = np.random.default_rng(params["seed"] + 3)
    shape = params["inputs"][0]
    kind = params["targets"]
    if kind == "regression":
        values = rng.standard_normal(shape) * params["scale"]
    elif kind == "soft":
        values = rng.random(shape)
    elif kind == "hard":
        values = rng.integers(0, 2, shape).astype(np.float64)
    else:
        logits = rng.standard_normal(shape)
        values = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    if params.get("on_targets"):
        values = np.where(rng.random(shape) < 0.25, inputs_for(params)[0], values)
    return rounded(values, dtype_of(params))


def inputs_for(params: dict) -> list[np.ndarray]:
    """The case's inputs (NHWC), drawn from its seed: hypothesis draws shapes and a seed, not arrays."""
    rng = np.random.default_rng(params["seed"])
    arrays = []
    for shape in params["inputs"]:
        values = rng.standard_normal(shape)
        if params.get("distribution") == "ties":
            values = np.round(values * 2) / 2
        elif params.get("distribution") == "zeros":
            values = np.where(rng.random(shape) < 0.5, 0.0, values)
        values = params.get("offset", 0.0) + values * params.get("scale", 1.0)
        if params.get("kinks"):  # after the scale: a kink is where it is whatever the inputs' spread
            values = np.where(rng.random(shape) < 0.25, rng.choice(params["kinks"], shape), values)
        arrays.append(rounded(values, dtype_of(params)))
    return arrays


def dtype_of(params: dict) -> str:
    """The type a case computes in: float32 for params written without one (a test's, a published reproducer's)."""
    return params.get("dtype", "float32")


def rounded(values: np.ndarray, dtype: str) -> np.ndarray:
    """`values` rounded to the nearest `dtype` value (ties to even, as torch's and TensorFlow's casts), held in
    float32, which holds every half value exactly: both sides of a half case then start from the same half values.
    numpy has no bfloat16: it is float32 without the low 16 bits, rounded here on the bits."""
    values = np.asarray(values, np.float32)
    if dtype == "float16":
        return values.astype(np.float16).astype(np.float32)
    if dtype == "bfloat16":
        bits = values.view(np.uint32)
        return ((bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) & np.uint32(0xFFFF0000)).view(np.float32)
    return values


def labels_for(params: dict) -> np.ndarray:
    """A loss block's class labels, drawn from its seed; its input is (batch, classes) logits."""
    batch, classes = params["inputs"][0]
    return np.random.default_rng(params["seed"] + 2).integers(0, classes, batch)

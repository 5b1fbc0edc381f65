"""The layer registry: one declarative entry per building block of VGG16, ResNet50 and DenseNet121.

An entry says how torch and Keras build the block from one parameter set, which parameters
and input shapes to draw (a hypothesis strategy of plain data: shapes, a seed, options),
which catalogued differences (cwtest.blocks.semantics) apply, and its tolerance. Builders get the
framework passed in and `published`, the set of differences to leave in their published form;
everything else is harmonized. Torch modules name their weighted submodules as the Keras
layers are named: that is the weight map (cwtest.blocks.layer_parity.keras_layout does the layouts).
Nothing here imports torch or TensorFlow.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from hypothesis import strategies as st

# Tolerances, in units of fp32 epsilon times the compared values' scale (layer_parity.compare).
# Measured as the worst harmonized case over 150 random examples per entry (torch 2.14.1,
# TensorFlow 2.21, CPU; re-measure with `pytest suites/layers --hypothesis-profile=thorough
# --crossedwires-report=r.csv`, column error_eps_units), then at least doubled. Planted bugs
# and catalogued differences measure 1e4 to 1e7 units.
# Forward: worst 19.0 (cross_entropy_softmax, a loss near zero from a cancelling log-softmax, before the
# losses were measured against their logits; a later draw reached 142.8, see cross_entropy_logits).
FORWARD_EPS_UNITS = 64.0
GRADIENT_EPS_UNITS = 32.0  # worst 8.9 (batchnorm_eval, d weight)


@dataclass(frozen=True)
class Tolerance:
    forward: float = FORWARD_EPS_UNITS
    gradients: float = GRADIENT_EPS_UNITS


@dataclass(frozen=True)
class Block:
    name: str
    params: st.SearchStrategy  # dicts with "inputs" (NHWC shapes), "seed" and the block's options
    torch: Callable  # (torch.nn, params, published) -> module taking the inputs (NCHW)
    keras: Callable  # (keras, params, published) -> model taking the inputs (NHWC)
    differences: tuple[str, ...] = ()
    training: bool = False  # the mode both sides run in, unless params say "training"
    # What gradient errors are measured against: "gradients" (the largest gradient), "cotangent"
    # (the largest upstream gradient), for a block whose backward subtracts nearly equal terms of the
    # cotangent's size and can return results far smaller than the round-off those terms carry, or
    # "terms": the largest gradient, or where a check is over its tolerance, each gradient's own
    # terms: the larger of the sum of |cotangent| * |d output / d element| over the outputs and of
    # its layer's reduction, |upstream gradient| * |d layer output / d parameter| (a parameter's
    # gradient sums over every output position it touches, and can cancel to far less than those
    # terms, as a forward sum can; see layer_parity._gradient_terms).
    gradient_scale: str = "gradients"
    # What forward errors are measured against: "output" (the largest output) or "terms" (the largest
    # sum of |weight| * |input| products behind an output: the block run on |inputs| with |weights|),
    # for a chain of convolutions and Dense layers, whose outputs are sums that can cancel to far less
    # than the products they add up. fp32 round-off of a sum is bounded by the size of its terms
    # (|fl(w.x) - w.x| <= n * eps * |w|.|x|), not of its result. Or "inputs" (the largest input), for a
    # block that subtracts terms of its inputs' size: a cross-entropy from logits z is
    # logsumexp(z) - z_y, which cancels to nearly nothing where the right class takes all the probability.
    forward_scale: str = "output"
    tolerance: Tolerance = Tolerance()


SEEDS = st.integers(0, 2**16)
SCALES = st.sampled_from([1.0, 0.1, 10.0])


def _image(draw, min_size=1, max_size=8, channels=None, min_batch=1):
    """An NHWC shape."""
    return (draw(st.integers(min_batch, 3)), draw(st.integers(min_size, max_size)),
            draw(st.integers(min_size, max_size)), channels or draw(st.integers(1, 6)))


def _case(draw, *shapes, **options):
    return {"inputs": list(shapes), "seed": draw(SEEDS), "scale": draw(SCALES), **options}


# --- shared pieces --------------------------------------------------------------------------

def _torch_graph(nn, forward, **modules):
    """A module whose submodules have the given names (the Keras layer names) and the given forward."""
    import types

    graph = nn.ModuleDict(modules)
    # A method bound to the graph, not a closure over it: copy.deepcopy rebinds a method to the
    # copy, so a copy moved to another device computes with its own weights.
    graph.forward = types.MethodType(forward, graph)
    return graph


def _torch_chain(nn, **modules):
    return nn.Sequential(OrderedDict(modules))


def _keras_model(keras, params, forward):
    inputs = [keras.Input(shape[1:], batch_size=shape[0]) for shape in params["inputs"]]
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], forward(*inputs))


# Keras's initial weights are overwritten with torch's (layer_parity.build_pair): a constant
# initializer skips random draws that were a quarter of a Keras layer's construction.
_OVERWRITTEN = {"kernel_initializer": "zeros", "bias_initializer": "zeros"}


class _KerasChain:
    """Keras layers run one after another, eagerly: what a functional Model of them computes (each
    layer's own `__call__`, the same kernels), without the symbolic pass a Model runs to be built,
    which was half of a simple case's time (benchmarks/layers.py). Built from the case's input
    shape, so that torch's weights can be set before the first call."""

    def __init__(self, input_shape: tuple[int, ...], layers) -> None:
        self.layers = list(layers)
        shape = tuple(input_shape)
        for layer in self.layers:
            layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))

    def get_layer(self, name: str):
        return next(layer for layer in self.layers if layer.name == name)

    def __call__(self, x, training: bool = False):
        return functools.reduce(lambda y, layer: layer(y, training=training), self.layers, x)


def _keras_chain(keras, params, *layers):
    (shape,) = params["inputs"]
    return _KerasChain(shape, layers)


def _torch_batchnorm(nn, channels, eps=1e-5):
    """torch defaults (momentum 0.1), with random affine weights and running statistics."""
    bn = nn.BatchNorm2d(channels, eps=eps)
    nn.init.uniform_(bn.weight, 0.5, 1.5)
    nn.init.uniform_(bn.bias, -0.5, 0.5)
    nn.init.uniform_(bn.running_mean, -0.5, 0.5)
    nn.init.uniform_(bn.running_var, 0.5, 2.0)
    return bn


@functools.cache
def _unbiased_batchnorm(keras):
    class UnbiasedBatchNormalization(keras.layers.BatchNormalization):
        """Updates the moving variance with the unbiased batch variance, as torch does."""

        def call(self, inputs, training=None, mask=None):
            outputs = super().call(inputs, training=training, mask=mask)
            if training and self.trainable:
                axes = [a for a in range(len(inputs.shape)) if a != self.axis % len(inputs.shape)]
                count = math.prod(inputs.shape[a] for a in axes)
                _, variance = keras.ops.moments(inputs, axes)
                # Keras added (1-m)*biased; unbiased = biased * n/(n-1) = biased + biased/(n-1).
                self.moving_variance.assign_add((1.0 - self.momentum) * variance / (count - 1))
            return outputs

    return UnbiasedBatchNormalization


def _keras_batchnorm(keras, published, name, eps=1e-5, momentum=0.1):
    """The Keras twin of torch BatchNorm2d(eps=eps, momentum=momentum), but for published differences."""
    cls = keras.layers.BatchNormalization if "bn_running_variance" in published else _unbiased_batchnorm(keras)
    options = {}
    if "bn_epsilon" not in published:
        options["epsilon"] = eps
    if "bn_momentum" not in published:
        options["momentum"] = 1.0 - momentum
    return cls(name=name, **options)


def _labels(params):
    import numpy as np

    batch, classes = params["inputs"][0]
    return np.random.default_rng(params["seed"] + 2).integers(0, classes, batch)


# --- convolutions ---------------------------------------------------------------------------

@st.composite
def _conv_params(draw):
    groups = draw(st.sampled_from([1, 2]))
    dilation = draw(st.integers(1, 2))
    stride = 1 if dilation > 1 else draw(st.integers(1, 3))  # Keras rejects dilation with stride
    padding = draw(st.sampled_from(["valid", "explicit"] + (["same"] if stride == 1 else [])))
    pad = draw(st.integers(1, 2)) if padding == "explicit" else 0
    kernel = draw(st.integers(1, 5))
    reach = dilation * (kernel - 1) + 1
    shape = _image(draw, min_size=max(1, reach - 2 * pad), max_size=max(8, reach),
                   channels=groups * draw(st.integers(1, 3)))
    return _case(draw, shape, filters=groups * draw(st.integers(1, 3)), kernel=kernel, stride=stride,
                 dilation=dilation, padding=padding, pad=pad, groups=groups, bias=draw(st.booleans()))


def _torch_conv(nn, p, published):
    padding = p["pad"] if p["padding"] == "explicit" else p["padding"]
    return _torch_chain(nn, conv=nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], p["stride"], padding,
                                           p["dilation"], p["groups"], p["bias"]))


def _keras_conv(keras, p, published):
    padding = "valid" if p["padding"] == "explicit" else p["padding"]
    conv = keras.layers.Conv2D(p["filters"], p["kernel"], p["stride"], padding, dilation_rate=p["dilation"],
                               groups=p["groups"], use_bias=p["bias"], name="conv", **_OVERWRITTEN)
    return _keras_chain(keras, p, *([keras.layers.ZeroPadding2D(p["pad"])] if p["pad"] else []), conv)


@st.composite
def _same_stride2_params(draw):
    # Even sizes: there TF's `same` pads asymmetrically; odd sizes pad as torch does.
    size = st.integers(2, 6).map(lambda n: 2 * n)
    shape = (draw(st.integers(1, 3)), draw(size), draw(size), draw(st.integers(1, 4)))
    return _case(draw, shape, filters=draw(st.integers(1, 4)), kernel=draw(st.sampled_from([3, 5])))


def _torch_same_stride2(nn, p, published):
    return _torch_chain(nn, conv=nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], 2, p["kernel"] // 2))


def _keras_same_stride2(keras, p, published):
    if "same_padding_stride2" in published:
        return _keras_chain(keras, p, keras.layers.Conv2D(p["filters"], p["kernel"], 2, "same", name="conv",
                                                          **_OVERWRITTEN))
    return _keras_chain(keras, p, keras.layers.ZeroPadding2D(p["kernel"] // 2),
                        keras.layers.Conv2D(p["filters"], p["kernel"], 2, "valid", name="conv", **_OVERWRITTEN))


@st.composite
def _depthwise_params(draw):
    stride = draw(st.integers(1, 2))
    kernel = draw(st.integers(1, 3))
    shape = _image(draw, min_size=kernel, channels=draw(st.integers(1, 4)))
    return _case(draw, shape, kernel=kernel, stride=stride, multiplier=draw(st.integers(1, 2)),
                 bias=draw(st.booleans()))


def _torch_depthwise(nn, p, published):
    channels = p["inputs"][0][3]
    return _torch_chain(nn, conv=nn.Conv2d(channels, channels * p["multiplier"], p["kernel"], p["stride"],
                                           groups=channels, bias=p["bias"]))


def _keras_depthwise(keras, p, published):
    return _keras_chain(keras, p, keras.layers.DepthwiseConv2D(p["kernel"], p["stride"],
                                                               depth_multiplier=p["multiplier"],
                                                               use_bias=p["bias"], name="conv"))


# --- dense, normalization, pooling, shape ---------------------------------------------------

@st.composite
def _dense_params(draw):
    return _case(draw, (draw(st.integers(1, 4)), draw(st.integers(1, 64))), units=draw(st.integers(1, 32)),
                 bias=draw(st.booleans()))


@st.composite
def _flatten_dense_params(draw):
    return _case(draw, _image(draw, max_size=4), units=draw(st.integers(1, 16)))


def _torch_flatten_dense(nn, p, published):
    _, h, w, c = p["inputs"][0]
    dense = nn.Linear(h * w * c, p["units"])
    dense.flattened_chw = (c, h, w)  # read by the weight map: Keras flattens H,W,C
    return _torch_chain(nn, flatten=nn.Flatten(), dense=dense)


# Batch statistics over n values: torch refuses n=1, and for n=2 the input gradient is exactly
# zero up to epsilon terms, so its "error" is round-off measured against nothing. Training
# cases keep n >= 8 at every BatchNorm (batch >= 2, and at least 2x2 after a stride of 2).
@st.composite
def _batchnorm_params(draw):
    return _case(draw, _image(draw, min_size=2, min_batch=2))


def _torch_batchnorm_block(nn, p, published):
    return _torch_chain(nn, bn=_torch_batchnorm(nn, p["inputs"][0][3]))


def _keras_batchnorm_block(keras, p, published):
    return _keras_chain(keras, p, _keras_batchnorm(keras, published, "bn"))


@st.composite
def _pool_params(draw):
    pool = draw(st.integers(1, 3))
    return _case(draw, _image(draw, min_size=pool), pool=pool, stride=draw(st.integers(1, 3)))


@st.composite
def _padding_params(draw):
    pads = st.integers(0, 2)
    return _case(draw, _image(draw), top=draw(pads), bottom=draw(pads), left=draw(pads), right=draw(pads))


@st.composite
def _image_params(draw):
    return _case(draw, _image(draw))


@st.composite
def _softmax_params(draw):
    classes = draw(st.integers(2, 12))
    return _case(draw, _image(draw, max_size=4, channels=classes) if draw(st.booleans())
                 else (draw(st.integers(1, 4)), classes))


@st.composite
def _two_images_params(draw, same_channels):
    first = _image(draw)
    second = first if same_channels else (*first[:3], draw(st.integers(1, 6)))
    return _case(draw, first, second)


@st.composite
def _dropout_params(draw, rate):
    return _case(draw, _image(draw), rate=draw(rate))


def _torch_concatenate(nn, p, published):
    import torch

    return _torch_graph(nn, lambda m, x, y: torch.cat([x, y], 1))




# --- compound blocks of the three architectures ---------------------------------------------

@st.composite
def _vgg_params(draw):
    return _case(draw, _image(draw, min_size=2, channels=draw(st.integers(1, 4))),
                 convs=draw(st.integers(1, 3)), filters=draw(st.integers(1, 6)))


def _torch_vgg(nn, p, published):
    layers, channels = OrderedDict(), p["inputs"][0][3]
    for i in range(p["convs"]):
        layers[f"conv{i}"] = nn.Conv2d(channels, p["filters"], 3, padding=1)
        layers[f"relu{i}"] = nn.ReLU()
        channels = p["filters"]
    layers["pool"] = nn.MaxPool2d(2, 2)
    return nn.Sequential(layers)


def _keras_vgg(keras, p, published):
    convs = [keras.layers.Conv2D(p["filters"], 3, padding="same", activation="relu", name=f"conv{i}", **_OVERWRITTEN)
             for i in range(p["convs"])]
    return _keras_chain(keras, p, *convs, keras.layers.MaxPooling2D(2, 2))


@st.composite
def _bottleneck_params(draw):
    # At least two filters: with one, conv3 maps a single channel affinely into each BatchNorm
    # channel, and in training mode BatchNorm is invariant to that map, so conv3's weight gradient
    # is exactly zero and both sides return amplified round-off (a dev-profile draw: 4346 units,
    # max rel 0.9, on a 2x3x3 batch).
    filters, stride = draw(st.integers(2, 3)), draw(st.integers(1, 2))
    shape = _image(draw, min_size=3, min_batch=2, channels=draw(st.integers(1, 8)))
    # A projection shortcut where the identity cannot add up, and sometimes where it could.
    projection = stride == 2 or shape[3] != 4 * filters or draw(st.booleans())
    return _case(draw, shape, filters=filters, stride=stride, projection=projection,
                 training=draw(st.booleans()))


def _bottleneck_torch(v15):
    """torchvision's Bottleneck (v1.5: stride on the 3x3, no conv bias) or Keras's v1 block
    (stride on the first 1x1 and the shortcut, convs with bias, BN eps 1.001e-5)."""
    def build(nn, p, published):
        f, s, cin = p["filters"], p["stride"], p["inputs"][0][3]
        eps, bias = (1e-5, False) if v15 else (1.001e-5, True)
        modules = dict(conv1=nn.Conv2d(cin, f, 1, 1 if v15 else s, bias=bias), bn1=_torch_batchnorm(nn, f, eps),
                       conv2=nn.Conv2d(f, f, 3, s if v15 else 1, 1, bias=bias), bn2=_torch_batchnorm(nn, f, eps),
                       conv3=nn.Conv2d(f, 4 * f, 1, bias=bias), bn3=_torch_batchnorm(nn, 4 * f, eps), relu=nn.ReLU())
        if p["projection"]:
            modules.update(shortcut_conv=nn.Conv2d(cin, 4 * f, 1, s, bias=bias),
                           shortcut_bn=_torch_batchnorm(nn, 4 * f, eps))

        def forward(m, x):
            shortcut = m.shortcut_bn(m.shortcut_conv(x)) if p["projection"] else x
            y = m.relu(m.bn1(m.conv1(x)))
            y = m.relu(m.bn2(m.conv2(y)))
            return m.relu(m.bn3(m.conv3(y)) + shortcut)

        return _torch_graph(nn, forward, **modules)

    return build


def _bottleneck_keras(v15):
    def build(keras, p, published):
        f, s, L = p["filters"], p["stride"], keras.layers
        eps, bias = (1e-5, False) if v15 else (1.001e-5, True)

        def bn(name):
            return _keras_batchnorm(keras, published, name, eps)

        def forward(x):
            shortcut = bn("shortcut_bn")(L.Conv2D(4 * f, 1, s, use_bias=bias, name="shortcut_conv")(x)) \
                if p["projection"] else x
            y = L.ReLU()(bn("bn1")(L.Conv2D(f, 1, 1 if v15 else s, use_bias=bias, name="conv1")(x)))
            # torch pads the 3x3 by one on each side: with stride 2 that is not Keras's `same`.
            y = L.Conv2D(f, 3, s if v15 else 1, use_bias=bias, name="conv2")(L.ZeroPadding2D(1)(y))
            y = L.ReLU()(bn("bn2")(y))
            y = bn("bn3")(L.Conv2D(4 * f, 1, use_bias=bias, name="conv3")(y))
            return L.ReLU()(L.Add()([y, shortcut]))

        return _keras_model(keras, p, forward)

    return build


@st.composite
def _dense_layer_params(draw):
    return _case(draw, _image(draw, min_size=2, min_batch=2, channels=draw(st.integers(1, 8))),
                 growth=draw(st.integers(1, 4)), training=draw(st.booleans()))


def _torch_dense_layer(nn, p, published):
    """torchvision's _DenseLayer: BN-ReLU-1x1 conv (4*growth)-BN-ReLU-3x3 conv (growth), concatenated."""
    import torch

    cin, k = p["inputs"][0][3], p["growth"]
    modules = dict(bn1=_torch_batchnorm(nn, cin), conv1=nn.Conv2d(cin, 4 * k, 1, bias=False),
                   bn2=_torch_batchnorm(nn, 4 * k), conv2=nn.Conv2d(4 * k, k, 3, padding=1, bias=False),
                   relu=nn.ReLU())

    def forward(m, x):
        y = m.conv1(m.relu(m.bn1(x)))
        return torch.cat([x, m.conv2(m.relu(m.bn2(y)))], 1)

    return _torch_graph(nn, forward, **modules)


def _keras_dense_layer(keras, p, published):
    L, k = keras.layers, p["growth"]

    def forward(x):
        y = L.Conv2D(4 * k, 1, use_bias=False, name="conv1")(L.ReLU()(_keras_batchnorm(keras, published, "bn1")(x)))
        y = L.Conv2D(k, 3, padding="same", use_bias=False, name="conv2")(
            L.ReLU()(_keras_batchnorm(keras, published, "bn2")(y)))
        return L.Concatenate()([x, y])

    return _keras_model(keras, p, forward)


@st.composite
def _transition_params(draw):
    return _case(draw, _image(draw, min_size=2, min_batch=2, channels=draw(st.integers(2, 8))),
                 training=draw(st.booleans()))


def _torch_transition(nn, p, published):
    """torchvision's _Transition: BN-ReLU-1x1 conv halving the channels-2x2 average pool."""
    cin = p["inputs"][0][3]
    return _torch_chain(nn, bn=_torch_batchnorm(nn, cin), relu=nn.ReLU(),
                        conv=nn.Conv2d(cin, cin // 2, 1, bias=False), pool=nn.AvgPool2d(2, 2))


def _keras_transition(keras, p, published):
    L, cin = keras.layers, p["inputs"][0][3]
    return _keras_chain(keras, p, _keras_batchnorm(keras, published, "bn"), L.ReLU(),
                        L.Conv2D(cin // 2, 1, use_bias=False, name="conv", **_OVERWRITTEN), L.AveragePooling2D(2, 2))


# --- losses ---------------------------------------------------------------------------------

@st.composite
def _logits_params(draw):
    # Large scales put true-class probabilities under Keras's 1e-7 clip.
    return {"inputs": [(draw(st.integers(1, 8)), draw(st.integers(2, 10)))], "seed": draw(SEEDS),
            "scale": draw(st.sampled_from([1.0, 10.0, 30.0, 100.0]))}


def _torch_cross_entropy(nn, p, published):
    import torch

    labels = torch.from_numpy(_labels(p))
    return _torch_graph(nn, lambda m, x: nn.functional.cross_entropy(x, labels.to(x.device), reduction="none"))


def _keras_cross_entropy_logits(keras, p, published):
    return lambda x, training=False: keras.losses.sparse_categorical_crossentropy(_labels(p), x, from_logits=True)


def _keras_cross_entropy_softmax(keras, p, published):
    def loss(x, training=False):
        probabilities = keras.layers.Softmax()(x)
        if "softmax_loss_clipping" in published:
            # Any op between softmax and loss (a copy here, a cast under mixed precision) drops
            # the logits Keras keeps on the softmax output, and Keras then clips.
            probabilities = keras.ops.copy(probabilities)
        return keras.losses.sparse_categorical_crossentropy(_labels(p), probabilities)

    return loss


# --- the registry ---------------------------------------------------------------------------

def _weightless(torch_layer, keras_layer):
    """A block of one layer without weights: (nn, params) -> module and (keras.layers, params) -> layer."""
    return (lambda nn, p, published: torch_layer(nn, p),
            lambda keras, p, published: _keras_chain(keras, p, keras_layer(keras.layers, p)))


DROPOUT = _weightless(lambda nn, p: nn.Dropout(p["rate"]), lambda L, p: L.Dropout(p["rate"]))
BLOCKS = (
    # Sums of products, measured against their terms (forward_scale): against the output itself a thorough
    # draw reached 81.5 units (dense, 51 inputs into one unit at scale 0.1, max abs 2.1e-8 on an output
    # that cancelled to 2.1e-3) and vgg_conv_block 106.6 (max abs 6.4e-9 on 5e-4). Their gradients too
    # (gradient_scale): against the largest gradient, four thorough runs reached 21.5 (dense) and 19.9
    # (conv2d_depthwise) of 32; against their terms, densenet_transition's 45.9 measured 1.5.
    Block("conv2d", _conv_params(), _torch_conv, _keras_conv, forward_scale="terms", gradient_scale="terms"),
    Block("conv2d_same_stride2", _same_stride2_params(), _torch_same_stride2, _keras_same_stride2,
          differences=("same_padding_stride2",), forward_scale="terms", gradient_scale="terms"),
    Block("conv2d_depthwise", _depthwise_params(), _torch_depthwise, _keras_depthwise, forward_scale="terms",
          gradient_scale="terms"),
    Block("dense", _dense_params(),
          lambda nn, p, published: _torch_chain(nn, dense=nn.Linear(p["inputs"][0][1], p["units"], p["bias"])),
          lambda keras, p, published: _keras_chain(keras, p, keras.layers.Dense(p["units"], use_bias=p["bias"],
                                                                                name="dense", **_OVERWRITTEN)),
          forward_scale="terms", gradient_scale="terms"),
    Block("flatten_dense", _flatten_dense_params(), _torch_flatten_dense,
          lambda keras, p, published: _keras_chain(keras, p, keras.layers.Flatten(),
                                                   keras.layers.Dense(p["units"], name="dense", **_OVERWRITTEN)),
          forward_scale="terms", gradient_scale="terms"),
    Block("batchnorm_eval", _batchnorm_params(), _torch_batchnorm_block, _keras_batchnorm_block,
          differences=("bn_epsilon",)),
    Block("batchnorm_train", _batchnorm_params(), _torch_batchnorm_block, _keras_batchnorm_block,
          differences=("bn_epsilon", "bn_momentum", "bn_running_variance"), training=True),
    Block("maxpool", _pool_params(), *_weightless(lambda nn, p: nn.MaxPool2d(p["pool"], p["stride"]),
                                                  lambda L, p: L.MaxPooling2D(p["pool"], p["stride"]))),
    # Means: sums of inputs, against their terms as well (a thorough draw: 36 values whose mean
    # cancelled to 7.4e-4, 75.3 units of it apart; 0.07 units of the mean of |inputs|).
    Block("avgpool", _pool_params(), *_weightless(lambda nn, p: nn.AvgPool2d(p["pool"], p["stride"]),
                                                  lambda L, p: L.AveragePooling2D(p["pool"], p["stride"])),
          forward_scale="terms"),
    Block("global_avgpool", _image_params(),
          *_weightless(lambda nn, p: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                       lambda L, p: L.GlobalAveragePooling2D()), forward_scale="terms"),
    Block("zeropadding", _padding_params(),
          *_weightless(lambda nn, p: nn.ZeroPad2d((p["left"], p["right"], p["top"], p["bottom"])),
                       lambda L, p: L.ZeroPadding2D(((p["top"], p["bottom"]), (p["left"], p["right"]))))),
    Block("relu", _image_params(), *_weightless(lambda nn, p: nn.ReLU(), lambda L, p: L.ReLU())),
    # Channels are torch's dim 1 and Keras's last axis.
    # Its input gradient p * (g - <p, g>) cancels where one class takes nearly all the
    # probability: round-off of |g| against a tiny result, so errors are measured against |g|.
    # Against the result itself, 150 random examples reached 82.8 units, but a later draw of
    # logits scaled by 10 reached 2258 (max abs 5.9e-8 on a result of 2.2e-4). Against |g|: worst
    # 1.4 units over 300 examples (thorough profile), under the default gradient tolerance.
    Block("softmax", _softmax_params(),
          *_weightless(lambda nn, p: nn.Softmax(dim=1 if len(p["inputs"][0]) == 4 else -1),
                       lambda L, p: L.Softmax(axis=-1)), gradient_scale="cotangent"),
    Block("add", _two_images_params(same_channels=True),
          lambda nn, p, published: _torch_graph(nn, lambda m, x, y: x + y),
          lambda keras, p, published: _keras_model(keras, p, lambda x, y: keras.layers.Add()([x, y]))),
    Block("concatenate", _two_images_params(same_channels=False), _torch_concatenate,
          lambda keras, p, published: _keras_model(keras, p, lambda x, y: keras.layers.Concatenate()([x, y]))),
    Block("dropout_inference", _dropout_params(st.floats(0.0, 0.9)), *DROPOUT),
    Block("dropout_train_p0", _dropout_params(st.just(0.0)), *DROPOUT, training=True),
    Block("vgg_conv_block", _vgg_params(), _torch_vgg, _keras_vgg, forward_scale="terms", gradient_scale="terms"),
    # v1's conv biases sit before training-mode BatchNorms, which subtract them again: with
    # inputs at scale 0.1 a bias is 10-100x the spread it is subtracted from, and round-off
    # grows by that ratio. Measured worst: forward 118.7, gradients 430.8 units (a later thorough
    # run: 756.3, against the largest gradient).
    Block("resnet_bottleneck_v1", _bottleneck_params(), _bottleneck_torch(v15=False), _bottleneck_keras(v15=False),
          tolerance=Tolerance(forward=256.0, gradients=1024.0), gradient_scale="terms"),
    # Input gradients of training-mode BatchNorm over 8 values per channel (after stride 2)
    # cancel in the same way. Measured worst: gradients 43.8 units (a later thorough run: 98.0,
    # against the largest gradient).
    Block("resnet_bottleneck_v1_5", _bottleneck_params(), _bottleneck_torch(v15=True), _bottleneck_keras(v15=True),
          tolerance=Tolerance(gradients=128.0), gradient_scale="terms"),
    Block("densenet_dense_layer", _dense_layer_params(), _torch_dense_layer, _keras_dense_layer,
          gradient_scale="terms"),
    Block("densenet_transition", _transition_params(), _torch_transition, _keras_transition,
          gradient_scale="terms"),
    # The logits' gradient (softmax(z) - onehot) / n cancels to denormals where the right class
    # takes all the probability (a dev-profile draw: max abs 9.6e-43 on both sides, 8.4e6 units
    # against that result): like softmax, measured against the cotangent. Worst over 300 examples
    # (thorough profile): 0.96 units from logits, 1.36 from the softmax.
    # The loss itself, logsumexp(z) - z_y, against the logits: a thorough draw (logits scaled by 10)
    # gave a loss of 6.9e-3 from terms near 20, 142.8 units of the loss apart, 0.05 of the logits.
    Block("cross_entropy_logits", _logits_params(), _torch_cross_entropy, _keras_cross_entropy_logits,
          gradient_scale="cotangent", forward_scale="inputs"),
    Block("cross_entropy_softmax", _logits_params(), _torch_cross_entropy, _keras_cross_entropy_softmax,
          differences=("softmax_loss_clipping",), gradient_scale="cotangent", forward_scale="inputs"),
)
REGISTRY = {block.name: block for block in BLOCKS}

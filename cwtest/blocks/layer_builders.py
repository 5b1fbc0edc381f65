"""How torch and Keras build each block of the layer registry (cwtest.blocks.layers) from one parameter set.

Builders get the framework passed in (`torch.nn`, `keras`) and `published`, the set of differences to
leave in their published form; everything else is harmonized. Torch modules name their weighted
submodules as the Keras layers are named: that pairs them (cwtest.blocks.layer_parity.keras_layout; the
layouts are cwtest.models.transfer.keras_kernel's). Nothing here imports torch or TensorFlow.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict

# --- shared pieces --------------------------------------------------------------------------------

def torch_graph(nn, forward, **modules):
    """A module whose submodules have the given names (the Keras layer names) and the given forward."""
    import types

    graph = nn.ModuleDict(modules)
    # A method bound to the graph, not a closure over it: copy.deepcopy rebinds a method to the
    # copy, so a copy moved to another device computes with its own weights.
    graph.forward = types.MethodType(forward, graph)
    return graph


def torch_chain(nn, **modules):
    return nn.Sequential(OrderedDict(modules))


def keras_model(keras, params, forward):
    inputs = [keras.Input(shape[1:], batch_size=shape[0]) for shape in params["inputs"]]
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], forward(*inputs))


# Keras's initial weights are overwritten with torch's (layer_parity.build_pair): a constant
# initializer skips random draws that were a quarter of a Keras layer's construction.
OVERWRITTEN = {"kernel_initializer": "zeros", "bias_initializer": "zeros"}


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

    @property
    def trainable_weights(self) -> list:
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def __call__(self, x, training: bool = False):
        return functools.reduce(lambda y, layer: layer(y, training=training), self.layers, x)


def keras_chain(keras, params, *layers):
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


# --- convolutions ---------------------------------------------------------------------------------

def torch_conv(nn, p, published):
    padding = p["pad"] if p["padding"] == "explicit" else p["padding"]
    return torch_chain(nn, conv=nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], p["stride"], padding,
                                           p["dilation"], p["groups"], p["bias"]))


def keras_conv(keras, p, published):
    padding = "valid" if p["padding"] == "explicit" else p["padding"]
    conv = keras.layers.Conv2D(p["filters"], p["kernel"], p["stride"], padding, dilation_rate=p["dilation"],
                               groups=p["groups"], use_bias=p["bias"], name="conv", **OVERWRITTEN)
    return keras_chain(keras, p, *([keras.layers.ZeroPadding2D(p["pad"])] if p["pad"] else []), conv)


def torch_same_stride2(nn, p, published):
    return torch_chain(nn, conv=nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], 2, p["kernel"] // 2))


def keras_same_stride2(keras, p, published):
    if "same_padding_stride2" in published:
        return keras_chain(keras, p, keras.layers.Conv2D(p["filters"], p["kernel"], 2, "same", name="conv",
                                                          **OVERWRITTEN))
    return keras_chain(keras, p, keras.layers.ZeroPadding2D(p["kernel"] // 2),
                        keras.layers.Conv2D(p["filters"], p["kernel"], 2, "valid", name="conv", **OVERWRITTEN))


def torch_depthwise(nn, p, published):
    channels = p["inputs"][0][3]
    return torch_chain(nn, conv=nn.Conv2d(channels, channels * p["multiplier"], p["kernel"], p["stride"],
                                           groups=channels, bias=p["bias"]))


def keras_depthwise(keras, p, published):
    return keras_chain(keras, p, keras.layers.DepthwiseConv2D(p["kernel"], p["stride"],
                                                               depth_multiplier=p["multiplier"],
                                                               use_bias=p["bias"], name="conv"))


# --- dense, normalization, pooling, shape ---------------------------------------------------------

def torch_flatten_dense(nn, p, published):
    _, h, w, c = p["inputs"][0]
    dense = nn.Linear(h * w * c, p["units"])
    dense.flattened_chw = (c, h, w)  # read by the weight map: Keras flattens H,W,C
    return torch_chain(nn, flatten=nn.Flatten(), dense=dense)


def torch_batchnorm_block(nn, p, published):
    return torch_chain(nn, bn=_torch_batchnorm(nn, p["inputs"][0][3]))


def keras_batchnorm_block(keras, p, published):
    return keras_chain(keras, p, _keras_batchnorm(keras, published, "bn"))


def torch_concatenate(nn, p, published):
    import torch

    return torch_graph(nn, lambda m, x, y: torch.cat([x, y], 1))


# --- compound blocks of the three architectures ---------------------------------------------------

def torch_vgg(nn, p, published):
    layers, channels = OrderedDict(), p["inputs"][0][3]
    for i in range(p["convs"]):
        layers[f"conv{i}"] = nn.Conv2d(channels, p["filters"], 3, padding=1)
        layers[f"relu{i}"] = nn.ReLU()
        channels = p["filters"]
    layers["pool"] = nn.MaxPool2d(2, 2)
    return nn.Sequential(layers)


def keras_vgg(keras, p, published):
    convs = [keras.layers.Conv2D(p["filters"], 3, padding="same", activation="relu", name=f"conv{i}", **OVERWRITTEN)
             for i in range(p["convs"])]
    return keras_chain(keras, p, *convs, keras.layers.MaxPooling2D(2, 2))


def bottleneck_torch(v15):
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

        return torch_graph(nn, forward, **modules)

    return build


def bottleneck_keras(v15):
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

        return keras_model(keras, p, forward)

    return build


def torch_dense_layer(nn, p, published):
    """torchvision's _DenseLayer: BN-ReLU-1x1 conv (4*growth)-BN-ReLU-3x3 conv (growth), concatenated."""
    import torch

    cin, k = p["inputs"][0][3], p["growth"]
    modules = dict(bn1=_torch_batchnorm(nn, cin), conv1=nn.Conv2d(cin, 4 * k, 1, bias=False),
                   bn2=_torch_batchnorm(nn, 4 * k), conv2=nn.Conv2d(4 * k, k, 3, padding=1, bias=False),
                   relu=nn.ReLU())

    def forward(m, x):
        y = m.conv1(m.relu(m.bn1(x)))
        return torch.cat([x, m.conv2(m.relu(m.bn2(y)))], 1)

    return torch_graph(nn, forward, **modules)


def keras_dense_layer(keras, p, published):
    L, k = keras.layers, p["growth"]

    def forward(x):
        y = L.Conv2D(4 * k, 1, use_bias=False, name="conv1")(L.ReLU()(_keras_batchnorm(keras, published, "bn1")(x)))
        y = L.Conv2D(k, 3, padding="same", use_bias=False, name="conv2")(
            L.ReLU()(_keras_batchnorm(keras, published, "bn2")(y)))
        return L.Concatenate()([x, y])

    return keras_model(keras, p, forward)


def torch_transition(nn, p, published):
    """torchvision's _Transition: BN-ReLU-1x1 conv halving the channels-2x2 average pool."""
    cin = p["inputs"][0][3]
    return torch_chain(nn, bn=_torch_batchnorm(nn, cin), relu=nn.ReLU(),
                        conv=nn.Conv2d(cin, cin // 2, 1, bias=False), pool=nn.AvgPool2d(2, 2))


def keras_transition(keras, p, published):
    L, cin = keras.layers, p["inputs"][0][3]
    return keras_chain(keras, p, _keras_batchnorm(keras, published, "bn"), L.ReLU(),
                        L.Conv2D(cin // 2, 1, use_bias=False, name="conv", **OVERWRITTEN), L.AveragePooling2D(2, 2))


# --- losses ---------------------------------------------------------------------------------------

def torch_cross_entropy(nn, p, published):
    import torch

    labels = torch.from_numpy(_labels(p))
    return torch_graph(nn, lambda m, x: nn.functional.cross_entropy(x, labels.to(x.device), reduction="none"))


def keras_cross_entropy_logits(keras, p, published):
    return lambda x, training=False: keras.losses.sparse_categorical_crossentropy(_labels(p), x, from_logits=True)


def keras_cross_entropy_softmax(keras, p, published):
    def loss(x, training=False):
        probabilities = keras.layers.Softmax()(x)
        if "softmax_loss_clipping" in published:
            # Any op between softmax and loss (a copy here, a cast under mixed precision) drops
            # the logits Keras keeps on the softmax output, and Keras then clips.
            probabilities = keras.ops.copy(probabilities)
        return keras.losses.sparse_categorical_crossentropy(_labels(p), probabilities)

    return loss

"""How Keras builds each block of the layer registry (cwtest.registries.layers) and each optimizer of the
optimizer registry (cwtest.registries.optimizers), under the keys the entries name (BUILDERS, OPTIMIZERS), on
whichever Keras backend this process runs.

Builders get `keras` passed in and `kept`, the set of differences to leave as the frameworks ship them;
everything else is harmonized. Layers are named as torch's submodules (cwtest.adapters.torch.blocks).
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

from cwtest.core.keyed import Builders
from cwtest.registries.differences import DIFFERENCES
from cwtest.registries.layer_strategies import dtype_of, labels_for, rmsnorm_epsilon, targets_for

BUILDERS = Builders()  # the layer registry's keys (cwtest.registries.layers: Block.builds) -> builders
OPTIMIZERS = Builders()  # the optimizer registry's keys (cwtest.registries.optimizers: Optimizer.builds) -> builders


def functional(keras, params, forward):
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


def chain(keras, params, *layers):
    """The layers one after another on the case's NHWC input; layers of a channels-first case (its
    `data_format`) get the input transposed to NCHW and give their output back as NHWC."""
    (shape,) = params["inputs"]
    if params.get("data_format") == "channels_first":
        layers = (keras.layers.Permute((3, 1, 2)), *layers, keras.layers.Permute((2, 3, 1)))
    return _KerasChain(shape, layers)


def _two_pass_moments(keras, inputs, axes):
    """The batch mean and the variance around it, the mean subtracted first, as torch computes them."""
    ops = keras.ops
    mean = ops.mean(inputs, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(inputs - ops.stop_gradient(mean)), axis=axes, keepdims=True)
    return ops.squeeze(mean, axes), ops.squeeze(variance, axes)


@functools.cache
def _torch_like_batchnorm(keras, unbiased_update: bool, two_pass: bool):
    ops = keras.ops

    class TorchLikeBatchNormalization(keras.layers.BatchNormalization):
        """Keras's BatchNormalization, updating the moving variance with the unbiased batch variance as
        torch does (unbiased_update), and computing the batch variance in two passes (two_pass)."""

        def _moments(self, inputs, mask):
            if not two_pass or mask is not None:
                return super()._moments(inputs, mask)
            return _two_pass_moments(keras, inputs, self._reduction_axes)

        def call(self, inputs, training=None, mask=None):
            if not (unbiased_update and training and self.trainable):
                return super().call(inputs, training=training, mask=mask)
            # Keras's update, m * moving + (1 - m) * biased, made again with the unbiased variance (biased * n/(n-1)),
            # from the moving variance before the call, computed as Keras computes its own: in float32 (a half
            # layer's inputs upcast) and rounded once to the variable's type. Adding the difference to Keras's
            # result instead rounded twice, and in a half layer took the variance of the half inputs.
            kept = ops.cast(self.moving_variance, "float32") * self.momentum  # a new tensor: the value before
            outputs = super().call(inputs, training=training, mask=mask)
            count = math.prod(inputs.shape[a] for a in self._reduction_axes)
            _, variance = self._moments(ops.cast(inputs, "float32"), mask)
            self.moving_variance.assign(kept + variance * (count / (count - 1) * (1.0 - self.momentum)))
            return outputs

    return TorchLikeBatchNormalization


def _keras_batchnorm(keras, kept, name, eps=1e-5, momentum=0.1, affine=True, axis=-1, center=True):
    """The Keras twin of torch BatchNorm2d(eps=eps, momentum=momentum, affine=affine, bias=center), but for kept
    differences."""
    # Two passes only where Keras's own batch variance is one pass: elsewhere the twin runs what Keras ships, so
    # that a release which moved to one pass there would fail instead of being hidden by the harmonization.
    two_pass = ("bn_one_pass_variance" not in kept
                and DIFFERENCES["bn_one_pass_variance"].exists_on(keras.backend.backend()))
    cls = _torch_like_batchnorm(keras, "bn_running_variance" not in kept, two_pass)
    options = {}
    if "bn_epsilon" not in kept:
        options["epsilon"] = eps
    if "bn_momentum" not in kept:
        options["momentum"] = 1.0 - momentum
    return cls(name=name, axis=axis, center=affine and center, scale=affine, **options)


def _format(p) -> str:
    return p.get("data_format", "channels_last")


@BUILDERS("conv2d")
def conv(keras, p, kept):
    padding = "valid" if p["padding"] == "explicit" else p["padding"]
    conv = keras.layers.Conv2D(p["filters"], p["kernel"], p["stride"], padding, data_format=_format(p),
                               dilation_rate=p["dilation"], groups=p["groups"], use_bias=p["bias"], name="conv",
                               **OVERWRITTEN)
    padded = [keras.layers.ZeroPadding2D(p["pad"], data_format=_format(p))] if p["padding"] == "explicit" else []
    return chain(keras, p, *padded, conv)


@BUILDERS("conv1d", "conv3d")
def conv_nd(keras, p, kept):
    layer = keras.layers.Conv1D if len(p["kernel"]) == 1 else keras.layers.Conv3D
    return chain(keras, p, layer(p["filters"], p["kernel"], p["stride"], p["padding"], dilation_rate=p["dilation"],
                                 groups=p["groups"], use_bias=p["bias"], name="conv", **OVERWRITTEN))


@BUILDERS("conv2d_transpose")
def conv_transpose(keras, p, kept):
    return chain(keras, p, keras.layers.Conv2DTranspose(p["filters"], p["kernel"], p["stride"], p["padding"],
                                                        data_format=_format(p), dilation_rate=p["dilation"],
                                                        use_bias=p["bias"], name="conv", **OVERWRITTEN))


@BUILDERS("conv2d_same_stride2")
def same_stride2(keras, p, kept):
    if "same_padding_stride2" in kept:
        return chain(keras, p, keras.layers.Conv2D(p["filters"], p["kernel"], 2, "same", use_bias=p["bias"],
                                                          name="conv", **OVERWRITTEN))
    return chain(keras, p, keras.layers.ZeroPadding2D(p["kernel"] // 2),
                        keras.layers.Conv2D(p["filters"], p["kernel"], 2, "valid", use_bias=p["bias"], name="conv",
                                            **OVERWRITTEN))


@BUILDERS("conv2d_depthwise")
def depthwise(keras, p, kept):
    return chain(keras, p, keras.layers.DepthwiseConv2D(p["kernel"], p["stride"], p["padding"],
                                                        depth_multiplier=p["multiplier"], data_format=_format(p),
                                                        dilation_rate=p["dilation"], use_bias=p["bias"],
                                                        name="conv"))


@BUILDERS("batchnorm", "batchnorm_nd")
def batchnorm_block(keras, p, kept):
    # None: torch's default, which the harmonized twin gives Keras (a kept difference leaves Keras's own).
    eps = 1e-5 if p["epsilon"] is None else p["epsilon"]
    momentum = 0.1 if p["momentum"] is None else p["momentum"]
    axis = 1 if _format(p) == "channels_first" else -1
    return chain(keras, p, _keras_batchnorm(keras, kept, "bn", eps, momentum, p["affine"], axis, p.get("center", True)))


def _norm_options(p, kept, difference: str) -> dict:
    """A layer or group normalization's epsilon (torch's default where none was drawn; Keras's own default where
    `difference` is kept), scale and offset."""
    epsilon = {} if difference in kept else {"epsilon": 1e-5 if p["epsilon"] is None else p["epsilon"]}
    return {"center": p["affine"] and p["center"], "scale": p["affine"], "name": "norm", **epsilon}


@BUILDERS("layernorm")
def layernorm(keras, p, kept):
    axis = -1 if p["axes"] == 1 else list(range(-p["axes"], 0))
    return chain(keras, p, keras.layers.LayerNormalization(axis, **_norm_options(p, kept, "layernorm_epsilon")))


@BUILDERS("rmsnorm")
def rmsnorm(keras, p, kept):
    axis = -1 if p["axes"] == 1 else list(range(-p["axes"], 0))
    epsilon = {} if "rmsnorm_epsilon" in kept else {"epsilon": rmsnorm_epsilon(p)}  # {}: Keras's default, 1e-6
    return chain(keras, p, keras.layers.RMSNormalization(axis, name="norm", **epsilon))


@BUILDERS("groupnorm")
def groupnorm(keras, p, kept):
    axis = 1 if _format(p) == "channels_first" else -1
    return chain(keras, p, keras.layers.GroupNormalization(p["groups"], axis,
                                                           **_norm_options(p, kept, "groupnorm_epsilon")))


@BUILDERS("vgg_conv_block")
def vgg(keras, p, kept):
    convs = [keras.layers.Conv2D(p["filters"], 3, padding="same", activation="relu", name=f"conv{i}", **OVERWRITTEN)
             for i in range(p["convs"])]
    return chain(keras, p, *convs, keras.layers.MaxPooling2D(2, 2))


def bottleneck(v15):
    def build(keras, p, kept):
        f, s, L = p["filters"], p["stride"], keras.layers
        eps, bias = (1e-5, False) if v15 else (1.001e-5, True)

        def bn(name):
            return _keras_batchnorm(keras, kept, name, eps)

        def forward(x):
            shortcut = bn("shortcut_bn")(L.Conv2D(4 * f, 1, s, use_bias=bias, name="shortcut_conv")(x)) \
                if p["projection"] else x
            y = L.ReLU()(bn("bn1")(L.Conv2D(f, 1, 1 if v15 else s, use_bias=bias, name="conv1")(x)))
            # torch pads the 3x3 by one on each side: with stride 2 that is not Keras's `same`.
            y = L.Conv2D(f, 3, s if v15 else 1, use_bias=bias, name="conv2")(L.ZeroPadding2D(1)(y))
            y = L.ReLU()(bn("bn2")(y))
            y = bn("bn3")(L.Conv2D(4 * f, 1, use_bias=bias, name="conv3")(y))
            return L.ReLU()(L.Add()([y, shortcut]))

        return functional(keras, p, forward)

    return build


@BUILDERS("densenet_dense_layer")
def dense_layer(keras, p, kept):
    L, k = keras.layers, p["growth"]

    def forward(x):
        y = L.Conv2D(4 * k, 1, use_bias=False, name="conv1")(L.ReLU()(_keras_batchnorm(keras, kept, "bn1")(x)))
        y = L.Conv2D(k, 3, padding="same", use_bias=False, name="conv2")(
            L.ReLU()(_keras_batchnorm(keras, kept, "bn2")(y)))
        return L.Concatenate()([x, y])

    return functional(keras, p, forward)


@BUILDERS("densenet_transition")
def transition(keras, p, kept):
    L, cin = keras.layers, p["inputs"][0][3]
    return chain(keras, p, _keras_batchnorm(keras, kept, "bn"), L.ReLU(),
                        L.Conv2D(cin // 2, 1, use_bias=False, name="conv", **OVERWRITTEN), L.AveragePooling2D(2, 2))


# A loss is a function, not a layer: no dtype policy casts its logits to a half case's type, so it does.
@BUILDERS("cross_entropy_logits")
def cross_entropy_logits(keras, p, kept):
    return lambda x, training=False: keras.losses.sparse_categorical_crossentropy(
        labels_for(p), keras.ops.cast(x, dtype_of(p)), from_logits=True)


@BUILDERS("cross_entropy_softmax")
def cross_entropy_softmax(keras, p, kept):
    def loss(x, training=False):
        probabilities = keras.layers.Softmax(dtype=dtype_of(p))(x)  # made at the call: the policy is not the build's
        if "softmax_loss_clipping" in kept:
            # Any op between softmax and loss (a copy here, a cast under mixed precision) drops
            # the logits Keras keeps on the softmax output, and Keras then clips.
            probabilities = keras.ops.copy(probabilities)
        return keras.losses.sparse_categorical_crossentropy(labels_for(p), probabilities)

    return loss


def _loss(keras, p, loss):
    """A function computing each row's loss of its input, cast to the case's type, against the case's targets."""
    targets = targets_for(p)
    return lambda x, training=False: loss(targets, keras.ops.cast(x, dtype_of(p)))


@BUILDERS("mse")
def mse(keras, p, kept):
    return _loss(keras, p, keras.losses.mean_squared_error)


@BUILDERS("mae")
def mae(keras, p, kept):
    if "mae_gradient_at_zero" in kept:
        return _loss(keras, p, keras.losses.mean_absolute_error)

    def torch_like(y, x):  # torch's gradient at a prediction on its target: sign(0) = 0
        difference = x - keras.ops.convert_to_tensor(y, dtype=x.dtype)  # as Keras's own: the targets in x's type
        return keras.ops.mean(keras.ops.sign(difference) * difference, axis=-1)

    return _loss(keras, p, torch_like)


@BUILDERS("huber", "smooth_l1")
def huber(keras, p, kept):
    return _loss(keras, p, lambda y, x: keras.losses.huber(y, x, delta=p["delta"]))


@BUILDERS("binary_cross_entropy")
def binary_cross_entropy(keras, p, kept):
    return _loss(keras, p, lambda y, x: keras.losses.binary_crossentropy(
        y, x, from_logits=True, label_smoothing=p["label_smoothing"]))


@BUILDERS("cross_entropy_smoothing")
def cross_entropy_smoothing(keras, p, kept):
    classes = p["inputs"][0][1]
    onehot = np.eye(classes, dtype=np.float32)[labels_for(p)]
    return lambda x, training=False: keras.losses.categorical_crossentropy(
        onehot, keras.ops.cast(x, dtype_of(p)), from_logits=True, label_smoothing=p["label_smoothing"])


@BUILDERS("kl_divergence")
def kl_divergence(keras, p, kept):
    return _loss(keras, p, lambda y, x: keras.losses.kl_divergence(y, keras.ops.softmax(x)))


# --- optimizers (cwtest.registries.optimizers) ---------------------------------------------------------

@OPTIMIZERS("adam")
def adam(keras, p, kept):
    return keras.optimizers.Adam(p["lr"], p["beta1"], p["beta2"], p["eps"], weight_decay=p["weight_decay"])


@OPTIMIZERS("sgd")
def sgd(keras, p, kept):
    return keras.optimizers.SGD(p["lr"], momentum=p["momentum"], nesterov=p["nesterov"])


@OPTIMIZERS("adamw")
def adamw(keras, p, kept):
    decay = 0.004 if "adamw_default_weight_decay" in kept else p["weight_decay"]  # Keras's default
    return keras.optimizers.AdamW(p["lr"], decay, p["beta1"], p["beta2"], p["eps"])


@OPTIMIZERS("rmsprop")
def rmsprop(keras, p, kept):
    return keras.optimizers.RMSprop(p["lr"], rho=0.9 if "rmsprop_rho" in kept else p["rho"], momentum=p["momentum"],
                                    epsilon=p["eps"] if "sqrt_epsilon_placement" in kept else 0.0,
                                    centered=p["centered"])


@OPTIMIZERS("adagrad")
def adagrad(keras, p, kept):
    return keras.optimizers.Adagrad(
        p["lr"], initial_accumulator_value=0.1 if "adagrad_initial_accumulator" in kept else p["initial_accumulator"],
        epsilon=p["eps"] if "sqrt_epsilon_placement" in kept else 0.0)


@OPTIMIZERS("adadelta")
def adadelta(keras, p, kept):
    defaults = "adadelta_defaults" in kept  # Keras's: learning_rate 0.001, rho 0.95, epsilon 1e-7
    return keras.optimizers.Adadelta(1e-3 if defaults else p["lr"], rho=0.95 if defaults else p["rho"],
                                     epsilon=1e-7 if defaults else p["eps"])


@OPTIMIZERS("adamax")
def adamax(keras, p, kept, eps=None):
    return keras.optimizers.Adamax(p["lr"], p["beta1"], p["beta2"], p["eps"] if eps is None else eps)


@OPTIMIZERS("adamax_small_gradients")
def adamax_small_gradients(keras, p, kept):
    return adamax(keras, p, kept, eps=None if "adamax_epsilon" in kept else 0.0)  # eps added to the maximum


@OPTIMIZERS("nadam")
def nadam(keras, p, kept):
    return keras.optimizers.Nadam(p["lr"], p["beta1"], p["beta2"], p["eps"])


@OPTIMIZERS("adafactor")
def adafactor(keras, p, kept):
    # relative_step caps the learning rate at 1 / sqrt(t), as torch's step always does
    return keras.optimizers.Adafactor(p["lr"], beta_2_decay=p["beta2_decay"], epsilon_2=p["eps2"],
                                      epsilon_1=1e-30 if "adafactor_epsilon1" in kept else 0.0,
                                      clip_threshold=p["clip"], relative_step=True)


@OPTIMIZERS("muon")
def muon(keras, p, kept):
    # Its learning-rate scale (rms_rate 0.2) in every case; it orthogonalizes in the variable's type, float32.
    decay = 0.004 if "muon_default_weight_decay" in kept else p["weight_decay"]  # Keras's default
    return keras.optimizers.Muon(p["lr"], weight_decay=decay, momentum=p["momentum"], nesterov=p["nesterov"], ns_steps=5)


@BUILDERS("dense")
def dense(keras, p, kept):
    return chain(keras, p, keras.layers.Dense(p["units"], use_bias=p["bias"], name="dense", **OVERWRITTEN))


@BUILDERS("flatten_dense")
def flatten_dense(keras, p, kept):
    return chain(keras, p, keras.layers.Flatten(),
                 keras.layers.Dense(p["units"], use_bias=p["bias"], name="dense", **OVERWRITTEN))


@BUILDERS("add")
def add(keras, p, kept):
    return functional(keras, p, lambda x, y: keras.layers.Add()([x, y]))


@BUILDERS("concatenate")
def concatenate(keras, p, kept):
    return functional(keras, p, lambda x, y: keras.layers.Concatenate()([x, y]))


@BUILDERS("global_avgpool")
def global_avgpool(keras, p, kept):
    pool = keras.layers.GlobalAveragePooling2D(_format(p), keepdims=p["keepdims"])
    if _format(p) == "channels_first" and not p["keepdims"]:
        # (N, C) out: the input transposed to NCHW, and no image to transpose back
        return _KerasChain(p["inputs"][0], [keras.layers.Permute((3, 1, 2)), pool])
    return chain(keras, p, pool)


def one_layer(make: Callable) -> Callable:
    """A block of one Keras layer without weights, `make(keras.layers, params)`."""
    return lambda keras, p, kept: chain(keras, p, make(keras.layers, p))


BUILDERS("maxpool")(one_layer(lambda L, p: L.MaxPooling2D(p["pool"], p["stride"], p["padding"], _format(p))))
BUILDERS("avgpool")(one_layer(lambda L, p: L.AveragePooling2D(p["pool"], p["stride"], p["padding"], _format(p))))
BUILDERS("zeropadding")(one_layer(lambda L, p: L.ZeroPadding2D(((p["top"], p["bottom"]), (p["left"], p["right"])),
                                                               _format(p))))
BUILDERS("cropping2d")(one_layer(lambda L, p: L.Cropping2D(((p["top"], p["bottom"]), (p["left"], p["right"])),
                                                             _format(p))))
BUILDERS("upsampling2d")(one_layer(lambda L, p: L.UpSampling2D(p["size"], _format(p), p["interpolation"])))
BUILDERS("resize")(one_layer(lambda L, p: L.Resizing(p["height"], p["width"], p["interpolation"],
                                                    data_format=_format(p))))


@BUILDERS("flatten")
def flatten(keras, p, kept):
    # Channels first: Keras's Flatten moves them last before flattening (its data_format), so a model moved between
    # the two formats keeps its Dense weights. The input is transposed to NCHW and no image comes out.
    layers = [keras.layers.Flatten(_format(p))]
    if _format(p) == "channels_first":
        layers.insert(0, keras.layers.Permute((3, 1, 2)))
    return _KerasChain(p["inputs"][0], layers)


BUILDERS("relu")(one_layer(lambda L, p: L.ReLU()))
BUILDERS("softmax")(one_layer(lambda L, p: L.Softmax(axis=p["axis"])))
BUILDERS("dropout")(one_layer(lambda L, p: L.Dropout(p["rate"])))


def activation(function: Callable) -> Callable:
    """A block of one keras.layers.Activation, `function(keras, params, kept)` giving the function it applies."""
    return lambda keras, p, kept: chain(keras, p, keras.layers.Activation(function(keras, p, kept)))


BUILDERS("log_softmax")(activation(lambda keras, p, kept: functools.partial(keras.activations.log_softmax,
                                                                            axis=p["axis"])))


@BUILDERS("leaky_relu")
def leaky_relu(keras, p, kept):
    # A kept leaky_relu_negative_slope compares the frameworks' defaults, whatever was drawn.
    layer = keras.layers.LeakyReLU() if "leaky_relu_negative_slope" in kept else \
        keras.layers.LeakyReLU(negative_slope=p["negative_slope"])
    if "leaky_relu_gradient_at_zero" in kept:
        return chain(keras, p, layer)
    # torch's gradient at 0 (the slope): the negative side's branch wherever x <= 0
    slope = layer.negative_slope
    return chain(keras, p, keras.layers.Activation(lambda x: keras.ops.where(x > 0, x, slope * x)))


@functools.cache
def _torch_like_prelu(keras):
    class TorchLikePReLU(keras.layers.PReLU):
        """Keras's PReLU with torch's gradient at 0, the slope (the negative side's branch wherever x <= 0): Keras
        computes relu(x) - alpha * relu(-x), whose gradient at 0 is 0."""

        def call(self, inputs):
            return keras.ops.where(inputs > 0, inputs, self.alpha * inputs)

    return TorchLikePReLU


@BUILDERS("prelu")
def prelu(keras, p, kept):
    layer = keras.layers.PReLU if "prelu_gradient_at_zero" in kept else _torch_like_prelu(keras)
    shared = [1, 2, 3] if not p["per_channel"] else ([2, 3] if _format(p) == "channels_first" else [1, 2])
    return chain(keras, p, layer(shared_axes=shared, name="prelu"))


BUILDERS("elu")(one_layer(lambda L, p: L.ELU(alpha=p["alpha"])))
# SELU's constants, as torch.nn.SELU and keras.activations.selu define them.
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


@BUILDERS("selu")
def selu(keras, p, kept):
    if "selu_gradient_at_zero" in kept:
        return chain(keras, p, keras.layers.Activation(keras.activations.selu))
    # torch's gradient at 0 (scale * alpha): the negative side's branch wherever x <= 0. That branch sees 0 where
    # x > 0 (exp of a large x would make its unused gradient inf * 0), and not through a minimum, whose gradient at
    # a tie is split between its arguments on JAX and torch.
    ops = keras.ops

    def selu_torch_like(x):
        negative = ops.where(x > 0, ops.zeros_like(x), x)
        return SELU_SCALE * ops.where(x > 0, x, SELU_ALPHA * ops.expm1(negative))

    return chain(keras, p, keras.layers.Activation(selu_torch_like))


@BUILDERS("gelu")
def gelu(keras, p, kept):
    if "gelu_ops_tanh_default" in kept:  # keras.ops.gelu's default form, as a custom layer calls it
        return chain(keras, p, keras.layers.Activation(keras.ops.gelu))
    return chain(keras, p, keras.layers.Activation(functools.partial(keras.activations.gelu,
                                                                     approximate=p["approximate"])))


BUILDERS("silu")(activation(lambda keras, p, kept: keras.activations.silu))
BUILDERS("mish")(activation(lambda keras, p, kept: keras.activations.mish))
BUILDERS("softplus")(activation(lambda keras, p, kept: keras.activations.softplus))
BUILDERS("softsign")(activation(lambda keras, p, kept: keras.activations.softsign))
BUILDERS("tanh")(activation(lambda keras, p, kept: keras.activations.tanh))
BUILDERS("sigmoid")(activation(lambda keras, p, kept: keras.activations.sigmoid))
BUILDERS("relu6")(activation(lambda keras, p, kept: keras.activations.relu6))
BUILDERS("hard_sigmoid")(activation(lambda keras, p, kept: keras.activations.hard_sigmoid))
BUILDERS("hard_swish")(activation(lambda keras, p, kept: keras.activations.hard_silu))
BUILDERS("resnet_bottleneck_v1")(bottleneck(v15=False))
BUILDERS("resnet_bottleneck_v1_5")(bottleneck(v15=True))

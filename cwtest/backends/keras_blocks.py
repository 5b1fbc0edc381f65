"""How Keras builds each block of the layer registry (cwtest.blocks.layers) from one parameter set, on
whichever Keras backend this process runs.

Builders get `keras` passed in and `published`, the set of differences to leave in their published form;
everything else is harmonized. Layers are named as torch's submodules (cwtest.backends.torch_blocks).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from cwtest.backends import frameworks
from cwtest.backends.keras_backend import differentiate, on, to_numpy, traced
from cwtest.blocks.layer_strategies import labels_for


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
    (shape,) = params["inputs"]
    return _KerasChain(shape, layers)



def _two_pass_moments(keras, inputs, axes):
    """The batch mean and the variance around it, the mean subtracted first, as torch computes them."""
    ops = keras.ops
    mean = ops.mean(inputs, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(inputs - ops.stop_gradient(mean)), axis=axes, keepdims=True)
    return ops.squeeze(mean, axes), ops.squeeze(variance, axes)


@functools.cache
def _torch_like_batchnorm(keras, unbiased_update: bool, two_pass: bool):
    class TorchLikeBatchNormalization(keras.layers.BatchNormalization):
        """Keras's BatchNormalization, updating the moving variance with the unbiased batch variance as
        torch does (unbiased_update), and computing the batch variance in two passes (two_pass)."""

        def _moments(self, inputs, mask):
            if not two_pass or mask is not None:
                return super()._moments(inputs, mask)
            return _two_pass_moments(keras, inputs, self._reduction_axes)

        def call(self, inputs, training=None, mask=None):
            outputs = super().call(inputs, training=training, mask=mask)
            if unbiased_update and training and self.trainable:
                count = math.prod(inputs.shape[a] for a in self._reduction_axes)
                _, variance = self._moments(inputs, mask)
                # Keras added (1-m)*biased; unbiased = biased * n/(n-1) = biased + biased/(n-1).
                self.moving_variance.assign_add((1.0 - self.momentum) * variance / (count - 1))
            return outputs

    return TorchLikeBatchNormalization


def _keras_batchnorm(keras, published, name, eps=1e-5, momentum=0.1):
    """The Keras twin of torch BatchNorm2d(eps=eps, momentum=momentum), but for published differences."""
    cls = _torch_like_batchnorm(keras, "bn_running_variance" not in published, "bn_one_pass_variance" not in published)
    options = {}
    if "bn_epsilon" not in published:
        options["epsilon"] = eps
    if "bn_momentum" not in published:
        options["momentum"] = 1.0 - momentum
    return cls(name=name, **options)



def conv(keras, p, published):
    padding = "valid" if p["padding"] == "explicit" else p["padding"]
    conv = keras.layers.Conv2D(p["filters"], p["kernel"], p["stride"], padding, dilation_rate=p["dilation"],
                               groups=p["groups"], use_bias=p["bias"], name="conv", **OVERWRITTEN)
    return chain(keras, p, *([keras.layers.ZeroPadding2D(p["pad"])] if p["pad"] else []), conv)



def same_stride2(keras, p, published):
    if "same_padding_stride2" in published:
        return chain(keras, p, keras.layers.Conv2D(p["filters"], p["kernel"], 2, "same", name="conv",
                                                          **OVERWRITTEN))
    return chain(keras, p, keras.layers.ZeroPadding2D(p["kernel"] // 2),
                        keras.layers.Conv2D(p["filters"], p["kernel"], 2, "valid", name="conv", **OVERWRITTEN))



def depthwise(keras, p, published):
    return chain(keras, p, keras.layers.DepthwiseConv2D(p["kernel"], p["stride"],
                                                               depth_multiplier=p["multiplier"],
                                                               use_bias=p["bias"], name="conv"))



def batchnorm_block(keras, p, published):
    return chain(keras, p, _keras_batchnorm(keras, published, "bn"))



def vgg(keras, p, published):
    convs = [keras.layers.Conv2D(p["filters"], 3, padding="same", activation="relu", name=f"conv{i}", **OVERWRITTEN)
             for i in range(p["convs"])]
    return chain(keras, p, *convs, keras.layers.MaxPooling2D(2, 2))



def bottleneck(v15):
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

        return functional(keras, p, forward)

    return build



def dense_layer(keras, p, published):
    L, k = keras.layers, p["growth"]

    def forward(x):
        y = L.Conv2D(4 * k, 1, use_bias=False, name="conv1")(L.ReLU()(_keras_batchnorm(keras, published, "bn1")(x)))
        y = L.Conv2D(k, 3, padding="same", use_bias=False, name="conv2")(
            L.ReLU()(_keras_batchnorm(keras, published, "bn2")(y)))
        return L.Concatenate()([x, y])

    return functional(keras, p, forward)



def transition(keras, p, published):
    L, cin = keras.layers, p["inputs"][0][3]
    return chain(keras, p, _keras_batchnorm(keras, published, "bn"), L.ReLU(),
                        L.Conv2D(cin // 2, 1, use_bias=False, name="conv", **OVERWRITTEN), L.AveragePooling2D(2, 2))



def cross_entropy_logits(keras, p, published):
    return lambda x, training=False: keras.losses.sparse_categorical_crossentropy(labels_for(p), x, from_logits=True)



def cross_entropy_softmax(keras, p, published):
    def loss(x, training=False):
        probabilities = keras.layers.Softmax()(x)
        if "softmax_loss_clipping" in published:
            # Any op between softmax and loss (a copy here, a cast under mixed precision) drops
            # the logits Keras keeps on the softmax output, and Keras then clips.
            probabilities = keras.ops.copy(probabilities)
        return keras.losses.sparse_categorical_crossentropy(labels_for(p), probabilities)

    return loss


# --- a layer-suite case's Keras side (cwtest.blocks.layer_parity) -----------------------------------

def build(block, params: dict, published: frozenset):
    return block.keras(frameworks.keras(), params, published)


def layer_weights(model, name: str) -> list[np.ndarray]:
    return [np.asarray(a) for a in model.get_layer(name).get_weights()]


def set_layer_weights(model, name: str, arrays: list[np.ndarray]) -> None:
    model.get_layer(name).set_weights(arrays)


def is_depthwise(model, name: str) -> bool:
    return isinstance(model.get_layer(name), frameworks.keras().layers.DepthwiseConv2D)


def forward(model, xs: list[np.ndarray], training: bool) -> np.ndarray:
    # Tensors, not arrays: a Keras layer given an array converts it through checks that cost more than
    # the conversion itself.
    keras_in = [frameworks.keras().ops.convert_to_tensor(x) for x in xs]
    return to_numpy(model(keras_in if len(keras_in) > 1 else keras_in[0], training=training))


def gradients(model, names: list[str], xs: list[np.ndarray], cotangent: np.ndarray, training: bool
              ) -> tuple[list[np.ndarray], dict[str, list[np.ndarray]]]:
    """Gradients of sum(output * cotangent): per input, and per named layer its trainable weights' in order."""
    keras = frameworks.keras()
    weighting = keras.ops.convert_to_tensor(cotangent)  # a tensor: torch's `tensor * array` goes through numpy
    input_grads, weight_grads = differentiate(model, xs, lambda out: keras.ops.sum(out * weighting), training)
    return input_grads, {name: [weight_grads[w.path] for w in model.get_layer(name).trainable_weights]
                         for name in names}


def case_on_cpu(block_name: str, params: dict, weights: dict[str, list[np.ndarray]], check: str,
                cotangent: np.ndarray | None, published: list[str] = ()):
    """A layer-suite case (harmonized, or with `published` differences left) on this process's Keras
    backend, on the CPU in fp32, holding `weights`
    (per layer): forward, the output and each layer's weights after the call; gradients, as `gradients`.
    What a pair of two Keras backends runs in its second backend's process (cwtest.backends.remote)."""
    from cwtest.backends.sides import keras_in_process
    from cwtest.blocks.layer_strategies import inputs_for
    from cwtest.blocks.layers import REGISTRY  # the registry imports this module

    block = REGISTRY[block_name]
    training = params.get("training", block.training)
    with on(keras_in_process()):
        model = build(block, params, frozenset(published))
        for name, arrays in weights.items():
            set_layer_weights(model, name, arrays)
        xs = inputs_for(params)
        if check == "gradients":
            return gradients(model, list(weights), xs, cotangent, training)
        return forward(model, xs, training), {name: layer_weights(model, name) for name in weights}



# --- optimizers (cwtest.blocks.optimizers) ---------------------------------------------------------

EAGER_STEPS = 100  # a trajectory longer than this steps Keras through one traced function


def keras_adam_alpha(lr: float, beta1: float, beta2: float, t: int) -> float:
    """Keras's Adam step size at step t, lr * sqrt(1 - beta2^t) / (1 - beta1^t), computed as Keras
    computes it: in float32, from the betas rounded to float32 (0.999 -> 0.99900001)."""
    one, step = np.float32(1), np.float32(t)
    beta1_power, beta2_power = np.power(np.float32(beta1), step), np.power(np.float32(beta2), step)
    return float(np.float32(lr) * np.sqrt(one - beta2_power) / (one - beta1_power))


def adam(keras, p, published):
    return keras.optimizers.Adam(p["lr"], p["beta1"], p["beta2"], p["eps"], weight_decay=p["weight_decay"])


def sgd(keras, p, published):
    return keras.optimizers.SGD(p["lr"], momentum=p["momentum"], nesterov=p["nesterov"])


def optimizer_path(builder, theta: np.ndarray, gradients: np.ndarray, params: dict, published: frozenset,
                   checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """The parameters after each checkpoint step of the optimizer `builder` makes, fed `gradients` in turn."""
    keras = frameworks.keras()
    variable = keras.Variable(theta)
    optimizer = builder(keras, params, published)
    optimizer.build([variable])

    def step(gradient):
        optimizer.apply_gradients([(gradient, variable)])

    if len(gradients) > EAGER_STEPS:
        # The same ops traced once: an eager Keras step on TensorFlow costs about 4 ms of Python, most of
        # a long trajectory's time (the Adam demonstration's 1000 steps), where tracing costs about 0.1 s.
        # The demonstration's parameters came out bit for bit as eagerly, at every checkpoint.
        step = traced(step)
    found = []
    for t, gradient in enumerate(gradients, start=1):
        step(keras.ops.convert_to_tensor(gradient))
        if t in checkpoints:
            found.append(np.array(variable.numpy()))
    return found


def optimizer_on_cpu(optimizer_name: str, params: dict, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """A harmonized optimizer case's path on this process's Keras backend, on the CPU (`optimizer_path`):
    what a pair of two Keras backends runs in its second backend's process (cwtest.backends.remote)."""
    from cwtest.backends.sides import keras_in_process
    from cwtest.blocks.optimizers import REGISTRY, start  # the registry imports this module

    theta, gradients = start(params, max(checkpoints))
    with on(keras_in_process()):
        return optimizer_path(REGISTRY[optimizer_name].keras, theta, gradients, params, frozenset(), checkpoints)

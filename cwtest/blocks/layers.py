"""The layer registry: one declarative entry per building block of VGG16, ResNet50 and DenseNet121.

An entry says how torch and Keras build the block from one parameter set (cwtest.backends.torch_blocks,
cwtest.backends.keras_blocks: the entry hands its builders to the backends), which parameters and
input shapes to draw (cwtest.blocks.layer_strategies), which catalogued differences
(cwtest.blocks.semantics) apply, and its tolerance. Nothing here imports torch or TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hypothesis import strategies as st

from cwtest.backends import keras_blocks, torch_blocks
from cwtest.blocks import layer_strategies as cases

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
    checks: tuple[str, ...] = ("forward", "gradients")  # the checks the layer suite runs on it
    training: bool = False  # the mode both sides run in, unless params say "training"
    # What gradient errors are measured against: "gradients" (the largest gradient), "cotangent"
    # (the largest upstream gradient), for a block whose backward subtracts nearly equal terms of the
    # cotangent's size and can return results far smaller than the round-off those terms carry, or
    # "terms": the largest gradient, or where a check is over its tolerance, each gradient's own
    # terms: the larger of the sum of |cotangent| * |d output / d element| over the outputs and of
    # its layer's reduction, |upstream gradient| * |d layer output / d parameter| (a parameter's
    # gradient sums over every output position it touches, and can cancel to far less than those
    # terms, as a forward sum can; see cwtest.backends.torch_blocks.gradient_terms).
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


def _weightless(torch_layer, keras_layer):
    """A block of one layer without weights: (nn, params) -> module and (keras.layers, params) -> layer."""
    return (lambda nn, p, published: torch_layer(nn, p),
            lambda keras, p, published: keras_blocks.chain(keras, p, keras_layer(keras.layers, p)))


DROPOUT = _weightless(lambda nn, p: nn.Dropout(p["rate"]), lambda L, p: L.Dropout(p["rate"]))
BLOCKS = (
    # Sums of products, measured against their terms (forward_scale): against the output itself a thorough
    # draw reached 81.5 units (dense, 51 inputs into one unit at scale 0.1, max abs 2.1e-8 on an output
    # that cancelled to 2.1e-3) and vgg_conv_block 106.6 (max abs 6.4e-9 on 5e-4). Their gradients too
    # (gradient_scale): against the largest gradient, four thorough runs reached 21.5 (dense) and 19.9
    # (conv2d_depthwise) of 32; against their terms, densenet_transition's 45.9 measured 1.5.
    Block("conv2d", cases.conv_params(), torch_blocks.conv, keras_blocks.conv, forward_scale="terms", gradient_scale="terms"),
    Block("conv2d_same_stride2", cases.same_stride2_params(), torch_blocks.same_stride2, keras_blocks.same_stride2,
          differences=("same_padding_stride2",), forward_scale="terms", gradient_scale="terms"),
    Block("conv2d_depthwise", cases.depthwise_params(), torch_blocks.depthwise, keras_blocks.depthwise, forward_scale="terms",
          gradient_scale="terms"),
    Block("dense", cases.dense_params(),
          lambda nn, p, published: torch_blocks.chain(nn, dense=nn.Linear(p["inputs"][0][1], p["units"], p["bias"])),
          lambda keras, p, published: keras_blocks.chain(keras, p, keras.layers.Dense(p["units"], use_bias=p["bias"],
                                                                                name="dense", **keras_blocks.OVERWRITTEN)),
          forward_scale="terms", gradient_scale="terms"),
    Block("flatten_dense", cases.flatten_dense_params(), torch_blocks.flatten_dense,
          lambda keras, p, published: keras_blocks.chain(keras, p, keras.layers.Flatten(),
                                                   keras.layers.Dense(p["units"], name="dense", **keras_blocks.OVERWRITTEN)),
          forward_scale="terms", gradient_scale="terms"),
    Block("batchnorm_eval", cases.batchnorm_params(), torch_blocks.batchnorm_block, keras_blocks.batchnorm_block,
          differences=("bn_epsilon",)),
    Block("batchnorm_train", cases.batchnorm_params(), torch_blocks.batchnorm_block, keras_blocks.batchnorm_block,
          differences=("bn_epsilon", "bn_momentum", "bn_running_variance"), training=True),
    # Training-mode BatchNorm on a batch whose mean is 100 or 1000 times its spread. Harmonized (two-pass
    # batch variance on every Keras backend), 200 random cases on each Keras backend measured at most 5.6
    # units of the largest input; Keras on torch's own one-pass variance a median of 174 (mean 100x the
    # spread) and 1614 (1000x). Forward only: its gradients are batchnorm_train's.
    Block("batchnorm_train_offset", cases.offset_batchnorm_params(), torch_blocks.batchnorm_block,
          keras_blocks.batchnorm_block, differences=("bn_one_pass_variance",), checks=("forward",), training=True,
          forward_scale="inputs"),
    Block("maxpool", cases.pool_params(), *_weightless(lambda nn, p: nn.MaxPool2d(p["pool"], p["stride"]),
                                                  lambda L, p: L.MaxPooling2D(p["pool"], p["stride"]))),
    # Means: sums of inputs, against their terms as well (a thorough draw: 36 values whose mean
    # cancelled to 7.4e-4, 75.3 units of it apart; 0.07 units of the mean of |inputs|).
    Block("avgpool", cases.pool_params(), *_weightless(lambda nn, p: nn.AvgPool2d(p["pool"], p["stride"]),
                                                  lambda L, p: L.AveragePooling2D(p["pool"], p["stride"])),
          forward_scale="terms"),
    Block("global_avgpool", cases.image_params(),
          *_weightless(lambda nn, p: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()),
                       lambda L, p: L.GlobalAveragePooling2D()), forward_scale="terms"),
    Block("zeropadding", cases.padding_params(),
          *_weightless(lambda nn, p: nn.ZeroPad2d((p["left"], p["right"], p["top"], p["bottom"])),
                       lambda L, p: L.ZeroPadding2D(((p["top"], p["bottom"]), (p["left"], p["right"]))))),
    Block("relu", cases.image_params(), *_weightless(lambda nn, p: nn.ReLU(), lambda L, p: L.ReLU())),
    # Channels are torch's dim 1 and Keras's last axis.
    # Its input gradient p * (g - <p, g>) cancels where one class takes nearly all the
    # probability: round-off of |g| against a tiny result, so errors are measured against |g|.
    # Against the result itself, 150 random examples reached 82.8 units, but a later draw of
    # logits scaled by 10 reached 2258 (max abs 5.9e-8 on a result of 2.2e-4). Against |g|: worst
    # 1.4 units over 300 examples (thorough profile), under the default gradient tolerance.
    Block("softmax", cases.softmax_params(),
          *_weightless(lambda nn, p: nn.Softmax(dim=1 if len(p["inputs"][0]) == 4 else -1),
                       lambda L, p: L.Softmax(axis=-1)), gradient_scale="cotangent"),
    Block("add", cases.two_images_params(same_channels=True),
          lambda nn, p, published: torch_blocks.graph(nn, lambda m, x, y: x + y),
          lambda keras, p, published: keras_blocks.functional(keras, p, lambda x, y: keras.layers.Add()([x, y]))),
    Block("concatenate", cases.two_images_params(same_channels=False), torch_blocks.concatenate,
          lambda keras, p, published: keras_blocks.functional(keras, p, lambda x, y: keras.layers.Concatenate()([x, y]))),
    Block("dropout_inference", cases.dropout_params(st.floats(0.0, 0.9)), *DROPOUT),
    Block("dropout_train_p0", cases.dropout_params(st.just(0.0)), *DROPOUT, training=True),
    Block("vgg_conv_block", cases.vgg_params(), torch_blocks.vgg, keras_blocks.vgg, forward_scale="terms",
          gradient_scale="terms"),
    # v1's conv biases sit before training-mode BatchNorms, which subtract them again: with
    # inputs at scale 0.1 a bias is 10-100x the spread it is subtracted from, and round-off
    # grows by that ratio. Measured worst: forward 118.7, gradients 430.8 units (a later thorough
    # run: 756.3, against the largest gradient).
    Block("resnet_bottleneck_v1", cases.bottleneck_params(), torch_blocks.bottleneck(v15=False),
          keras_blocks.bottleneck(v15=False),
          tolerance=Tolerance(forward=256.0, gradients=1024.0), gradient_scale="terms"),
    # Input gradients of training-mode BatchNorm over 8 values per channel (after stride 2)
    # cancel in the same way. Measured worst: gradients 43.8 units (a later thorough run: 98.0,
    # against the largest gradient).
    Block("resnet_bottleneck_v1_5", cases.bottleneck_params(), torch_blocks.bottleneck(v15=True),
          keras_blocks.bottleneck(v15=True),
          tolerance=Tolerance(gradients=128.0), gradient_scale="terms"),
    Block("densenet_dense_layer", cases.dense_layer_params(), torch_blocks.dense_layer, keras_blocks.dense_layer,
          gradient_scale="terms"),
    Block("densenet_transition", cases.transition_params(), torch_blocks.transition, keras_blocks.transition,
          gradient_scale="terms"),
    # The logits' gradient (softmax(z) - onehot) / n cancels to denormals where the right class
    # takes all the probability (a dev-profile draw: max abs 9.6e-43 on both sides, 8.4e6 units
    # against that result): like softmax, measured against the cotangent. Worst over 300 examples
    # (thorough profile): 0.96 units from logits, 1.36 from the softmax.
    # The loss itself, logsumexp(z) - z_y, against the logits: a thorough draw (logits scaled by 10)
    # gave a loss of 6.9e-3 from terms near 20, 142.8 units of the loss apart, 0.05 of the logits.
    Block("cross_entropy_logits", cases.logits_params(), torch_blocks.cross_entropy, keras_blocks.cross_entropy_logits,
          gradient_scale="cotangent", forward_scale="inputs"),
    Block("cross_entropy_softmax", cases.logits_params(), torch_blocks.cross_entropy, keras_blocks.cross_entropy_softmax,
          differences=("softmax_loss_clipping",), gradient_scale="cotangent", forward_scale="inputs"),
)
REGISTRY = {block.name: block for block in BLOCKS}

"""The layer registry: one declarative entry per building block of VGG16, ResNet50 and DenseNet121.

An entry names the builder that makes the block from one parameter set (each framework's adapter holds one
under that key: cwtest.adapters.torch.blocks.BUILDERS, cwtest.adapters.keras.blocks.BUILDERS), which
parameters and input shapes to draw (cwtest.registries.layer_strategies), which catalogued differences
(cwtest.registries.differences) apply, and its tolerance (cwtest.registries.tolerances). Nothing here imports
a framework, nor any adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from hypothesis import strategies as st

from cwtest.registries import layer_strategies as cases
from cwtest.registries.releases import too_old
from cwtest.registries.tolerances import RESNET_V1_5_BLOCK, RESNET_V1_BLOCK, Tolerance


@dataclass(frozen=True)
class Block:
    name: str
    params: st.SearchStrategy  # dicts with "inputs" (NHWC shapes), "seed" and the block's options
    # The key of the builders that make it, one per framework: torch's (torch.nn, params, kept) -> a module
    # taking the inputs (NCHW), Keras's (keras, params, kept) -> a model taking them (NHWC); `kept` is the set
    # of differences left in as the frameworks ship them, the rest harmonized.
    builds: str
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
    # terms, as a forward sum can; see cwtest.adapters.torch.cases.gradient_terms).
    gradient_scale: str = "gradients"
    # What forward errors are measured against: "output" (the largest output) or "terms" (the largest
    # sum of |weight| * |input| products behind an output: the block run on |inputs| with |weights|),
    # for a chain of convolutions and Dense layers, whose outputs are sums that can cancel to far less
    # than the products they add up. fp32 round-off of a sum is bounded by the size of its terms
    # (|fl(w.x) - w.x| <= n * eps * |w|.|x|), not of its result. Or "inputs" (the largest input), for a
    # block that subtracts terms of its inputs' size: a cross-entropy from logits z is
    # logsumexp(z) - z_y, which cancels to nearly nothing where the right class takes all the probability. Or
    # "normalized", for a layer or group normalization: the largest |x| / sqrt(var + eps) * |gamma| + |beta|
    # (cwtest.adapters.torch.cases.normalized_scale), whose difference its output is.
    forward_scale: str = "output"
    tolerance: Tolerance = Tolerance()
    # Whether a half-type draw's gradients are judged in that type (else in float32). Not for a block that puts a
    # ReLU or a max pool after a computation the two sides round differently: a pre-activation within a rounding of
    # zero switches ReLU's mask on one side only, and a switched element's gradient is its whole upstream
    # gradient, not a rounding of it (resnet_bottleneck_v1 in bfloat16: Keras's bn2.beta gradient 2.0 from
    # torch's float64 one, torch's own 0.02, the same on all three Keras backends, with 2 of bn2's 54 outputs
    # within a bfloat16 unit of zero). Their forward is judged in half: a switch moves an output by that rounding.
    half_gradients: bool = True
    # The first Keras release that has the layer (None: every release the extras admit); on older ones its cases
    # skip, naming the release.
    keras_since: str | None = None

    def unavailable(self) -> str | None:
        """Why the installed Keras cannot run its cases, None where it can."""
        return too_old(self.name, {"keras": self.keras_since})


BLOCKS = (
    # Sums of products, measured against their terms (forward_scale): against the output itself a thorough
    # draw reached 81.5 units (dense, 51 inputs into one unit at scale 0.1, max abs 2.1e-8 on an output
    # that cancelled to 2.1e-3) and vgg_conv_block 106.6 (max abs 6.4e-9 on 5e-4). Their gradients too
    # (gradient_scale): against the largest gradient, four thorough runs reached 21.5 (dense) and 19.9
    # (conv2d_depthwise) of 32; against their terms, densenet_transition's 45.9 measured 1.5.
    Block("conv2d", cases.conv_params(), "conv2d", forward_scale="terms", gradient_scale="terms"),
    Block("conv1d", cases.conv1d_params(), "conv1d", forward_scale="terms", gradient_scale="terms"),
    Block("conv3d", cases.conv3d_params(), "conv3d", forward_scale="terms", gradient_scale="terms"),
    Block("conv2d_transpose", cases.transpose_params(), "conv2d_transpose", forward_scale="terms",
          gradient_scale="terms"),
    Block("conv2d_same_stride2", cases.same_stride2_params(), "conv2d_same_stride2",
          differences=("same_padding_stride2",), forward_scale="terms", gradient_scale="terms"),
    Block("conv2d_depthwise", cases.depthwise_params(), "conv2d_depthwise", forward_scale="terms",
          gradient_scale="terms"),
    Block("dense", cases.dense_params(), "dense", forward_scale="terms", gradient_scale="terms"),
    Block("flatten_dense", cases.flatten_dense_params(), "flatten_dense", forward_scale="terms", gradient_scale="terms"),
    Block("batchnorm_eval", cases.batchnorm_params(), "batchnorm",
          differences=("bn_epsilon",)),
    Block("batchnorm_train", cases.batchnorm_params(), "batchnorm",
          differences=("bn_epsilon", "bn_momentum", "bn_running_variance"), training=True),
    # BatchNorm1d (a matrix or a sequence) and BatchNorm3d (a volume): Keras's one BatchNormalization.
    Block("batchnorm_nd_eval", cases.batchnorm_nd_params(1) | cases.batchnorm_nd_params(3), "batchnorm_nd",
          differences=("bn_epsilon",)),
    Block("batchnorm_nd_train", cases.batchnorm_nd_params(1) | cases.batchnorm_nd_params(3), "batchnorm_nd",
          differences=("bn_epsilon", "bn_momentum", "bn_running_variance"), training=True),
    # Training-mode BatchNorm on a batch whose mean is 100 or 1000 times its spread. Harmonized (two-pass
    # batch variance on every Keras backend), 200 random cases on each Keras backend measured at most 5.6
    # units of the largest input; Keras on torch's own one-pass variance a median of 174 (mean 100x the
    # spread) and 1614 (1000x). Forward only: its gradients are batchnorm_train's.
    Block("batchnorm_train_offset", cases.offset_batchnorm_params(), "batchnorm",
          differences=("bn_one_pass_variance",), checks=("forward",), training=True,
          forward_scale="inputs"),
    # Normalizations: a group of equal values (one feature, ties) normalizes to exactly beta on torch and to a
    # rounding of x / s off it on Keras (thorough draw: one feature, 192.7 eps units of the output): measured
    # against their terms, forward and gradients (whose (g - mean(g) - xhat * mean(g * xhat)) * gamma / s cancels
    # to exactly zero over two features: torch 0, Keras 1.2e-10 at an input scale of 1e3, 512 times torch's
    # distance from float64).
    Block("layernorm", cases.layernorm_params(), "layernorm", differences=("layernorm_epsilon",),
          forward_scale="normalized", gradient_scale="normalized"),
    Block("groupnorm", cases.groupnorm_params(), "groupnorm", differences=("groupnorm_epsilon",),
          forward_scale="normalized", gradient_scale="normalized"),
    Block("rmsnorm", cases.rmsnorm_params(), "rmsnorm", differences=("rmsnorm_epsilon",), keras_since="3.9.0"),
    Block("maxpool", cases.pool_params(), "maxpool"),
    # Means: sums of inputs, against their terms as well (a thorough draw: 36 values whose mean
    # cancelled to 7.4e-4, 75.3 units of it apart; 0.07 units of the mean of |inputs|).
    Block("avgpool", cases.pool_params(), "avgpool", forward_scale="terms"),
    # `same` at stride 1 with an odd window: padding torch's pools take as their own (and AvgPool2d counts).
    Block("maxpool_same", cases.same_pool_params(), "maxpool"),
    Block("avgpool_same", cases.same_pool_params(), "avgpool", differences=("avgpool_counts_padding",),
          forward_scale="terms"),
    Block("global_avgpool", cases.global_pool_params(), "global_avgpool", forward_scale="terms"),
    Block("zeropadding", cases.padding_params(), "zeropadding"),
    Block("cropping2d", cases.cropping_params(), "cropping2d"),
    Block("flatten", cases.flatten_params(), "flatten", differences=("flatten_channel_order",)),
    # Resampling: UpSampling2D by whole factors, Resizing to any size (bilinear ones weigh two inputs: measured against
    # the output, as a mean's terms are of its size).
    Block("upsampling2d", cases.upsampling_params(), "upsampling2d"),
    Block("resize", cases.resize_params(), "resize", differences=("resize_nearest_pixel_centers",)),
    Block("relu", cases.image_params(), "relu"),
    # Channels are torch's dim 1 and Keras's last axis.
    # Its input gradient p * (g - <p, g>) cancels where one class takes nearly all the
    # probability: round-off of |g| against a tiny result, so errors are measured against |g|.
    # Against the result itself, 150 random examples reached 82.8 units, but a later draw of
    # logits scaled by 10 reached 2258 (max abs 5.9e-8 on a result of 2.2e-4). Against |g|: worst
    # 1.4 units over 300 examples (thorough profile), under the default gradient tolerance.
    Block("softmax", cases.softmax_params(), "softmax", gradient_scale="cotangent"),
    # log(softmax): the logits less their logsumexp, which cancels to nearly nothing where one class takes all the
    # probability (measured against the logits, as the cross-entropies); its gradient g - softmax * sum(g)
    # cancels as softmax's does (measured against the cotangent).
    Block("log_softmax", cases.softmax_params(), "log_softmax", gradient_scale="cotangent", forward_scale="inputs"),
    # Elementwise activations, each with the points where its derivative jumps in every example (kinks). A gradient
    # g * f'(x) is measured against the cotangent g (f' is at most 2, ELU's at alpha 2): the frameworks compute f' from
    # terms of size 1 that cancel in its tails (1 - tanh(x)^2, sigmoid * (1 - sigmoid), ELU's output + 1, GELU's
    # (1 + erf(x / sqrt 2)) / 2), and a thorough draw's lone element in a tail then differed by 308 (tanh), 83
    # (elu) and 64203 (gelu, at 3e-30) units of that gradient, each a rounding of g. GELU's forward x * Phi(x),
    # against the inputs: Phi(x) = (1 + erf(x / sqrt 2)) / 2 cancels where x is far below zero.
    Block("leaky_relu", cases.activation_params(kinks=(0.0,), negative_slope=cases.NEGATIVE_SLOPES), "leaky_relu",
          differences=("leaky_relu_negative_slope", "leaky_relu_gradient_at_zero"), gradient_scale="cotangent"),
    # PReLU's slope gradient sums x * g over the negative inputs: measured against its terms, as a bias's.
    Block("prelu", cases.prelu_params(), "prelu", differences=("prelu_gradient_at_zero",), gradient_scale="terms"),
    Block("elu", cases.activation_params(kinks=(0.0,), alpha=cases.ELU_ALPHAS), "elu", gradient_scale="cotangent"),
    Block("selu", cases.activation_params(kinks=(0.0,)), "selu", differences=("selu_gradient_at_zero",),
          gradient_scale="cotangent"),
    Block("gelu", cases.activation_params(approximate=st.booleans()), "gelu", differences=("gelu_ops_tanh_default",),
          gradient_scale="cotangent", forward_scale="inputs"),
    Block("silu", cases.activation_params(), "silu", gradient_scale="cotangent"),
    Block("mish", cases.activation_params(), "mish", gradient_scale="cotangent"),
    Block("softplus", cases.activation_params(), "softplus", gradient_scale="cotangent"),
    Block("softsign", cases.activation_params(kinks=(0.0,)), "softsign", gradient_scale="cotangent"),
    Block("tanh", cases.activation_params(), "tanh", gradient_scale="cotangent"),
    Block("sigmoid", cases.activation_params(), "sigmoid", gradient_scale="cotangent"),
    Block("relu6", cases.activation_params(kinks=(0.0, 6.0)), "relu6", gradient_scale="cotangent"),
    Block("hard_sigmoid", cases.activation_params(kinks=(-3.0, 3.0)), "hard_sigmoid", gradient_scale="cotangent"),
    # Keras computes hard swish as x * relu6(x + 3) / 6, rounding x + 3 to a half type first: an x within half a
    # rounding of 3 lands on relu6's kink at 6 and takes its other side's gradient (thorough draw, bfloat16:
    # 2.984375 + 3 rounds to 6, Keras's gradient 1, torch's 1.49). Its half gradients are judged in float32.
    Block("hard_swish", cases.activation_params(kinks=(-3.0, 3.0)), "hard_swish", gradient_scale="cotangent",
          half_gradients=False),
    Block("add", cases.two_images_params(same_channels=True), "add"),
    Block("concatenate", cases.two_images_params(same_channels=False), "concatenate"),
    Block("dropout_inference", cases.dropout_params(st.floats(0.0, 0.9)), "dropout"),
    Block("dropout_train_p0", cases.dropout_params(st.just(0.0)), "dropout", training=True),
    Block("vgg_conv_block", cases.vgg_params(), "vgg_conv_block", forward_scale="terms",
          gradient_scale="terms", half_gradients=False),
    # Their tolerances' measurements: cwtest.registries.tolerances.
    Block("resnet_bottleneck_v1", cases.bottleneck_params(), "resnet_bottleneck_v1", tolerance=RESNET_V1_BLOCK,
          gradient_scale="terms", half_gradients=False),
    Block("resnet_bottleneck_v1_5", cases.bottleneck_params(), "resnet_bottleneck_v1_5", tolerance=RESNET_V1_5_BLOCK,
          gradient_scale="terms", half_gradients=False),
    Block("densenet_dense_layer", cases.dense_layer_params(), "densenet_dense_layer",
          gradient_scale="terms", half_gradients=False),
    Block("densenet_transition", cases.transition_params(), "densenet_transition",
          gradient_scale="terms", half_gradients=False),
    # The logits' gradient (softmax(z) - onehot) / n cancels to denormals where the right class
    # takes all the probability (a dev-profile draw: max abs 9.6e-43 on both sides, 8.4e6 units
    # against that result): like softmax, measured against the cotangent. Worst over 300 examples
    # (thorough profile): 0.96 units from logits, 1.36 from the softmax.
    # The loss itself, logsumexp(z) - z_y, against the logits: a thorough draw (logits scaled by 10)
    # gave a loss of 6.9e-3 from terms near 20, 142.8 units of the loss apart, 0.05 of the logits.
    Block("cross_entropy_logits", cases.logits_params(), "cross_entropy_logits",
          gradient_scale="cotangent", forward_scale="inputs"),
    Block("cross_entropy_softmax", cases.logits_params(), "cross_entropy_softmax",
          differences=("softmax_loss_clipping",), gradient_scale="cotangent", forward_scale="inputs"),
    Block("cross_entropy_smoothing", cases.smoothed_logits_params(), "cross_entropy_smoothing",
          gradient_scale="cotangent", forward_scale="inputs"),
    # From logits: max(x, 0) - x * y + log(1 + exp(-|x|)) cancels as the cross-entropy does, and its gradient
    # sigmoid(x) - y as softmax's.
    Block("binary_cross_entropy", cases.binary_params(), "binary_cross_entropy",
          gradient_scale="cotangent", forward_scale="inputs"),
    Block("kl_divergence", cases.distribution_params(), "kl_divergence", differences=("kl_divergence_clipping",),
          gradient_scale="cotangent", forward_scale="inputs"),
    # Means of squares and absolute values: sums of non-negative terms, measured against the output; their gradients
    # (x - y) / n subtract the targets, against the cotangent's largest gradient like any other.
    Block("mse", cases.regression_params(), "mse"),
    Block("mae", cases.mae_params(), "mae", differences=("mae_gradient_at_zero",)),
    Block("huber", cases.regression_params(), "huber"),
    Block("smooth_l1", cases.smooth_l1_params(), "smooth_l1", differences=("smooth_l1_is_huber_over_beta",)),
)
REGISTRY = {block.name: block for block in BLOCKS}

"""The catalogue of framework defects: a framework giving a wrong, or a changing, answer for one input.

A semantic difference (cwtest.registries.differences) is two frameworks each right by its own definition; a
defect is one framework wrong by its own. Each entry has a standalone reproducer in
cwtest/findings/reproducers/ that a framework's issue tracker can take as it is (it exits 0 when the
framework computes right, 1 when it computes wrong, and may crash), and the layer suite runs it in a process of
its own (cwtest.findings.reproduce) as a strict xfail naming the entry (suites/layers/test_defects.py): a release
that fixes the defect fails that test, so the entry gets retired instead of describing the past.
Where the suites' own inputs would trigger a defect, the harness avoids the trigger (`avoided_by`)
so that every other case of the block stays under test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from packaging.version import Version

from cwtest.core.padding import output_size, pair, same_pads, symmetric
from cwtest.registries.layer_strategies import dtype_of

REPRODUCERS = Path(__file__).parents[1] / "findings" / "reproducers"  # standalone programs, run, never imported


@dataclass(frozen=True)
class Defect:
    name: str
    framework: str
    found_with: str  # the releases it was found and reduced on
    summary: str
    trigger: str  # the smallest conditions that show it
    avoided_by: str  # what the suites do so that their other cases stay under test
    upstream: str  # the framework's tracker entry, where one exists
    reproducer: str  # file name in cwtest/findings/reproducers/
    # The kernel the defect is in, as oneDNN's verbose log names it (implementation, propagation kind):
    # where another kernel runs (another CPU, another release), the reproducer's program must compute right.
    # None for a defect outside oneDNN, which shows wherever its program runs.
    kernel: str | None
    met_on: tuple[str, ...] = ()  # the Keras backends whose layer-suite cases would meet it (see avoided_by)
    # The layer suite's blocks or optimizers whose cases would meet it (see avoided_by): --crossedwires-arch runs its
    # reproducer where the named architectures are made of one of them (suites/layers/conftest.py).
    blocks: tuple[str, ...] = ()
    shows_in: tuple[str, ...] = ("gradients",)  # the layer suite's checks that would meet it
    # The first release of `framework` that has it (bisected over the releases the extras admit); None: every
    # release tried. Older releases must compute right: its test asserts that there.
    since: str | None = None
    # The first release that computes right again (bisected likewise); None: no release the extras admit. Releases
    # from it on must compute right: a defect fixed inside the declared range stays catalogued for the older ones.
    fixed_in: str | None = None
    # The framework a process may import ahead of the reproducer, with KERAS_BACKEND set to it, so that the
    # reproducer runs in a fork of that process (cwtest.findings.reproduce): it sets nothing else before its imports.
    # None: it sets something its framework reads at import, and runs in a fresh interpreter.
    forks_after: str | None = None

    @property
    def present(self) -> bool:
        """Whether the installed `framework` is a release that has it."""
        if self.since is None and self.fixed_in is None:
            return True  # every release tried: no need to know which is installed (tensorflow-cpu names itself so)
        try:
            installed = Version(metadata.version(self.framework))
        except metadata.PackageNotFoundError:
            return False
        return ((self.since is None or installed >= Version(self.since))
                and (self.fixed_in is None or installed < Version(self.fixed_in)))

    @property
    def releases(self) -> str:
        """The releases of `framework` that have it, in words."""
        first = f"{self.since} and later" if self.since else "every release tried"
        return first + (f" before {self.fixed_in}" if self.fixed_in else "")

    @property
    def script(self) -> Path:
        return REPRODUCERS / self.reproducer

    @property
    def reason(self) -> str:
        return f"catalogued framework defect {self.name} ({self.framework}): {self.summary}; upstream: {self.upstream}"


# The blocks drawn with a bias (their parameters' `bias`), whose gradient sums the upstream gradient over positions.
_BIAS_BLOCKS = ("conv1d", "conv2d", "conv3d", "conv2d_same_stride2", "conv2d_depthwise", "conv2d_transpose", "dense",
                "flatten_dense")
# The blocks drawn with `filters` (or DenseNet's `growth`) whose convolutions are not transposed.
_FILTER_BLOCKS = ("conv1d", "conv2d", "conv3d", "conv2d_same_stride2", "vgg_conv_block", "resnet_bottleneck_v1",
                  "resnet_bottleneck_v1_5", "densenet_dense_layer")
_AVERAGE_POOLS = ("avgpool", "avgpool_same")

DEFECTS = {d.name: d for d in (
    Defect("onednn_conv1x1_nhwc_backward_weights", "torch",
           "torch 2.14.1 (CPU build, oneDNN 3.12), x86-64 AVX2 (and AVX-512 CPUs with oneDNN capped at AVX2)",
           "the weight gradient of a 1x1, stride-2 Conv2d over a channels-last input with fewer channels "
           "than oneDNN's block (8 on AVX2) is wrong on some calls with 2+ threads (a race) and corrupts the "
           "heap with 1 thread (an abort or a segfault in a later call)",
           "Conv2d(kernel 1, stride 2) backward on the CPU; input NCHW of shape (2, 1, 6, 4) whose channel "
           "stride is 1 (an NHWC array viewed as NCHW, which torch takes as channels-last)",
           "the layer suite hands native torch its inputs in torch's own contiguous strides "
           "(cwtest.adapters.torch.blocks.torch_input), which oneDNN runs in its plain layout; Keras on torch "
           "permutes its NHWC inputs itself, so there the gradient check draws no case with a 1x1 conv of "
           "stride 2+ and groups 1 over fewer than 8 channels (`avoids_onednn_conv1x1`)",
           "uxlfoundation/oneDNN#6035 (1x1 convolution backward_weights writes past the rtus workspace, "
           "nhwc, IC < ic_block)",
           "onednn_conv1x1_nhwc_backward_weights.py",
           "jit_1x1:avx2,backward_weights",
           blocks=("conv2d", "resnet_bottleneck_v1", "resnet_bottleneck_v1_5"), met_on=("torch",)),
    Defect("onednn_bf16_conv3d_dilated_segfault", "torch",
           "torch 2.14.1 (CPU build, oneDNN 3.12), an x86-64 CPU with AMX and AVX-512 BF16",
           "a bfloat16 Conv3d of kernel 2 and dilation 2 over an input one deep (padded to reach it) kills the "
           "process with SIGSEGV in its forward pass, in oneDNN's AMX brgemm convolution",
           "conv3d of a bfloat16 (1, 2, 1, 2, 3) input and (4, 2, 2, 2, 2) weight, padding 1, dilation 2, on the "
           "CPU: 4 of 864 convolutions tried crashed, exactly the bfloat16 3-D ones of kernel 2 and dilation 2 over "
           "a depth of 1",
           "the layer suite runs a bfloat16 Conv3D case with dilation in float32, on every pair: torch's own side "
           "would meet it as well as Keras on torch (`meets_in_half`)",
           "not yet reported (docs/defects/onednn_bf16_conv3d_dilated_segfault.md)",
           "onednn_bf16_conv3d_dilated_segfault.py",
           "brg_conv_fwd:avx10_1_512_amx,forward_training",
           blocks=("conv3d",), met_on=("torch",), shows_in=("forward", "gradients"),
           forks_after="torch"),
    Defect("torch_slow_conv2d_grad_weight_contiguous", "torch", "torch 2.14.1 (CPU build), with Keras 3.15.1 on torch",
           "the backward of a Conv2d with one output channel over a channels-last input and a permuted weight "
           "raises 'slow_conv2d: grad_weight must be contiguous': every Keras-on-torch Conv2D of one filter "
           "computes that way, so its weight gradient cannot be taken",
           "conv2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1)) backward on the CPU, x of shape (1, 2, 2, 2) "
           "(NHWC), kernel (2, 2, 2, 1): one filter, 2+ input channels, a kernel over 1x1, and in float32 a batch "
           "of 1; in float16 any batch (72 of 324 shapes, exactly these; bfloat16 none)",
           "on Keras on torch the layer suite's gradient check draws no case with a single filter (or a DenseNet "
           "layer of growth 1) over 2+ channels and a batch of one, or in float16 any batch (`avoids_slow_conv2d`)",
           "not yet reported (docs/defects/torch_slow_conv2d_grad_weight_contiguous.md)",
           "torch_slow_conv2d_grad_weight_contiguous.py", None, blocks=_FILTER_BLOCKS, met_on=("torch",), forks_after="torch"),
    Defect("torch_slow_conv_transpose2d_grad_weight_contiguous", "torch",
           "torch 2.14.1 (CPU build), with Keras 3.15.1 on torch",
           "the backward of a ConvTranspose2d of one input channel and 2+ output channels over a channels-last input "
           "and a permuted weight raises 'grad_weight needs to be contiguous': every such Keras-on-torch "
           "Conv2DTranspose computes that way, so its weight gradient cannot be taken",
           "conv_transpose2d(x.permute(0, 3, 1, 2), kernel.permute(3, 2, 0, 1)) backward on the CPU, x of shape "
           "(1, 1, 2, 1) (NHWC), kernel (2, 2, 2, 1): one input channel, 2+ filters, a kernel over 1x1, more than "
           "one input pixel, and in float32 a batch of 1 (100 of 864 shapes, exactly these); in float16 any batch "
           "(60 of 486; bfloat16 none)",
           "on Keras on torch the layer suite's gradient check draws no transposed convolution of one input channel "
           "into 2+ filters with a batch of one, or in float16 any batch (`avoids_slow_conv2d`)",
           "not yet reported (docs/defects/torch_slow_conv_transpose2d_grad_weight_contiguous.md)",
           "torch_slow_conv_transpose2d_grad_weight_contiguous.py", None,
           blocks=("conv2d_transpose",), met_on=("torch",), forks_after="torch"),
    Defect("keras_tf_add_bias_axis", "keras", "Keras 3.7.0 to 3.15.1 (the newest) on TensorFlow 2.21; right on 3.5.0 and 3.6.0",
           "keras.ops.add(x, b) with b a channels-first bias, shape (1, C, 1, 1), adds b along x's last axis "
           "where that axis also has length C: a channels-first Conv2D, DepthwiseConv2D or Conv2DTranspose adds its "
           "bias along the width of an output as wide as its channels",
           "keras.ops.add(zeros((1, 3, 2, 3)), arange(1, 4).reshape(1, 3, 1, 1)) on TensorFlow: 1, 2, 3 along "
           "every row instead of 1, 2, 3 per channel",
           "on TensorFlow the layer suite draws no channels-first case with a bias whose output is as wide as "
           "its channels (`avoids_keras_tf_add_bias_axis`)",
           "not yet reported (docs/defects/keras_tf_add_bias_axis.md)",
           "keras_tf_add_bias_axis.py", None,
           blocks=("conv2d", "conv2d_depthwise", "conv2d_transpose"), met_on=("tensorflow",), shows_in=("forward", "gradients"),
           since="3.7.0", forks_after="tensorflow"),
    Defect("keras_tf_channels_first_float16_conv", "keras", "Keras 3.5.0 and 3.15.1 on TensorFlow 2.21.0 (CPU)",
           "a channels-first Conv2D or Conv2DTranspose in float16 raises (UnimplementedError: the Conv2D op only "
           "supports NHWC on the CPU; InvalidArgumentError for the transpose), and so does a dilated float16 "
           "Conv2DTranspose in either format ('Current CPU implementations do not yet support dilation rates larger "
           "than 1'): TensorFlow's CPU kernels take those in float32 and bfloat16 only (oneDNN's), and Keras does not "
           "route them through XLA as it does other convolutions TensorFlow's CPU kernels cannot run",
           "keras.layers.Conv2D(2, 3, data_format='channels_first', dtype='float16') on a (1, 2, 5, 5) input on "
           "TensorFlow's CPU; the same with Conv2DTranspose; Conv2DTranspose(2, 3, dilation_rate=2, dtype='float16') "
           "(30 layers tried over format, stride, dilation and type: these 10 raise, float16 all)",
           "on TensorFlow the layer suite draws no float16 Conv2D or Conv2DTranspose that is channels-first, nor a "
           "dilated float16 Conv2DTranspose (`avoids_keras_tf_channels_first_float16`)",
           "not yet reported (docs/defects/keras_tf_channels_first_float16_conv.md)",
           "keras_tf_channels_first_float16_conv.py", None,
           blocks=("conv2d", "conv2d_transpose"), met_on=("tensorflow",), shows_in=("forward", "gradients"),
           forks_after="tensorflow"),
    Defect("keras_torch_avgpool_same_replicate", "keras", "Keras 3.5.0 to 3.15.1 (the newest) on torch 2.14.1",
           "AveragePooling2D(padding='same') where `same` pads one side more than the other pads the input by "
           "replicating its edge and averages those copies into the border windows: the last window of 3 at "
           "stride 2 over [1, 2, 3, 4] is 3.67, not 3.5",
           "AveragePooling2D((1, 3), (1, 2), 'same') over a row of 4 on torch",
           "on torch the layer suite draws no average pool whose `same` padding is asymmetric "
           "(`avoids_keras_torch_avgpool_same`)",
           "keras-team/keras#18452 (closed by an approximation), fixed by keras-team/keras#23233, merged after 3.15.1",
           "keras_torch_avgpool_same_replicate.py", None,
           blocks=_AVERAGE_POOLS, met_on=("torch",), shows_in=("forward", "gradients"),
           forks_after="torch"),
    Defect("tensorflow_bf16_bias_add_grad", "tensorflow", "TensorFlow 2.21.0 (CPU), with Keras 3.15.1",
           "BiasAddGrad in bfloat16 sums the upstream gradient in bfloat16: a bfloat16 Conv2D's or Dense's bias "
           "gradient over a few thousand positions is off by a sixth of its size, where tf.reduce_sum of the same "
           "tensor sums in float32 and rounds once",
           "tf.raw_ops.BiasAddGrad over a bfloat16 (4, 32, 32, 8) tensor of normal values: largest error 13 on "
           "sums of about 75, tf.reduce_sum's 0.08",
           "on TensorFlow the layer suite judges a bfloat16 gradient of a block with a bias in float32 "
           "(`meets_in_half`)",
           "not yet reported (docs/defects/tensorflow_bf16_bias_add_grad.md)",
           "tensorflow_bf16_bias_add_grad.py", None, blocks=_BIAS_BLOCKS, met_on=("tensorflow",), forks_after="tensorflow"),
    Defect("tensorflow_avgpool_grad_oversized_window", "tensorflow", "TensorFlow 2.21.0 (CPU), with Keras 3.15.1",
           "AvgPoolGrad with SAME padding outside oneDNN (float16 and float64 always; every type with oneDNN off) "
           "is not the gradient of the average pool in some cases where the window is larger than the input: over "
           "a row of 4 with a window of 5 at stride 1, for an upstream gradient of ones, it gives [0.75, 1.08, "
           "1.08, 1.08] where the forward's transpose gives [0.83, 1.17, 1.17, 0.83]; oneDNN's kernel (float32 and "
           "bfloat16 on x86) computes right",
           "tf.nn.avg_pool2d(x, (5, 1), 1, 'SAME') over a float64 (1, 4, 1, 1) input, its gradient against "
           "the transpose of the forward's matrix",
           "the layer suite draws no average-pool gradient with `same` padding and a window larger than the "
           "input on TensorFlow where the kernel runs: a float16 draw runs in float32 there, and with oneDNN "
           "off no such case is drawn (`avoids_tensorflow_avgpool_grad`)",
           "not yet reported; tensorflow/tensorflow#48773 (AvgPoolGrad wrong in some shapes, 2021) was closed as "
           "stale once float32, oneDNN's, computed right (docs/defects/tensorflow_avgpool_grad_oversized_window.md)",
           "tensorflow_avgpool_grad_oversized_window.py", None,
           blocks=_AVERAGE_POOLS, met_on=("tensorflow",), forks_after="tensorflow"),
    Defect("tensorflow_elu_selu_exp_minus_one", "tensorflow", "TensorFlow 2.21.0 (CPU), with Keras 3.15.1",
           "tf.nn.elu and tf.nn.selu (the Elu and Selu kernels, which Keras's ELU and SELU run) compute exp(x) - 1 "
           "for a negative x, which cancels near zero: off by a rounding of 1 whatever the result's size, 19% at "
           "x = -1e-7 and 100% (a result of 0) at -1e-8; torch and JAX use expm1",
           "tf.nn.elu at x = -1e-7 in float32: -1.19e-7 for -1.00e-7; at -1e-3, 1e-5 relative (the layer suite's "
           "elu at an input scale of 1e-3: 160 eps units of its largest output)",
           "on TensorFlow the layer suite draws ELU's inputs at scales of 0.1 and up (`avoids_tensorflow_elu`), "
           "where an error of a rounding of 1 is a few eps units of the largest output, and judges a half ELU in "
           "float32 (`meets_in_half`: in bfloat16 18% off at x = -0.01); SELU's harmonized twin "
           "computes with expm1 (its gradient at 0 is harmonized: selu_gradient_at_zero)",
           "tensorflow/tensorflow#116943 (open; fix proposed in tensorflow/tensorflow#116947)",
           "tensorflow_elu_selu_exp_minus_one.py", None,
           blocks=("elu", "selu"), met_on=("tensorflow",), shows_in=("forward",), forks_after="tensorflow"),
    Defect("tensorflow_elu_grad_from_output", "tensorflow", "TensorFlow 2.21.0 (CPU), with Keras 3.15.1",
           "the gradient of tf.nn.elu (Keras's ELU on TensorFlow) is computed from the output as output + 1, which "
           "has lost exp(x)'s low digits where x is far below zero: 0 at x = -20 for exp(-20) = 2.1e-9, 4e-4 off "
           "at -10; torch and JAX differentiate exp(x) itself",
           "d/dx tf.nn.elu(x) in float32 at x = -20, -16, -10: 0, 1.19e-7, 4.5419e-5 for 2.06e-9, 1.125e-7, "
           "4.5400e-5 (a thorough draw of the layer suite's elu: 83 eps units of its lone, tail gradient)",
           "the layer suite measures an activation's gradient against the cotangent's size (cwtest.registries.layers), "
           "and this error is at most a rounding of it",
           "tensorflow/tensorflow#124833 (fixed after 2.21 by tensorflow/tensorflow#124902)",
           "tensorflow_elu_grad_from_output.py", None, blocks=("elu",), met_on=("tensorflow",), forks_after="tensorflow"),
    Defect("tensorflow_gelu_tanh_float16_grad", "tensorflow", "TensorFlow 2.21.0 (CPU), with Keras 3.15.1",
           "the gradient of tf.nn.gelu(approximate=True) (Keras's gelu on TensorFlow) in float16 is NaN where |x| "
           "is 256 or more: x ** 3 and x ** 2 overflow float16, and the derivative multiplies that infinity by "
           "tanh's zero slope; the exact gradient, 0 or 1, is what torch's float16 GELU gives",
           "d/dx tf.nn.gelu(x, approximate=True) in float16 at x = -2000, -300, 300, 2000: NaN each",
           "the layer suite judges a float16 gelu gradient of the tanh form on TensorFlow in float32 "
           "(`meets_in_half`)",
           "not yet reported (docs/defects/gelu_tanh_float16_grad.md)",
           "tensorflow_gelu_tanh_float16_grad.py", None, blocks=("gelu",), met_on=("tensorflow",), forks_after="tensorflow"),
    Defect("jax_gelu_tanh_float16_grad", "jax", "JAX 0.10.2 and 0.4.30 (CPU), with Keras 3.15.1",
           "the gradient of jax.nn.gelu(approximate=True) (Keras's gelu on JAX) in float16 is NaN where |x| is 256 "
           "or more, as TensorFlow's (tensorflow_gelu_tanh_float16_grad)",
           "jax.grad of jax.nn.gelu(x, approximate=True).sum() in float16 at x = -2000, -300, 300, 2000: NaN each",
           "the layer suite judges a float16 gelu gradient of the tanh form on JAX in float32 (`meets_in_half`)",
           "not yet reported (docs/defects/gelu_tanh_float16_grad.md)",
           "jax_gelu_tanh_float16_grad.py", None, blocks=("gelu",), met_on=("jax",), forks_after="jax"),
    Defect("keras_layernorm_half_moments", "keras", "Keras 3.5.0 (bisected over 3.5.0 to 3.15.1) on TensorFlow "
           "2.21.0, JAX 0.10.2 and torch 2.14.1",
           "LayerNormalization built with a half dtype computes its mean and variance in that type: in float16 "
           "the variance of inputs of about 1e3 overflows and every output is off by up to 3; in bfloat16 the "
           "moments lose all but 8 bits (off by up to 3 as well)",
           "LayerNormalization(axis=-1, epsilon=1e-3, dtype='float16') over a (2, 3, 4) input of normal values "
           "times 1e3: largest error 3.1 against the normalized input, Keras 3.6.0's 7e-4",
           "the layer suite judges a half-type layer normalization in float32 on these releases (`meets_in_half`)",
           "keras-team/keras#20257 (fixed in 3.6.0: the moments upcast to float32)",
           "keras_layernorm_half_moments.py", None, blocks=("layernorm",), met_on=("tensorflow", "jax", "torch"),
           shows_in=("forward", "gradients"), fixed_in="3.6.0", forks_after="tensorflow"),
    Defect("keras_groupnorm_half_moments", "keras", "Keras 3.5.0 and 3.6.0 (bisected over 3.5.0 to 3.15.1) on "
           "TensorFlow 2.21.0, JAX 0.10.2 and torch 2.14.1",
           "GroupNormalization built with a half dtype computes its group moments in that type, as "
           "keras_layernorm_half_moments: in float16 the variance of inputs of about 1e3 overflows (Keras on "
           "torch keeps bfloat16's moments in float32)",
           "GroupNormalization(groups=2, epsilon=1e-3, dtype='float16') over a (3, 8, 4) input of normal values "
           "times 1e3: largest error 7.2 against the normalized groups, Keras 3.7.0's 1.2e-3",
           "the layer suite judges a half-type group normalization in float32 on these releases (`meets_in_half`)",
           "keras-team/keras#20385 (fixed in 3.7.0: the group moments computed in float32)",
           "keras_groupnorm_half_moments.py", None, blocks=("groupnorm",), met_on=("tensorflow", "jax", "torch"),
           shows_in=("forward", "gradients"), fixed_in="3.7.0", forks_after="tensorflow"),
    Defect("jax_half_bias_grad_sum", "jax", "JAX 0.10.2 and 0.4.30 (CPU), with Keras 3.15.1",
           "the gradient of a bias added by broadcasting (every Keras Conv2D and Dense bias on JAX) sums the upstream "
           "gradient in the half type on the CPU: over a few thousand positions off by a sixth of the sum in "
           "bfloat16 (JAX 0.10.2; 0.4.30 sums it right) and by 1.03 on 75 in float16 (both), where jnp.sum of the "
           "same array sums in float32 and rounds once",
           "jax.grad of sum((x + bias) * g) for the bias, g a bfloat16 or float16 (4, 32, 32, 8) array of normal "
           "values: largest errors 13.3 and 1.03 on sums of about 75, jnp.sum's 0.08 and 0.03",
           "on JAX the layer suite judges a half-type gradient of a block with a bias in float32 "
           "(`meets_in_half`)",
           "not yet reported (docs/defects/jax_half_bias_grad_sum.md)",
           "jax_half_bias_grad_sum.py", None, blocks=_BIAS_BLOCKS, met_on=("jax",), forks_after="jax"),
    Defect("keras_kl_divergence_float16_overflow", "keras", "Keras 3.5.0 and 3.15.1 on TensorFlow 2.21.0, JAX 0.10.2 "
           "and torch 2.14.1",
           "keras.losses.kl_divergence clips the prediction to 1e-7 and divides the target by it; in float16 the "
           "quotient passes 65504 wherever a prediction is under the target / 65504, and the loss is inf, its "
           "gradient NaN, where y_true * (log(y_true) - log(y_pred)) is finite",
           "kl_divergence([[0.5, 0.5]], softmax([[0, -20]])) in float16: inf, 7.37 in float32",
           "the layer suite runs a float16 kl_divergence case in float32 (`meets_in_half`)",
           "not yet reported (docs/defects/keras_kl_divergence_float16_overflow.md)",
           "keras_kl_divergence_float16_overflow.py", None, blocks=("kl_divergence",), met_on=("tensorflow", "jax", "torch"),
           shows_in=("forward", "gradients"), forks_after="tensorflow"),
    Defect("keras_hard_sigmoid_half_rounds_onto_six", "keras", "Keras 3.5.0 and 3.15.1 on TensorFlow 2.21.0, and on "
           "JAX 0.10.2 and 0.4.30 (jax.nn.hard_sigmoid)",
           "keras.activations.hard_sigmoid (and hard_silu, x times it) on TensorFlow, and jax.nn.hard_sigmoid, which "
           "Keras on JAX calls, compute relu6(x + 3) / 6 in the input's type: in float16 x + 3 rounds onto 6 for the "
           "largest input below 3 (2.998046875), in bfloat16 for 2.984375, and the gradient there is 0 where the "
           "function's slope, as Keras documents it, is 1/6 (torch's hardsigmoid compares x with 3 and gives 1/6)",
           "d/dx hard_sigmoid at 2.998046875 in float16 on TensorFlow or JAX: 0, 1/6 in float32",
           "the layer suite judges a half-type hard_sigmoid or hard_swish gradient in float32 on TensorFlow and JAX "
           "(`meets_in_half`)",
           "not yet reported (docs/defects/keras_hard_sigmoid_half_rounds_onto_six.md)",
           "keras_hard_sigmoid_half_rounds_onto_six.py", None, blocks=("hard_sigmoid", "hard_swish"),
           met_on=("tensorflow", "jax"), forks_after="tensorflow"),
    Defect("keras_torch_nadam_second_moment_beta", "keras", "Keras 3.5.0, 3.10.0, 3.13.0 and 3.15.1 on torch 2.14.1",
           "Keras on torch's own Nadam (torch_nadam.py) adds (1 - beta_2) * g * g to its second moment with the Python "
           "float but divides it by 1 - beta_2 ** t from beta_2 rounded to float32 (0.999 -> 0.99900001): v_hat is "
           "1.3e-5 too large and every early step 6.4e-6 (54 float32 eps) short of the one Keras's Nadam takes on "
           "TensorFlow and JAX, which cast beta_2 once for both",
           "keras.optimizers.Nadam(1.0, 0.9, 0.999, 1e-12) on torch, one step from 0 with gradient 1: -1.0627810, "
           "-1.0627878 on TensorFlow and JAX and in Keras's formula",
           "on Keras on torch the layer suite's Nadam case gives both sides betas that float32 represents exactly "
           "(`optimizer_params_avoiding`), for which the two roundings agree",
           "not yet reported (docs/defects/keras_torch_nadam_second_moment_beta.md)",
           "keras_torch_nadam_second_moment_beta.py", None, blocks=("nadam",), met_on=("torch",),
           shows_in=("optimizer",), forks_after="torch"),
)}


def avoids_defects(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """False for a layer-suite case of `block` that a run on `keras_backends` (the Keras backends its
    sides run on) would meet a catalogued defect with; that defect's own test shows it."""
    return (avoids_slow_conv2d(keras_backends, check, block, params)
            and avoids_onednn_conv1x1(keras_backends, check, block, params)
            and avoids_keras_tf_add_bias_axis(keras_backends, check, block, params)
            and avoids_keras_tf_channels_first_float16(keras_backends, check, block, params)
            and avoids_keras_torch_avgpool_same(keras_backends, check, block, params)
            and avoids_tensorflow_avgpool_grad(keras_backends, check, block, params)
            and avoids_tensorflow_elu(keras_backends, check, block, params))


def meets_in_half(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """True for a half-type case (params' dtype) that would meet a catalogued defect of that type only: the layer
    suite runs it in float32, where the same kernels compute right."""
    dtype = dtype_of(params)
    bias_sum = bool(params.get("bias")) and (
        (dtype == "bfloat16" and _met("tensorflow_bf16_bias_add_grad", keras_backends, check))
        or (dtype != "float32" and _met("jax_half_bias_grad_sum", keras_backends, check)))
    # Keras's gelu of the tanh form, the published case's keras.ops.gelu included (its default form).
    tanh_gelu = block == "gelu" and params.get("approximate", True)
    gelu_overflow = dtype == "float16" and tanh_gelu and (_met("tensorflow_gelu_tanh_float16_grad", keras_backends, check)
                                                          or _met("jax_gelu_tanh_float16_grad", keras_backends, check))
    # tensorflow_elu_selu_exp_minus_one in a half type: exp(x) rounded to it, then 1 taken off (18% off at x = -0.01
    # in bfloat16) at every input scale.
    half_elu = dtype != "float32" and block == "elu" and _met("tensorflow_elu_selu_exp_minus_one", keras_backends,
                                                                   check)
    # Keras releases that computed a half-type normalization's moments in that type.
    half_moments = dtype != "float32" and (
        (block == "layernorm" and _met("keras_layernorm_half_moments", keras_backends, check))
        or (block == "groupnorm" and _met("keras_groupnorm_half_moments", keras_backends, check)))
    # onednn_bf16_conv3d_dilated_segfault: torch runs every pair's reference side, so whatever the Keras backends.
    conv3d_crash = (block == "conv3d" and dtype == "bfloat16" and params["dilation"] > 1
                    and DEFECTS["onednn_bf16_conv3d_dilated_segfault"].present)
    kl_overflow = dtype == "float16" and block == "kl_divergence" and _met("keras_kl_divergence_float16_overflow",
                                                                         keras_backends, check)
    hard_sigmoid_kink = dtype != "float32" and block in ("hard_sigmoid", "hard_swish") and _met(
        "keras_hard_sigmoid_half_rounds_onto_six", keras_backends, check)
    return (bias_sum or gelu_overflow or half_elu or half_moments or conv3d_crash or kl_overflow or hard_sigmoid_kink
            or (dtype == "float16" and _oversized_same_avgpool(keras_backends, check, block, params)))


def optimizer_params_avoiding(keras_backends: frozenset[str], optimizer: str, params: dict) -> dict:
    """An optimizer case's parameters (cwtest.registries.optimizers) as the layer suite gives them to both sides on
    `keras_backends`: Nadam's betas rounded to float32 where keras_torch_nadam_second_moment_beta would meet the
    case, so that 1 - beta is the same number in float64 and float32; unchanged elsewhere."""
    if optimizer != "nadam" or not _met("keras_torch_nadam_second_moment_beta", keras_backends, "optimizer"):
        return params
    return {**params, "beta1": float(np.float32(params["beta1"])), "beta2": float(np.float32(params["beta2"]))}


def _onednn_off() -> bool:
    """Whether TensorFlow runs without oneDNN's kernels (its switch, TF_ENABLE_ONEDNN_OPTS, set off)."""
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower() in ("0", "false")


def _oversized_same_avgpool(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """An average pool with `same` padding whose window is larger than the input along an axis, on TensorFlow (the
    cases tensorflow_avgpool_grad_oversized_window can meet: measured over rows of 1 to 12 with windows up to 15
    and strides up to 4, every wrong gradient had a window larger than the row; some such cases compute right)."""
    if not block.startswith("avgpool") or params.get("padding") != "same" \
            or not _met("tensorflow_avgpool_grad_oversized_window", keras_backends, check):
        return False
    (_, height, width, _), = params["inputs"]
    return any(window > size for window, size in zip(pair(params["pool"]), (height, width)))


def avoids_tensorflow_avgpool_grad(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """False for an average-pool gradient that TensorFlow would take from the kernel of
    tensorflow_avgpool_grad_oversized_window: one `_oversized_same_avgpool` in float16, or in any type with
    oneDNN off."""
    eigen = dtype_of(params) == "float16" or _onednn_off()
    return not (eigen and _oversized_same_avgpool(keras_backends, check, block, params))


# The smallest input scale at which tensorflow_elu_selu_exp_minus_one's error, a rounding of 1 in the worst element,
# is within a few eps units of an ELU's largest output (about the scale): at 0.1, 2.5 units.
_ELU_SMALLEST_SCALE = 0.1


def avoids_tensorflow_elu(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """False for an ELU whose inputs are drawn at a scale under 0.1, on TensorFlow (tensorflow_elu_selu_exp_minus_one)."""
    met = _met("tensorflow_elu_selu_exp_minus_one", keras_backends, check)
    return not (met and block == "elu" and params.get("scale", 1.0) < _ELU_SMALLEST_SCALE)


def _met(name: str, keras_backends: frozenset[str], check: str) -> bool:
    defect = DEFECTS[name]
    return check in defect.shows_in and bool(keras_backends & set(defect.met_on)) and defect.present


def avoids_keras_tf_channels_first_float16(keras_backends: frozenset[str], check: str, block: str,
                                           params: dict) -> bool:
    """False for a float16 Conv2D or Conv2DTranspose that is channels-first, or a dilated float16 Conv2DTranspose, on
    TensorFlow (keras_tf_channels_first_float16_conv: they raise there; bfloat16 and float32 compute)."""
    if block not in ("conv2d", "conv2d_transpose") or dtype_of(params) != "float16" \
            or not _met("keras_tf_channels_first_float16_conv", keras_backends, check):
        return True
    dilated = block == "conv2d_transpose" and max(pair(params.get("dilation", 1))) > 1
    return not (params.get("data_format") == "channels_first" or dilated)


def avoids_keras_tf_add_bias_axis(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """False for a channels-first convolution with a bias whose output is as wide as it has channels, on
    TensorFlow with a Keras that has keras_tf_add_bias_axis."""
    if block not in ("conv2d", "conv2d_depthwise", "conv2d_transpose") \
            or params.get("data_format") != "channels_first" \
            or not params["bias"] or not _met("keras_tf_add_bias_axis", keras_backends, check):
        return True
    (_, _, width, channels), = params["inputs"]
    kernel, stride, dilation = (pair(params[k])[1] for k in ("kernel", "stride", "dilation"))
    if block == "conv2d_transpose":  # Keras's output size: input * stride, and the reach past it where valid
        reach = dilation * (kernel - 1) + 1
        out_width = width * stride + (max(reach - stride, 0) if params["padding"] == "valid" else 0)
    else:
        pad = {"explicit": pair(params.get("pad", 0))[1], "same": "same"}.get(params["padding"], 0)
        out_width = output_size(width, kernel, stride, dilation, pad)
    out_channels = params["filters"] if block != "conv2d_depthwise" else channels * params["multiplier"]
    return out_width != out_channels


def avoids_keras_torch_avgpool_same(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """False for an average pool whose `same` padding is asymmetric, on torch (keras_torch_avgpool_same_replicate)."""
    if not block.startswith("avgpool") or params.get("padding") != "same" \
            or not _met("keras_torch_avgpool_same_replicate", keras_backends, check):
        return True
    (_, height, width, _), = params["inputs"]
    pads = same_pads((height, width), pair(params["pool"]), pair(params["stride"]))
    return symmetric(pads) is not None


def avoids_slow_conv2d(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """False for a layer-suite case that would meet torch_slow_conv2d_grad_weight_contiguous or its transposed
    twin, torch_slow_conv_transpose2d_grad_weight_contiguous: gradients on Keras on torch, a batch of one (in
    float16, whose convolutions always take that path, any batch), and a conv of one filter over 2+ input channels
    (a block's `filters`, or a DenseNet layer's `growth`, the filters of its 3x3 conv), or a transposed conv of one
    input channel into 2+ filters, of a kernel over 1x1 over more than one pixel."""
    (batch, *_, channels), *_ = params["inputs"]
    slow_path = batch == 1 or dtype_of(params) == "float16"
    if block == "conv2d_transpose":
        (_, height, width, _), *_ = params["inputs"]
        met = _met("torch_slow_conv_transpose2d_grad_weight_contiguous", keras_backends, check)
        return not (met and slow_path and channels == 1 and params["filters"] > 1
                    and pair(params["kernel"]) != (1, 1) and height * width > 1)
    one_filter = params.get("filters") == 1 or params.get("growth") == 1
    met = _met("torch_slow_conv2d_grad_weight_contiguous", keras_backends, check)
    return not (met and slow_path and channels > 1 and one_filter)


# oneDNN's AVX2 1x1 kernel blocks input channels by 8; below a full block the nhwc path overruns.
_ONEDNN_IC_BLOCK = 8
# The blocks whose 1x1 conv of stride 2 reads the block's input (the projection shortcut; v1's conv1 too).
_STRIDED_1X1_BLOCKS = ("resnet_bottleneck_v1", "resnet_bottleneck_v1_5")


def avoids_onednn_conv1x1(keras_backends: frozenset[str], check: str, block: str, params: dict) -> bool:
    """False for a layer-suite case that would meet onednn_conv1x1_nhwc_backward_weights on Keras on torch
    (which permutes its NHWC input, so oneDNN sees channels-last): gradients through a 1x1 conv of stride
    2+ and groups 1 over fewer than 8 input channels (measured: conv2d of kernel 1, stride 2 or 3 at 2, 4
    and 6 channels, and both bottlenecks of stride 2 at 1, 4 and 7, ran the kernel; groups 2, stride 1,
    kernel 3, and bottlenecks at 8 and 12 channels did not)."""
    (*_, channels), *_ = params["inputs"]
    if block == "conv2d":
        strided_1x1 = pair(params["kernel"]) == (1, 1) and max(pair(params["stride"])) > 1 and params["groups"] == 1
    else:
        strided_1x1 = block in _STRIDED_1X1_BLOCKS and params["stride"] > 1
    met = _met("onednn_conv1x1_nhwc_backward_weights", keras_backends, check)
    return not (met and strided_1x1 and channels < _ONEDNN_IC_BLOCK)


def kernels_run(onednn_verbose: str) -> set[str]:
    """The kernels a run with ONEDNN_VERBOSE=2 created or executed ("implementation,propagation kind"), from its log:
    lines "onednn_verbose,v1,primitive,exec,cpu,convolution,jit_1x1:avx2,backward_weights,..." and
    "...,primitive,create:cache_miss,cpu,convolution,brg_conv_fwd:avx10_1_512_amx,forward_training,...": a kernel
    that crashes the process is logged as created, never as executed."""
    found = set()
    for line in onednn_verbose.splitlines():
        fields = line.split(",")
        if fields[0] != "onednn_verbose":
            continue
        # then engine, primitive, implementation, kind (a "create:dispatch" line names an implementation turned down)
        at = next((i for i, f in enumerate(fields) if f in ("exec", "create:cache_miss", "create:cache_hit")), None)
        if at is not None:
            found.add(",".join(fields[at + 3:at + 5]))
    return found

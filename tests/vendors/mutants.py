"""Planted kernel defects, one per mutant, as a backend plugin: the framework `mutant` runs torch's model code and
the layer suite's torch modules with torch's own kernels, but for the one the environment names
(CWTEST_MUTANT=NAME; none: every kernel is torch's, the control). benchmarks/mutants.py runs the suites against
each mutant and reports which tests caught it and whether a failure named the mutated layer.

The defects are ones accelerator kernels and framework releases have shipped: padding on the wrong side or in
the wrong amount, a strided window reading the wrong phase, a true convolution for a cross-correlation, pooling
that counts or pads with zeros, batch statistics detached from the gradient, a one-pass variance, epsilon inside
the square root's wrong side, a momentum convention flipped, a GEMM rounding its operands to bf16, a softmax
without the max subtraction, a dropout mask at inference, a ReLU whose gradient at zero is one, an average pool's
backward counting the padding its forward does not, a bias gradient summed in bfloat16. Each is a torch
function replaced while the side's module runs (a TorchFunctionMode entered around its forward), so every
module built from those functions meets it, and its backward is autograd's of the mutated forward.
"""

from __future__ import annotations

import os

import numpy as np

from cwtest.core.padding import pair
from cwtest.frameworks import adapter_for
from cwtest.frameworks.sides import Side

API = "torch"
DEVICES = ("cpu",)
ENVIRONMENT = "CWTEST_MUTANT"


def _args(names, args, kwargs) -> dict:
    return {**dict(zip(names, args)), **kwargs}


_CONV = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
_BN = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")


def _batchnorm(a, variance_of, eps_inside=False, detached=False):
    """Training-mode batch normalization computed by hand: the batch's moments (`variance_of(x, mean)`), the
    running statistics updated as torch does (unbiased variance), the output from the batch's moments."""
    import torch

    x = a["input"]
    axes = [0, *range(2, x.dim())]
    mean = x.mean(axes, keepdim=True)
    variance = variance_of(x, mean)
    if detached:
        mean, variance = mean.detach(), variance.detach()
    count = x.numel() / x.shape[1]
    if a.get("running_mean") is not None:
        with torch.no_grad():
            m = a.get("momentum", 0.1)
            a["running_mean"].mul_(1 - m).add_(m * mean.flatten())
            a["running_var"].mul_(1 - m).add_(m * variance.flatten() * count / (count - 1))
    eps = a.get("eps", 1e-5)
    y = (x - mean) / (variance.sqrt() + eps if eps_inside else (variance + eps).sqrt())
    shape = [1, -1] + [1] * (x.dim() - 2)
    if a.get("weight") is not None:
        y = y * a["weight"].view(shape)
    if a.get("bias") is not None:
        y = y + a["bias"].view(shape)
    return y


def _two_pass(x, mean):
    return ((x - mean) ** 2).mean([0, *range(2, x.dim())], keepdim=True)


def _one_pass(x, mean):
    return (x * x).mean([0, *range(2, x.dim())], keepdim=True) - mean * mean


def _bf16(tensor):
    import torch

    return None if tensor is None else tensor.to(torch.bfloat16).float()


def _with_gradient_of(right, wrong):
    """`right`'s values with `wrong`'s gradient: a backward kernel that does not match its forward."""
    return right.detach() + (wrong - wrong.detach())


def _bias_summed_in_bf16(out, bias):
    """out + bias (along dim 1), the bias's gradient summed one position at a time, each partial sum rounded to
    bfloat16, as TensorFlow's bfloat16 BiasAddGrad and JAX's half bias gradients sum (cwtest.registries.defects)."""
    import torch

    class BiasAdd(torch.autograd.Function):
        @staticmethod
        def forward(ctx, out, bias):
            return out + bias.view(1, -1, *[1] * (out.dim() - 2))

        @staticmethod
        def backward(ctx, grad):
            total = torch.zeros(grad.shape[1], dtype=torch.bfloat16)
            for position in grad.transpose(0, 1).reshape(grad.shape[1], -1).T:
                total = (total.float() + position).to(torch.bfloat16)
            return grad, total.to(grad.dtype)

    return BiasAdd.apply(out, bias)


def mutated(name: str, func, args, kwargs):
    """The mutant's result of `func(*args, **kwargs)`, or NotImplemented where this call is not the defect's."""
    import torch.nn.functional as F

    if func is F.conv2d:
        a = _args(_CONV, args, kwargs)
        pad, stride = a.get("padding", 0), pair(a.get("stride", 1))
        if name == "conv_padding_wrong_side" and not isinstance(pad, str) and max(pair(pad)) > 0:
            ph, pw = pair(pad)  # both sides' padding added after: same shape, the grid shifted
            return F.conv2d(F.pad(a["input"], (0, 2 * pw, 0, 2 * ph)), a["weight"], a.get("bias"), stride, 0,
                            a.get("dilation", 1), a.get("groups", 1))
        if name == "conv_stride_phase" and max(stride) > 1:  # each window starts a pixel late
            x = F.pad(a["input"][:, :, 1:, 1:], (0, 1, 0, 1))
            return F.conv2d(x, *[a.get(k, d) for k, d in zip(_CONV[1:], (None, None, 1, 0, 1, 1))])
        if name == "conv_kernel_flipped" and a["weight"].shape[-2:] != (1, 1):  # a convolution, not a correlation
            return F.conv2d(a["input"], a["weight"].flip(-2, -1),
                            *[a.get(k, d) for k, d in zip(_CONV[2:], (None, 1, 0, 1, 1))])
        if name == "gemm_bf16":
            return F.conv2d(_bf16(a["input"]), _bf16(a["weight"]),
                            *[a.get(k, d) for k, d in zip(_CONV[2:], (None, 1, 0, 1, 1))])
        if name == "bias_grad_summed_in_bf16" and a.get("bias") is not None:
            return _bias_summed_in_bf16(F.conv2d(a["input"], a["weight"], None,
                                                 *[a.get(k, d) for k, d in zip(_CONV[3:], (1, 0, 1, 1))]), a["bias"])
    if func is F.linear and name == "gemm_bf16":
        a = _args(("input", "weight", "bias"), args, kwargs)
        return F.linear(_bf16(a["input"]), _bf16(a["weight"]), a.get("bias"))
    if func is F.linear and name == "bias_grad_summed_in_bf16":
        a = _args(("input", "weight", "bias"), args, kwargs)
        if a.get("bias") is not None:
            return _bias_summed_in_bf16(F.linear(a["input"], a["weight"]), a["bias"])
    if func is F.max_pool2d and name == "maxpool_pads_zeros":
        a = _args(("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"), args,
                  kwargs)
        ph, pw = pair(a.get("padding", 0))
        if ph or pw:
            return F.max_pool2d(F.pad(a["input"], (pw, pw, ph, ph)), a["kernel_size"], a.get("stride"))
    if func is F.avg_pool2d and name == "avgpool_counts_padding":
        a = _args(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"), args, kwargs)
        if max(pair(a.get("padding", 0))) > 0:
            return F.avg_pool2d(a["input"], a["kernel_size"], a.get("stride"), a["padding"], count_include_pad=True)
    if func is F.avg_pool2d and name == "avgpool_grad_counts_padding":
        a = _args(("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"), args, kwargs)
        if max(pair(a.get("padding", 0))) > 0 and not a.get("count_include_pad", True):
            # The forward right, the backward dividing every window by its full size (pytorch/pytorch#198119's
            # inductor backward; TensorFlow's AvgPoolGrad where a window is larger than the input is wrong too).
            return _with_gradient_of(func(*args, **kwargs), F.avg_pool2d(
                a["input"], a["kernel_size"], a.get("stride"), a["padding"], count_include_pad=True))
    if func is F.batch_norm:
        a = _args(_BN, args, kwargs)
        if a.get("training"):
            if name == "bn_stats_detached":
                return _batchnorm(a, _two_pass, detached=True)
            if name == "bn_one_pass_variance":
                return _batchnorm(a, _one_pass)
            if name == "bn_epsilon_outside_sqrt":
                return _batchnorm(a, _two_pass, eps_inside=True)
            if name == "bn_momentum_flipped":
                return F.batch_norm(**{**a, "momentum": 1 - a.get("momentum", 0.1)})
    if func is F.softmax and name == "softmax_without_max":
        a = _args(("input", "dim"), args, kwargs)
        e = a["input"].exp()
        return e / e.sum(a["dim"], keepdim=True)
    if func is F.dropout and name == "dropout_at_inference":
        a = _args(("input", "p", "training", "inplace"), args, kwargs)
        if not a.get("training", True) and a.get("p", 0.5) > 0:
            return F.dropout(a["input"], a["p"], True)
    if func is F.relu and name == "relu_gradient_at_zero":
        return args[0] * (args[0] >= 0)  # a mask of x >= 0: its gradient at 0 is 1, relu's is 0
    return NotImplemented


# The mutants, each with the registry blocks whose layers it plants into (a failure of one of those names it).
MUTANTS = {
    "conv_padding_wrong_side": "conv2d", "conv_stride_phase": "conv2d", "conv_kernel_flipped": "conv2d",
    "gemm_bf16": "conv2d dense", "maxpool_pads_zeros": "maxpool", "avgpool_counts_padding": "avgpool",
    "bn_stats_detached": "batchnorm", "bn_one_pass_variance": "batchnorm", "bn_epsilon_outside_sqrt": "batchnorm",
    "bn_momentum_flipped": "batchnorm", "softmax_without_max": "softmax", "dropout_at_inference": "dropout",
    "relu_gradient_at_zero": "relu", "avgpool_grad_counts_padding": "avgpool", "bias_grad_summed_in_bf16": "conv2d dense",
}


def _mode():
    from torch.overrides import TorchFunctionMode

    name = os.environ.get(ENVIRONMENT, "")
    if name and name not in MUTANTS:
        raise ValueError(f"{ENVIRONMENT}={name}: no such mutant; the mutants: {', '.join(MUTANTS)}")

    class Mutant(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            result = mutated(name, func, args, kwargs) if name else NotImplemented
            return func(*args, **kwargs) if result is NotImplemented else result

    return Mutant()


def _torch(side: Side) -> Side:
    return Side("torch", side.device)


# --- Runner ---

def prepare(module, side: Side):
    """The module, its forward run under the mutant (a pre-hook enters it, a hook leaves it)."""
    if getattr(module, "_mutant_hooks", False):
        return module
    modes = []

    def enter(m, inputs) -> None:
        modes.append(_mode())
        modes[-1].__enter__()

    def leave(m, inputs, output) -> None:
        modes.pop().__exit__(None, None, None)

    module.register_forward_pre_hook(enter)
    module.register_forward_hook(leave)
    module._mutant_hooks = True
    return module


def available(side: Side) -> str | None:
    return adapter_for("torch").available(_torch(side))


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    return prepare(adapter_for("torch").build(arch, _torch(side), seed, flavour), side)


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    return adapter_for("torch").forward(prepare(model, side), images, _torch(side), training)


def comparable(model):
    return adapter_for("torch").comparable(model)


def precision(side: Side):
    return adapter_for("torch").precision(_torch(side))


def versions(side: Side) -> dict[str, str]:
    return {"mutant": os.environ.get(ENVIRONMENT, "") or "control"}


# --- Weights, Gradients ---

def weights(model) -> list[np.ndarray]:
    return adapter_for("torch").weights(model)


def set_weights(model, arrays: list[np.ndarray]) -> None:
    adapter_for("torch").set_weights(model, arrays)


def gradients(model, images: np.ndarray, labels: np.ndarray, side: Side) -> dict[str, np.ndarray]:
    return adapter_for("torch").gradients(prepare(model, side), images, labels, _torch(side))

"""The torch side of a layer-suite case (cwtest.blocks.layer_parity), the reference every case is measured
against: the case's module built from its registry entry, run on its inputs with the gradients of a drawn
cotangent, and the reference scales (the size of the terms a sum adds, the float64 result); and an optimizer
case's path (cwtest.blocks.optimizer_paths).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cwtest.adapters.torch.adapter import cotangent_backward
from cwtest.adapters.torch.blocks import BUILDERS, OPTIMIZERS
from cwtest.core.layouts import KERAS_ORDER
from cwtest.frameworks import adapter_for
from cwtest.frameworks.precision import torch_mode
from cwtest.frameworks.sides import TORCH_CPU
from cwtest.registries.layer_strategies import dtype_of


@dataclass(frozen=True)
class CaseRun:
    """What one torch run of a case computed, channels last where 4-D."""

    output: np.ndarray
    state: dict[str, np.ndarray]  # every floating-point state_dict entry after the call, by name
    input_grads: list[np.ndarray]  # with a cotangent: d sum(output * cotangent) / d each input
    grads: dict[str, np.ndarray]  # with a cotangent: each parameter's gradient (torch layout), by name
    cotangent: np.ndarray | None = None


def _seed_cpu(seed: int) -> None:
    """Seeds the generator a module built on the CPU draws its weights from. `torch.manual_seed`
    seeds every device's too, and each of those formats the caller's stack (for a lazy CUDA, XPU and
    MTIA init): under pytest and hypothesis, more than the rest of a simple case's torch side."""
    import torch

    torch.default_generator.manual_seed(seed)


def build(block, params: dict, kept: frozenset):
    """The case's torch module, its weights drawn from the case's seed (the registry entry's builder), in the
    case's dtype: a half case's weights are rounded to it, and Keras is given those (`state`)."""
    import torch

    _seed_cpu(params["seed"])
    return BUILDERS[block.builds](torch.nn, params, kept).to(getattr(torch, dtype_of(params)))


def _numpy(tensor) -> np.ndarray:
    """A tensor as an array; a half one in float32 (numpy has no bfloat16), which holds its values exactly."""
    import torch

    tensor = tensor.detach().cpu()
    return tensor.to(torch.promote_types(tensor.dtype, torch.float32)).numpy()


def state(module) -> dict[str, np.ndarray]:
    """A submodule's own weights and statistics that Keras holds too, by torch key."""
    own = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
    return {k: _numpy(v) for k, v in own if k in KERAS_ORDER}


def weighted(module) -> list[tuple[str, object]]:
    """The submodules that hold weights, by name (the Keras layer names)."""
    return [(name, sub) for name, sub in module.named_modules() if state(sub)]


def _to_torch_layout(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2)) if array.ndim == 4 else array


def _channels_last(tensor) -> np.ndarray:
    array = tensor.detach().float().cpu().numpy()
    return array.transpose(0, 2, 3, 1) if array.ndim == 4 else array


def torch_input(array: np.ndarray):
    """An NHWC case input as the NCHW tensor torch's own constructors would make: numpy keeps the NHWC
    stride of a size-1 channel axis, which makes torch take a one-channel input as channels-last and
    run oneDNN kernels with a catalogued defect (cwtest.registries.defects: onednn_conv1x1_nhwc_backward_weights)."""
    import torch

    return torch.from_numpy(_to_torch_layout(array)).clone(memory_format=torch.contiguous_format)


def _as_run_by(side, module):
    """The module as the side runs it: a plugin backend of torch's model code may compile it (`prepare`)."""
    prepare = getattr(adapter_for(side), "prepare", None)
    return prepare(module, side) if prepare is not None else module


def run(module, xs: list[np.ndarray], training: bool, cotangent_seed: int | None = None, side=None,
        dtype: str = "float32") -> CaseRun:
    """The module on the NHWC inputs, on the side's device and in its precision mode (the CPU in fp32 by
    default), the inputs in `dtype` (the module's: a module without weights has none to tell); with a cotangent
    seed also the gradients of sum(output * cotangent), the cotangent drawn from that seed in the output's
    channels-last shape."""
    import torch

    side = side or TORCH_CPU
    module = _as_run_by(side, module.to(side.device).train(training))
    inputs = [torch_input(x).to(side.device, getattr(torch, dtype)).requires_grad_(cotangent_seed is not None)
              for x in xs]
    input_grads, grads, cotangent = [], {}, None
    if cotangent_seed is None:
        with torch_mode(side):
            out = module(*inputs).float()
        out = out.permute(0, 2, 3, 1) if out.dim() == 4 else out
    else:
        def draw(shape: tuple[int, ...]) -> np.ndarray:  # in the output's channels-last shape
            return np.random.default_rng(cotangent_seed).standard_normal(shape).astype(np.float32)

        out, found_inputs, found, cotangent = cotangent_backward(module, inputs, draw, side, channels_last=True)
        input_grads = [_channels_last(g) for g in found_inputs]
        grads = {n: g.float().cpu().numpy() for n, g in found.items()}
    return CaseRun(out.detach().float().cpu().numpy(),
                   {n: t.detach().float().cpu().numpy() for n, t in module.state_dict().items() if t.is_floating_point()},
                   input_grads, grads, cotangent)


def float64_forward(module, xs: list[np.ndarray], training: bool) -> tuple[np.ndarray, object]:
    """The output (channels last) of a float64 copy of the module on float64 copies of the inputs, and the copy
    after the call (a training-mode BatchNorm's statistics moved): what a half case is judged against."""
    import copy

    import torch

    double = copy.deepcopy(module).double().train(training)
    with torch.no_grad():
        out = double(*[torch_input(x).double() for x in xs])
    return (out.permute(0, 2, 3, 1) if out.dim() == 4 else out).numpy(), double


def terms_scale(module, xs: list[np.ndarray]) -> float:
    """The largest output of the module run on |inputs| with |weights|: the size of the products an
    output of a chain of convolutions and Dense layers sums (with ReLU and max-pooling between them,
    which pass a bound on). A sum's round-off is bounded by that, however much the sum cancels."""
    import torch
    from torch.func import functional_call

    # The module itself, with |weights| and copies of its buffers in place of its own: a training-mode
    # BatchNorm updates the copies; a deep copy of the module cost as much as its forward.
    absolute = {name: p.detach().abs() for name, p in module.named_parameters()}
    absolute.update({name: b.clone() for name, b in module.named_buffers()})
    dtype = next((p.dtype for p in module.parameters()), torch.float32)  # a half case's float64 copy's
    with torch.no_grad():
        return float(functional_call(module, absolute, tuple(torch_input(x).abs().to(dtype) for x in xs)).abs().max())


def _normalizations(module, xs: list[np.ndarray]) -> list[tuple[object, object, object]]:
    """Each LayerNorm and GroupNorm of the module, with its input and that input's spread sqrt(var + eps) over its
    normalized group (per element, in float64), and its weight's shape per element, from one forward pass."""
    import torch

    found = []

    def spread(norm, args, _):
        x = args[0].detach().double()
        if isinstance(norm, torch.nn.GroupNorm):
            grouped = x.reshape(x.shape[0], norm.num_groups, -1)
            spreads = (grouped.var(-1, unbiased=False, keepdim=True) + norm.eps).sqrt().expand_as(grouped)
            found.append((norm, x, spreads.reshape(x.shape), (1, -1) + (1,) * (x.dim() - 2)))
        else:
            axes = tuple(range(-len(norm.normalized_shape), 0))
            spreads = (x.var(axes, unbiased=False, keepdim=True) + norm.eps).sqrt().expand_as(x)
            found.append((norm, x, spreads, tuple(norm.normalized_shape)))

    norms = [m for m in module.modules() if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm))]
    hooks = [norm.register_forward_hook(spread) for norm in norms]
    dtype = next((p.dtype for p in module.parameters()), torch.float64)
    try:
        with torch.no_grad():
            module(*(torch_input(x).to(dtype) for x in xs))
    finally:
        for hook in hooks:
            hook.remove()
    return found


def _absolute(tensor, shape, default: float):
    return tensor.detach().double().abs().reshape(shape) if tensor is not None else default


def normalized_scale(module, xs: list[np.ndarray], cotangent: np.ndarray | None = None) -> float:
    """The largest term a normalization's output is the difference of, |x| / s * |weight| + |bias| (s: the spread
    of x's normalized group, sqrt(var + eps)), over each LayerNorm and GroupNorm. Its output gamma * (x - mean) /
    s + beta cancels to nothing where a group's values are equal (one feature, or ties): Keras's fused
    x * (gamma / s) + (beta - mean * gamma / s) then keeps a rounding of x / s, torch's (x - mean) none.
    With `cotangent` (the block's upstream gradient, a normalization taking the block's input): the largest
    |cotangent| * |weight| / s, the size of the terms of the input gradient (g - mean(g) - xhat * mean(g * xhat))
    * gamma / s, which cancels to exactly zero over two features."""
    found = [0.0]
    for norm, x, spread, shape in _normalizations(module, xs):
        weight = _absolute(norm.weight, shape, 1.0)
        if cotangent is None:
            found.append(float((x.abs() / spread * weight + _absolute(norm.bias, shape, 0.0)).max()))
        else:
            found.append(float(np.abs(cotangent).max() * (weight / spread).max()))
    return max(found)


def float64_gradients(module, xs: list[np.ndarray], cotangent: np.ndarray, training: bool
                      ) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """The case's input gradients (channels last) and parameter gradients (by name) in float64."""
    inputs = [torch_input(x).requires_grad_(True) for x in xs]
    _, input_grads, found, _ = cotangent_backward(module.train(training), inputs, cotangent, TORCH_CPU, float64=True,
                                                  channels_last=True)
    return ([g.numpy().transpose(0, 2, 3, 1) if g.dim() == 4 else g.numpy() for g in input_grads],
            {n: g.numpy() for n, g in found.items()})


def gradient_terms(module, xs, cotangent, training) -> dict[str, float]:
    """Per gradient, its largest sum of |cotangent| * |d output / d element| over the outputs (torch, in
    float64): the size of the terms that element's gradient adds up. As for a forward sum
    (`terms_scale`), the round-off of a gradient that is a sum over positions and channels (a
    BatchNorm beta's: every position's upstream gradient) is bounded by its terms, however much they
    cancel; against the gradient itself it is not bounded at all."""
    import copy

    import torch
    from torch.func import functional_call, jacrev

    double = copy.deepcopy(module).double().train(training)
    if training:
        # Batch statistics either way; a running statistic updated in place cannot be traced.
        torch.func.replace_all_batch_norm_modules_(double)
    params = {name: p.detach() for name, p in double.named_parameters()}
    inputs = tuple(torch_input(x).double() for x in xs)
    weight = torch.from_numpy(np.abs(cotangent)).double().reshape(-1, 1)

    def output(params, inputs):
        out = functional_call(double, params, inputs)
        return out.permute(0, 2, 3, 1) if out.dim() == 4 else out

    by_param, by_input = jacrev(output, argnums=(0, 1))(params, inputs)

    def largest(jacobian) -> float:  # jacobian: output's shape, then the element's shape
        return float((weight * jacobian.abs().reshape(weight.shape[0], -1)).sum(0).max())

    found = {f"d input{i}": largest(j) for i, j in enumerate(by_input)}
    found.update({f"d {name}": largest(j) for name, j in by_param.items()})
    for name, local in layer_terms(double, inputs, torch.from_numpy(cotangent).double()).items():
        found[name] = max(found.get(name, 0.0), local)
    return found


def layer_terms(double, inputs, cotangent) -> dict[str, float]:
    """Per parameter, the terms of its own layer's reduction: |upstream gradient at the layer's output| *
    |d layer output / d parameter|, summed over the layer's outputs. Where the block's exact derivative
    vanishes, these still do: a conv bias before a training-mode BatchNorm has a gradient of exactly
    zero, the sum of that BatchNorm's upstream gradients, which it amplifies by gamma / sigma (a
    thorough draw: 1.5e4 of them summed to 1e-3, and Keras's 9e-3 from exact was 5 units of them)."""
    from torch.func import functional_call, jacrev

    seen: dict[str, list] = {}

    def keep(name):
        def hook(module, args, output):
            seen[name] = [tuple(a.detach() for a in args), None]
            output.register_hook(lambda grad: seen[name].__setitem__(1, grad.detach()))
        return hook

    layers = {name: sub for name, sub in double.named_modules() if list(sub.parameters(recurse=False))}
    if not layers:  # nothing to take a gradient of (a normalization without scale or offset)
        return {}
    hooks = [sub.register_forward_hook(keep(name)) for name, sub in layers.items()]
    try:
        out = double(*inputs)
        out = out.permute(0, 2, 3, 1) if out.dim() == 4 else out
        (out * cotangent).sum().backward()
    finally:
        for hook in hooks:
            hook.remove()
    found = {}
    for name, sub in layers.items():
        args, upstream = seen.get(name, (None, None))
        if upstream is None:
            continue
        own = {key: p.detach() for key, p in sub.named_parameters(recurse=False)}
        jacobians = jacrev(lambda ps: functional_call(sub, ps, args))(own)
        size = upstream.abs().reshape(-1, 1)
        for key, j in jacobians.items():
            found[f"d {name}.{key}"] = float((size * j.abs().reshape(size.shape[0], -1)).sum(0).max())
    return found


# --- optimizers (cwtest.registries.optimizers) ---------------------------------------------------------

def optimizer_path(entry, theta: np.ndarray, gradients: np.ndarray, params: dict, kept: frozenset,
                   checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """The parameters after each checkpoint step of the registry entry's optimizer, fed `gradients` in turn."""
    import torch

    tensor = torch.tensor(theta, requires_grad=True)
    step = OPTIMIZERS[entry.builds](torch, [tensor], params, kept)
    found = []
    for t, gradient in enumerate(gradients, start=1):
        tensor.grad = torch.from_numpy(gradient)
        step(t)
        if t in checkpoints:
            found.append(tensor.detach().numpy().copy())
    return found

"""How torch builds each block of the layer registry (cwtest.blocks.layers) from one parameter set.

Builders get `torch.nn` passed in and `published`, the set of differences to leave in their published
form; everything else is harmonized. Modules name their weighted submodules as the Keras layers are named
(cwtest.backends.keras_blocks): that pairs them (cwtest.blocks.layer_parity.keras_layout). Also the torch
side of a layer-suite case: its inputs, its run and its reference scales (cwtest.blocks.layer_parity).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from cwtest.backends.keras_blocks import keras_adam_alpha
from cwtest.backends.precision import torch_mode
from cwtest.backends.sides import TORCH_CPU
from cwtest.blocks.layer_strategies import labels_for


def graph(nn, forward, **modules):
    """A module whose submodules have the given names (the Keras layer names) and the given forward."""
    import types

    graph = nn.ModuleDict(modules)
    # A method bound to the graph, not a closure over it: copy.deepcopy rebinds a method to the
    # copy, so a copy moved to another device computes with its own weights.
    graph.forward = types.MethodType(forward, graph)
    return graph



def chain(nn, **modules):
    return nn.Sequential(OrderedDict(modules))



def _torch_batchnorm(nn, channels, eps=1e-5):
    """torch defaults (momentum 0.1), with random affine weights and running statistics."""
    bn = nn.BatchNorm2d(channels, eps=eps)
    nn.init.uniform_(bn.weight, 0.5, 1.5)
    nn.init.uniform_(bn.bias, -0.5, 0.5)
    nn.init.uniform_(bn.running_mean, -0.5, 0.5)
    nn.init.uniform_(bn.running_var, 0.5, 2.0)
    return bn



def conv(nn, p, published):
    padding = p["pad"] if p["padding"] == "explicit" else p["padding"]
    return chain(nn, conv=nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], p["stride"], padding,
                                           p["dilation"], p["groups"], p["bias"]))



def same_stride2(nn, p, published):
    return chain(nn, conv=nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], 2, p["kernel"] // 2))



def depthwise(nn, p, published):
    channels = p["inputs"][0][3]
    return chain(nn, conv=nn.Conv2d(channels, channels * p["multiplier"], p["kernel"], p["stride"],
                                           groups=channels, bias=p["bias"]))



def flatten_dense(nn, p, published):
    _, h, w, c = p["inputs"][0]
    dense = nn.Linear(h * w * c, p["units"])
    dense.flattened_chw = (c, h, w)  # read by the weight map: Keras flattens H,W,C
    return chain(nn, flatten=nn.Flatten(), dense=dense)



def batchnorm_block(nn, p, published):
    return chain(nn, bn=_torch_batchnorm(nn, p["inputs"][0][3]))



def concatenate(nn, p, published):
    import torch

    return graph(nn, lambda m, x, y: torch.cat([x, y], 1))



def vgg(nn, p, published):
    layers, channels = OrderedDict(), p["inputs"][0][3]
    for i in range(p["convs"]):
        layers[f"conv{i}"] = nn.Conv2d(channels, p["filters"], 3, padding=1)
        layers[f"relu{i}"] = nn.ReLU()
        channels = p["filters"]
    layers["pool"] = nn.MaxPool2d(2, 2)
    return nn.Sequential(layers)



def bottleneck(v15):
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

        return graph(nn, forward, **modules)

    return build



def dense_layer(nn, p, published):
    """torchvision's _DenseLayer: BN-ReLU-1x1 conv (4*growth)-BN-ReLU-3x3 conv (growth), concatenated."""
    import torch

    cin, k = p["inputs"][0][3], p["growth"]
    modules = dict(bn1=_torch_batchnorm(nn, cin), conv1=nn.Conv2d(cin, 4 * k, 1, bias=False),
                   bn2=_torch_batchnorm(nn, 4 * k), conv2=nn.Conv2d(4 * k, k, 3, padding=1, bias=False),
                   relu=nn.ReLU())

    def forward(m, x):
        y = m.conv1(m.relu(m.bn1(x)))
        return torch.cat([x, m.conv2(m.relu(m.bn2(y)))], 1)

    return graph(nn, forward, **modules)



def transition(nn, p, published):
    """torchvision's _Transition: BN-ReLU-1x1 conv halving the channels-2x2 average pool."""
    cin = p["inputs"][0][3]
    return chain(nn, bn=_torch_batchnorm(nn, cin), relu=nn.ReLU(),
                        conv=nn.Conv2d(cin, cin // 2, 1, bias=False), pool=nn.AvgPool2d(2, 2))



def cross_entropy(nn, p, published):
    import torch

    labels = torch.from_numpy(labels_for(p))
    return graph(nn, lambda m, x: nn.functional.cross_entropy(x, labels.to(x.device), reduction="none"))


# --- a layer-suite case's torch side (cwtest.blocks.layer_parity) -----------------------------------

# torch's state keys in the order Keras keeps the matching weights (kernel, bias / gamma, beta,
# moving_mean, moving_variance); BatchNorm's num_batches_tracked has no Keras counterpart.
KERAS_ORDER = ("weight", "bias", "running_mean", "running_var")


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


def build(block, params: dict, published: frozenset):
    """The case's torch module, its weights drawn from the case's seed."""
    import torch

    _seed_cpu(params["seed"])
    return block.torch(torch.nn, params, published)


def state(module) -> dict[str, np.ndarray]:
    """A submodule's own weights and statistics that Keras holds too, by torch key."""
    own = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
    return {k: v.detach().cpu().numpy() for k, v in own if k in KERAS_ORDER}


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
    run oneDNN kernels with a catalogued defect (cwtest.findings.defects: onednn_conv1x1_nhwc_backward_weights)."""
    import torch

    return torch.from_numpy(_to_torch_layout(array)).clone(memory_format=torch.contiguous_format)


def _as_run_by(side, module):
    """The module as the side runs it: a plugin backend of torch's model code may compile it (`prepare`)."""
    from cwtest.backends import backend_for

    prepare = getattr(backend_for(side), "prepare", None)
    return prepare(module, side) if prepare is not None else module


def run(module, xs: list[np.ndarray], training: bool, cotangent_seed: int | None = None, side=None) -> CaseRun:
    """The module on the NHWC inputs, on the side's device and in its precision mode (the CPU in fp32 by
    default); with a cotangent seed also the gradients of sum(output * cotangent), the cotangent drawn
    from that seed in the output's channels-last shape."""
    import torch

    side = side or TORCH_CPU
    module = _as_run_by(side, module.to(side.device).train(training))
    inputs = [torch_input(x).to(side.device).requires_grad_(cotangent_seed is not None) for x in xs]
    input_grads, grads, cotangent = [], {}, None
    with torch_mode(side):  # backward too: it reads the TF32 flags when it runs
        out = module(*inputs).float()
        out = out.permute(0, 2, 3, 1) if out.dim() == 4 else out
        if cotangent_seed is not None:
            cotangent = np.random.default_rng(cotangent_seed).standard_normal(tuple(out.shape)).astype(np.float32)
            (out * torch.from_numpy(cotangent).to(side.device)).sum().backward()
            input_grads = [_channels_last(x.grad) for x in inputs]
            grads = {n: p.grad.detach().float().cpu().numpy() for n, p in module.named_parameters()}
    return CaseRun(out.detach().float().cpu().numpy(),
                   {n: t.detach().float().cpu().numpy() for n, t in module.state_dict().items() if t.is_floating_point()},
                   input_grads, grads, cotangent)


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
    with torch.no_grad():
        return float(functional_call(module, absolute, tuple(torch_input(x).abs() for x in xs)).abs().max())


def float64_gradients(module, xs: list[np.ndarray], cotangent: np.ndarray, training: bool
                      ) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """The case's input gradients (channels last) and parameter gradients (by name) in float64."""
    import copy

    import torch

    double = copy.deepcopy(module).double().train(training)
    double.zero_grad(set_to_none=True)  # the copy would start from the fp32 pass's gradients
    inputs = [torch_input(x).double().requires_grad_(True) for x in xs]
    out = double(*inputs)
    if out.dim() == 4:
        out = out.permute(0, 2, 3, 1)
    (out * torch.from_numpy(cotangent).double()).sum().backward()
    return ([x.grad.numpy().transpose(0, 2, 3, 1) if x.dim() == 4 else x.grad.numpy() for x in inputs],
            {n: p.grad.numpy() for n, p in double.named_parameters()})


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


# --- optimizers (cwtest.blocks.optimizers) ---------------------------------------------------------

def adam(torch, tensors, p, published):
    # torch Adam's weight_decay is L2 in the gradient; AdamW's is Keras's decoupled decay.
    decoupled = "adam_weight_decay" not in published
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    optimizer = cls(tensors, lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=p["eps"], weight_decay=p["weight_decay"])
    group = optimizer.param_groups[0]

    def step(t):
        correction1, correction2 = 1 - p["beta1"] ** t, 1 - p["beta2"] ** t  # torch's, in float64
        if "adam_epsilon" not in published:  # Keras's epsilon hat, expressed in torch's placement
            group["eps"] = p["eps"] / math.sqrt(correction2)
        if "adam_bias_correction" not in published:
            # torch steps by lr / correction1 * sqrt(correction2): a learning rate that makes that
            # Keras's float32 step size, and a decay rate that keeps AdamW's lr * weight_decay.
            group["lr"] = keras_adam_alpha(p["lr"], p["beta1"], p["beta2"], t) * correction1 / math.sqrt(correction2)
            if decoupled and p["weight_decay"]:
                group["weight_decay"] = p["lr"] * p["weight_decay"] / group["lr"]
        optimizer.step()

    return step


def sgd(torch, tensors, p, published):
    optimizer = torch.optim.SGD(tensors, lr=p["lr"], momentum=p["momentum"], nesterov=p["nesterov"])
    return lambda t: optimizer.step()


def optimizer_path(builder, theta: np.ndarray, gradients: np.ndarray, params: dict, published: frozenset,
                   checkpoints: tuple[int, ...]) -> list[np.ndarray]:
    """The parameters after each checkpoint step of the optimizer `builder` makes, fed `gradients` in turn."""
    import torch

    tensor = torch.tensor(theta, requires_grad=True)
    step = builder(torch, [tensor], params, published)
    found = []
    for t, gradient in enumerate(gradients, start=1):
        tensor.grad = torch.from_numpy(gradient)
        step(t)
        if t in checkpoints:
            found.append(tensor.detach().numpy().copy())
    return found

"""Run one layer-registry case on both frameworks, same inputs and weights, and measure the gap.

torch is the reference: its weights are copied into Keras, and errors are measured relative
to torch's values. Everything is compared in Keras's layout (NHWC, kernels HWIO).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from cwtest.backends import frameworks
from cwtest.backends.keras_backend import to_numpy
from cwtest.backends.sides import KERAS_SIDES, Side
from cwtest.metrics import FLOAT64_MARGIN, Errors, measure
from cwtest.models.transfer import owned
from cwtest.session import blackbox

TORCH_CPU = "torch:cpu"  # the reference side of a torch-against-Keras case

def keras_cpu() -> Side:
    """The other side: Keras on the CPU, on the backend it runs on in this process."""
    return Side(KERAS_SIDES[frameworks.keras().backend.backend()], "cpu")

# torch's state keys in the order Keras keeps the matching weights (kernel, bias / gamma, beta,
# moving_mean, moving_variance); BatchNorm's num_batches_tracked has no Keras counterpart.
KERAS_ORDER = ("weight", "bias", "running_mean", "running_var")

@dataclass(frozen=True)
class Values:
    """What one run of a case computed: per quantity the reference side's array, the other side's, and
    the scale their error is measured against (see `measure`); for gradients also the reference
    side's result in float64."""

    sides: tuple[str, str]  # reference, other
    quantities: dict[str, tuple[np.ndarray, np.ndarray, float]]
    float64: Callable[[], dict[str, np.ndarray]] | None = None  # the reference side's float64 result
    # Per quantity, the size of the terms it sums (see `_gradient_terms`), for a block that measures
    # its gradients against them: a larger scale than the one in `quantities` where a sum cancelled.
    terms: Callable[[], dict[str, float]] | None = None

    def errors(self, limit: float | None = None) -> dict[str, Errors]:
        """Each quantity's errors; where one is over `limit`, all of them against the size of their terms
        and against the float64 result too, where the case has them (computed only then: each costs
        another pass)."""
        found = {what: measure(ref, other, scale) for what, (ref, other, scale) in self.quantities.items()}
        if limit is None or all(e.eps_units <= limit for e in found.values()):
            return found
        terms = self.terms() if self.terms is not None else {}
        exact = self.float64() if self.float64 is not None else {}
        return {what: measure(ref, other, max(scale, terms.get(what, 0.0)), exact.get(what))
                for what, (ref, other, scale) in self.quantities.items()}

def assert_within(results: dict[str, Errors], limit: float, case_id: str, check: str) -> None:
    """One line per quantity over the limit, the registry entry's tolerance for this check."""
    over = [f"  {what}: {e.eps_units:.1f} eps units (max abs {e.max_abs:.3g}, "
            f"largest element-wise rel {e.max_rel_elementwise:.3g}"
            + ("" if math.isnan(e.float64_ratio) else f"; {e.float64_ratio:.3g}x the reference side's distance "
               f"from its float64 result, over {FLOAT64_MARGIN:g}") + ")"
            for what, e in results.items() if not (e.eps_units <= limit or e.within_round_off)]
    if over:
        raise AssertionError(f"{case_id}: {check} differs beyond {limit:g} fp32-eps units of the output scale "
                             f"(the registry entry's tolerance):\n" + "\n".join(over))

def keras_layout(module, layer, values: dict) -> dict:
    """A torch module's arrays (parameters, buffers or their gradients) as the Keras layer holds them."""
    from cwtest.models.transfer import keras_kernel

    depthwise = isinstance(layer, frameworks.keras().layers.DepthwiseConv2D)
    chw = getattr(module, "flattened_chw", None)  # a Linear after Flatten: torch flattened C,H,W
    out = {}
    for key in KERAS_ORDER:
        if key in values:
            array = values[key]
            if key == "weight":
                array = keras_kernel(array, (chw[1], chw[2], chw[0]) if chw else None,
                                     module.groups if depthwise else None)
            out[key] = np.ascontiguousarray(array)
    return out

def _state(module) -> dict:
    own = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
    return {k: v.detach().numpy() for k, v in own if k in KERAS_ORDER}

def _to_torch_layout(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2)) if array.ndim == 4 else array

def torch_input(array: np.ndarray):
    """An NHWC case input as the NCHW tensor torch's own constructors would make: numpy keeps the NHWC
    stride of a size-1 channel axis, which makes torch take a one-channel input as channels-last and
    run oneDNN kernels with a catalogued defect (cwtest.findings.defects: onednn_conv1x1_nhwc_backward_weights)."""
    import torch

    return torch.from_numpy(_to_torch_layout(array)).clone(memory_format=torch.contiguous_format)

def inputs_for(params: dict) -> list[np.ndarray]:
    """The case's inputs (NHWC), drawn from its seed: hypothesis draws shapes and a seed, not arrays."""
    rng = np.random.default_rng(params["seed"])
    return [(rng.standard_normal(shape) * params.get("scale", 1.0)).astype(np.float32) for shape in params["inputs"]]

def _seed_cpu(seed: int) -> None:
    """Seeds the generator a module built on the CPU draws its weights from. `torch.manual_seed`
    seeds every device's too, and each of those formats the caller's stack (for a lazy CUDA, XPU and
    MTIA init): under pytest and hypothesis, more than the rest of a simple case's torch side."""
    import torch

    torch.default_generator.manual_seed(seed)

def build_pair(block, params: dict, published: frozenset):
    """The torch module and the Keras model of a case, Keras holding torch's weights."""
    import torch

    _seed_cpu(params["seed"])
    module = block.torch(torch.nn, params, published)
    model = block.keras(frameworks.keras(), params, published)
    for name, sub in module.named_modules():
        state = _state(sub)
        if state:
            layer = model.get_layer(name)
            layer.set_weights([owned(a) for a in keras_layout(sub, layer, state).values()])
    return module, model

def compare(block, params: dict, published: frozenset = frozenset(), check: str = "forward") -> dict[str, Errors]:
    """forward: outputs and the state after the call; gradients: of sum(output * a random cotangent)
    with respect to the inputs and every weight."""
    return case_values(block, params, published, check).errors()

def case_values(block, params: dict, published: frozenset = frozenset(), check: str = "forward") -> Values:
    """The arrays `compare` measures, torch's first."""

    training = params.get("training", block.training)
    module, model = build_pair(block, params, published)
    module.train(training)
    weighted = [(name, sub) for name, sub in module.named_modules() if _state(sub)]
    xs = inputs_for(params)
    torch_in = [torch_input(x).requires_grad_(check == "gradients") for x in xs]
    blackbox.note(side=f"{TORCH_CPU} forward")
    torch_out = module(*torch_in)
    if torch_out.dim() == 4:
        torch_out = torch_out.permute(0, 2, 3, 1)
    if check == "gradients":
        return _gradients(module, model, weighted, torch_in, torch_out, xs, training, params["seed"],
                          block.gradient_scale)
    blackbox.note(side=f"{keras_cpu()} forward")
    # Tensors, not arrays: a Keras layer given an array converts it through checks that cost more than
    # the conversion itself.
    keras_in = [frameworks.keras().ops.convert_to_tensor(x) for x in xs]
    keras_out = model(keras_in if len(keras_in) > 1 else keras_in[0], training=training)
    scale = _forward_scale(block, module, torch_in)
    results = {"output": (torch_out.detach().numpy(), to_numpy(keras_out), scale)}
    for name, sub in weighted:
        layer = model.get_layer(name)
        ours = keras_layout(sub, layer, _state(sub))
        # A running mean averages inputs that can be far larger than it: its layer's state
        # (the running variance holds the inputs' spread) sets the scale of its round-off.
        scale = max(float(np.abs(a).max(initial=0.0)) for a in ours.values())
        results.update({f"{name}.{key}": (a, np.asarray(theirs), scale)
                        for (key, a), theirs in zip(ours.items(), layer.get_weights())})
    return Values((TORCH_CPU, str(keras_cpu())), results)

def _forward_scale(block, module, inputs) -> float:
    """What the block's outputs are measured against besides their own largest magnitude (see
    Block.forward_scale): nothing, the size of the terms they sum, or the largest input."""
    if block.forward_scale == "terms":
        return _terms_scale(module, inputs)
    if block.forward_scale == "inputs":
        return max(float(x.detach().abs().max()) for x in inputs)
    return 0.0

def _terms_scale(module, inputs) -> float:
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
        return float(functional_call(module, absolute, tuple(x.detach().abs() for x in inputs)).abs().max())

def _gradients(module, model, weighted, torch_in, torch_out, xs, training, seed, against: str) -> Values:
    """Gradients of sum(output * cotangent) for the inputs and the weights, on both sides."""
    import torch

    from cwtest.backends.keras_backend import differentiate

    keras = frameworks.keras()
    cotangent = np.random.default_rng(seed + 1).standard_normal(tuple(torch_out.shape)).astype(np.float32)
    blackbox.note(side=f"{keras_cpu()} forward and backward")
    weighting = keras.ops.convert_to_tensor(cotangent)  # a tensor: torch's `tensor * array` goes through numpy
    input_grads, weight_grads = differentiate(model, xs, lambda out: keras.ops.sum(out * weighting), training)
    blackbox.note(side=f"{TORCH_CPU} backward")
    (torch_out * torch.from_numpy(cotangent)).sum().backward()
    trainable = [(name, sub, model.get_layer(name).trainable_weights) for name, sub in weighted]
    keras_grads = input_grads + [weight_grads[w.path] for *_, weights in trainable for w in weights]
    keras_in = xs
    pairs = {f"d input{i}": (x.grad.numpy().transpose(0, 2, 3, 1) if x.dim() == 4 else x.grad.numpy(), g)
             for i, (x, g) in enumerate(zip(torch_in, keras_grads))}
    keras_grads = iter(keras_grads[len(keras_in):])
    for name, sub, _ in trainable:
        grads = {k: p.grad.numpy() for k, p in sub.named_parameters(recurse=False)}
        for key, ours in keras_layout(sub, model.get_layer(name), grads).items():
            pairs[f"d {name}.{key}"] = (ours, next(keras_grads))
    # Gradients are derivatives of one scalar: one scale for all. One that cancels to nearly
    # nothing (a conv bias before a training-mode BatchNorm is exactly zero in exact
    # arithmetic) holds round-off of the others' size, not an error of its own size.
    scale = max(float(np.abs(ours).max(initial=0.0)) for ours, _ in pairs.values())
    if against == "cotangent":
        scale = max(scale, float(np.abs(cotangent).max()))
    return Values((TORCH_CPU, str(keras_cpu())),
                  {what: (ours, np.asarray(theirs), scale) for what, (ours, theirs) in pairs.items()},
                  lambda: _float64_gradients(module, model, weighted, xs, cotangent, training),
                  (lambda: _gradient_terms(module, xs, cotangent, training)) if against == "terms" else None)

def _float64_gradients(module, model, weighted, xs, cotangent, training) -> dict[str, np.ndarray]:
    """torch's gradients of the same case in float64, keyed and laid out as `_gradients`'s."""
    import copy

    import torch

    double = copy.deepcopy(module).double().train(training)
    double.zero_grad(set_to_none=True)  # the copy would start from the fp32 pass's gradients
    inputs = [torch_input(x).double().requires_grad_(True) for x in xs]
    out = double(*inputs)
    if out.dim() == 4:
        out = out.permute(0, 2, 3, 1)
    (out * torch.from_numpy(cotangent).double()).sum().backward()
    found = {f"d input{i}": x.grad.numpy().transpose(0, 2, 3, 1) if x.dim() == 4 else x.grad.numpy()
             for i, x in enumerate(inputs)}
    subs = dict(double.named_modules())
    for name, _ in weighted:
        grads = {k: p.grad.numpy() for k, p in subs[name].named_parameters(recurse=False)}
        found.update({f"d {name}.{key}": g for key, g in keras_layout(subs[name], model.get_layer(name), grads).items()})
    return found

def _gradient_terms(module, xs, cotangent, training) -> dict[str, float]:
    """Per gradient, its largest sum of |cotangent| * |d output / d element| over the outputs (torch, in
    float64): the size of the terms that element's gradient adds up. As for a forward sum
    (`_terms_scale`), the round-off of a gradient that is a sum over positions and channels (a
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
    for name, local in _layer_terms(double, inputs, torch.from_numpy(cotangent).double()).items():
        found[name] = max(found.get(name, 0.0), local)
    return found

def _layer_terms(double, inputs, cotangent) -> dict[str, float]:
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

def compare_devices(block, params: dict, source, target, check: str = "forward") -> dict[str, Errors]:
    """The case's torch module on two sides (devices or precisions), the target's a copy of the source's:
    as `compare`, with the source as the reference and everything in torch's layout."""
    return device_values(block, params, source, target, check).errors()

def device_values(block, params: dict, source, target, check: str = "forward") -> Values:
    """The arrays `compare_devices` measures, the source's first."""
    import copy

    import torch

    from cwtest.backends.precision import torch_mode

    _seed_cpu(params["seed"])
    module = block.torch(torch.nn, params, frozenset())
    training = params.get("training", block.training)
    found, cotangent_scale = [], 0.0
    for side in (source, target):
        copied = copy.deepcopy(module).to(side.device).train(training)
        xs = [torch_input(x).to(side.device).requires_grad_(check == "gradients")
              for x in inputs_for(params)]
        blackbox.note(side=str(side))
        with torch_mode(side):  # backward too: it reads the TF32 flags when it runs
            out = copied(*xs).float()
            values = {"output": out}
            if check == "gradients":
                cotangent = np.random.default_rng(params["seed"] + 1).standard_normal(tuple(out.shape))
                cotangent_scale = float(np.abs(cotangent).max())
                (out * torch.from_numpy(cotangent.astype(np.float32)).to(side.device)).sum().backward()
                values = {**{f"d input{i}": x.grad for i, x in enumerate(xs)},
                          **{f"d {n}": p.grad for n, p in copied.named_parameters()}}
            else:
                values.update({n: t for n, t in copied.state_dict().items() if t.is_floating_point()})
        found.append({k: v.detach().float().cpu().numpy() for k, v in values.items()})
    reference, other = found
    # As in `compare`: gradients of one scalar share one scale; a state tensor is measured on its own.
    scale = max(float(np.abs(a).max(initial=0.0)) for a in reference.values()) if check == "gradients" else 0.0
    if block.gradient_scale == "cotangent":
        scale = max(scale, cotangent_scale)
    scales = {k: scale for k in reference}
    if check == "forward":
        scales["output"] = _forward_scale(block, module.train(training), [torch_input(x) for x in inputs_for(params)])
    return Values((str(source), str(target)), {k: (reference[k], other[k], scales[k]) for k in reference})

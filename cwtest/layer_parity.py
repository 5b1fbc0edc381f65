"""Run one layer-registry case on both frameworks, same inputs and weights, and measure the gap.

torch is the reference: its weights are copied into Keras, and errors are measured relative
to torch's values. Everything is compared in Keras's layout (NHWC, kernels HWIO).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cwtest import frameworks

EPS32 = float(np.finfo(np.float32).eps)
# torch's state keys in the order Keras keeps the matching weights (kernel, bias / gamma, beta,
# moving_mean, moving_variance); BatchNorm's num_batches_tracked has no Keras counterpart.
KERAS_ORDER = ("weight", "bias", "running_mean", "running_var")


@dataclass(frozen=True)
class Errors:
    max_abs: float
    max_rel: float  # over the elements where the reference is not zero
    eps_units: float  # max_abs in units of fp32 epsilon times the reference's largest magnitude


def measure(reference, candidate, scale: float = 0.0) -> Errors:
    """Errors of candidate against reference; eps units relative to the larger of `scale` and the
    reference's own largest magnitude."""
    ref, cand = np.asarray(reference, np.float64), np.asarray(candidate, np.float64)
    if ref.shape != cand.shape:
        return Errors(math.inf, math.inf, math.inf)
    diff = np.abs(ref - cand)
    diff[np.isnan(diff)] = math.inf
    if diff.size == 0:
        return Errors(0.0, 0.0, 0.0)
    max_abs, scale = float(diff.max()), max(scale, float(np.abs(ref).max()))
    nonzero = ref != 0
    max_rel = float((diff[nonzero] / np.abs(ref[nonzero])).max()) if nonzero.any() else 0.0
    eps_units = max_abs / (EPS32 * scale) if scale > 0 else (0.0 if max_abs == 0 else math.inf)
    return Errors(max_abs, max_rel, eps_units)


def assert_within(results: dict[str, Errors], limit: float, case_id: str, check: str) -> None:
    """One line per quantity over the limit, the registry entry's tolerance for this check."""
    over = [f"  {what}: {e.eps_units:.1f} eps units (max abs {e.max_abs:.3g}, max rel {e.max_rel:.3g})"
            for what, e in results.items() if not e.eps_units <= limit]
    if over:
        raise AssertionError(f"{case_id}: {check} differs beyond {limit:g} fp32-eps units of the output scale "
                             f"(the registry entry's tolerance):\n" + "\n".join(over))


def keras_layout(module, layer, values: dict) -> dict:
    """A torch module's arrays (parameters, buffers or their gradients) as the Keras layer holds them."""
    keras = frameworks.keras()
    out = {}
    for key in KERAS_ORDER:
        if key not in values:
            continue
        array = values[key]
        if key == "weight" and array.ndim == 4 and isinstance(layer, keras.layers.DepthwiseConv2D):
            # torch (C*m, 1, kh, kw), output channel c*m + j  ->  Keras (kh, kw, C, m)
            array = array.reshape(module.groups, -1, *array.shape[2:]).transpose(2, 3, 0, 1)
        elif key == "weight" and array.ndim == 4:
            array = array.transpose(2, 3, 1, 0)  # (O, I, kh, kw) -> (kh, kw, I, O)
        elif key == "weight" and array.ndim == 2:
            chw = getattr(module, "flattened_chw", None)
            if chw:  # a Linear after Flatten: torch flattened C,H,W, Keras flattens H,W,C
                array = array.reshape(-1, *chw).transpose(0, 2, 3, 1).reshape(array.shape[0], -1)
            array = array.T
        out[key] = np.ascontiguousarray(array)
    return out


def _state(module) -> dict:
    own = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
    return {k: v.detach().numpy() for k, v in own if k in KERAS_ORDER}


def _to_torch_layout(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2)) if array.ndim == 4 else array


def inputs_for(params: dict) -> list[np.ndarray]:
    """The case's inputs (NHWC), drawn from its seed: hypothesis draws shapes and a seed, not arrays."""
    rng = np.random.default_rng(params["seed"])
    return [(rng.standard_normal(shape) * params.get("scale", 1.0)).astype(np.float32) for shape in params["inputs"]]


def build_pair(block, params: dict, published: frozenset):
    """The torch module and the Keras model of a case, Keras holding torch's weights."""
    import torch

    torch.manual_seed(params["seed"])
    module = block.torch(torch.nn, params, published)
    model = block.keras(frameworks.keras(), params, published)
    for name, sub in module.named_modules():
        state = _state(sub)
        if state:
            layer = model.get_layer(name)
            layer.set_weights(list(keras_layout(sub, layer, state).values()))
    return module, model


def compare(block, params: dict, published: frozenset = frozenset(), check: str = "forward") -> dict[str, Errors]:
    """forward: outputs and the state after the call; gradients: of sum(output * a random cotangent)
    with respect to the inputs and every weight."""
    import torch

    training = params.get("training", block.training)
    module, model = build_pair(block, params, published)
    module.train(training)
    weighted = [(name, sub) for name, sub in module.named_modules() if _state(sub)]
    xs = inputs_for(params)
    torch_in = [torch.from_numpy(_to_torch_layout(x)).requires_grad_(check == "gradients") for x in xs]
    torch_out = module(*torch_in)
    if torch_out.dim() == 4:
        torch_out = torch_out.permute(0, 2, 3, 1)
    if check == "gradients":
        return _gradients(model, weighted, torch_in, torch_out, xs, training, params["seed"], block.gradient_scale)
    keras_out = model(xs if len(xs) > 1 else xs[0], training=training)
    results = {"output": measure(torch_out.detach().numpy(), keras_out)}
    for name, sub in weighted:
        layer = model.get_layer(name)
        ours = keras_layout(sub, layer, _state(sub))
        # A running mean averages inputs that can be far larger than it: its layer's state
        # (the running variance holds the inputs' spread) sets the scale of its round-off.
        scale = max(float(np.abs(a).max(initial=0.0)) for a in ours.values())
        results.update({f"{name}.{key}": measure(a, theirs, scale)
                        for (key, a), theirs in zip(ours.items(), layer.get_weights())})
    return results


def _gradients(model, weighted, torch_in, torch_out, xs, training, seed, against: str) -> dict[str, Errors]:
    """Gradients of sum(output * cotangent) for the inputs and the weights, on both sides."""
    import torch

    tf = frameworks.tensorflow()
    cotangent = np.random.default_rng(seed + 1).standard_normal(tuple(torch_out.shape)).astype(np.float32)
    keras_in = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        tape.watch(keras_in)
        keras_out = model(keras_in if len(keras_in) > 1 else keras_in[0], training=training)
        keras_loss = tf.reduce_sum(keras_out * cotangent)
    (torch_out * torch.from_numpy(cotangent)).sum().backward()
    trainable = [(name, sub, model.get_layer(name).trainable_weights) for name, sub in weighted]
    keras_grads = tape.gradient(keras_loss, keras_in + [w for *_, weights in trainable for w in weights])
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
    return {what: measure(ours, theirs, scale) for what, (ours, theirs) in pairs.items()}


def compare_devices(block, params: dict, source, target, check: str = "forward") -> dict[str, Errors]:
    """The case's torch module on two sides (devices or precisions), the target's a copy of the source's:
    as `compare`, with the source as the reference and everything in torch's layout."""
    import copy

    import torch

    from cwtest.precision import torch_mode

    torch.manual_seed(params["seed"])
    module = block.torch(torch.nn, params, frozenset())
    training = params.get("training", block.training)
    found, cotangent_scale = [], 0.0
    for side in (source, target):
        copied = copy.deepcopy(module).to(side.device).train(training)
        xs = [torch.from_numpy(_to_torch_layout(x)).to(side.device).requires_grad_(check == "gradients")
              for x in inputs_for(params)]
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
    return {k: measure(reference[k], other[k], scale) for k in reference}

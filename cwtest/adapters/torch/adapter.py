"""The PyTorch adapter: torchvision's models and the published torch definitions, NCHW float32 input
scaled to [0, 1]; forward and gradients for the transfer suite, and for paired training a model
built under the knobs, trained, predicted, nudged, saved and loaded.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from cwtest.core.overrides import overridden
from cwtest.frameworks.determinism import torch_kernels
from cwtest.frameworks.imports import framework_versions
from cwtest.frameworks.precision import nudge_pattern, torch_mode
from cwtest.frameworks.sides import Side
from cwtest.core.errors import InputError
from cwtest.inputs.data import IMAGE_SIZE
from cwtest.registries.architectures import REGISTRY
from cwtest.core.records import Layer, Read
from cwtest.registries import knobs as knobs_
from cwtest.adapters.torch.models import BUILDERS
from cwtest.core.training_loop import Plan, Progress, SideRun, batches, run_epochs


def available(side: Side) -> str | None:
    """None when the side can run here, else why it cannot."""
    import torch

    kind = side.device.partition(":")[0]
    if kind == "cpu":
        return None
    if kind == "cuda":
        return None if torch.cuda.is_available() else f"{side}: no CUDA device is visible to torch on this machine"
    # Any other accelerator torch runs (xpu, mps, hpu, mtia, a PrivateUse1 backend under its registered name):
    # torch.accelerator names the one this process has.
    accelerator = torch.accelerator.current_accelerator() if torch.accelerator.is_available() else None
    if accelerator is None or accelerator.type != kind:
        found = f"its accelerator here is {accelerator.type}" if accelerator is not None else "it has no accelerator here"
        return f"{side}: torch {torch.__version__} cannot run on {kind}: {found}"
    return None


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    import torch

    torch.manual_seed(seed)
    return BUILDERS[REGISTRY[arch].flavours[flavour].torch]().to(side.device)


def precision(side: Side):
    return torch_mode(side)


def versions(side: Side) -> dict[str, str]:
    return framework_versions(("torch", "torchvision"))


def deterministic(side: Side, on: bool):
    return torch_kernels(on)


def weights(model) -> list[np.ndarray]:
    """Every floating-point parameter and buffer, in state_dict order (BatchNorm's step count is not a weight)."""
    return [v.detach().cpu().numpy() for v in model.state_dict().values() if v.is_floating_point()]


def set_weights(model, arrays: list[np.ndarray]) -> None:
    """The arrays `weights` gives, back in place, each onto its tensor's device."""
    import torch

    targets = [v for v in model.state_dict().values() if v.is_floating_point()]
    if len(targets) != len(arrays):
        raise ValueError(f"{len(arrays)} arrays for the {len(targets)} weights of {type(model).__name__}")
    with torch.no_grad():
        for target, array in zip(targets, arrays):
            target.copy_(torch.from_numpy(np.asarray(array)))


def layers(model, image_size: int | None = None, example: np.ndarray | None = None) -> Read:
    """The layers that hold weights, as the structure check compares them (cwtest.models.structure), their
    output shapes traced on a blank image batch or, for a model of any other input, on `example`. A
    MultiheadAttention is one layer, its out_proj part of it."""
    import torch

    image_size = image_size or IMAGE_SIZE
    modules = _weighted_modules(model)
    shapes = {}

    def keep(name, output):
        output = output[0] if isinstance(output, tuple) else output  # an attention's (output, weights)
        shapes[name] = tuple(output.shape[1:])

    hooks = [m.register_forward_hook(lambda m, i, o, n=n: keep(n, o)) for n, m in modules]
    device = next(model.parameters()).device
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 3, image_size, image_size, device=device) if example is None
                  else torch.from_numpy(np.asarray(example)).to(device))
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    found = []
    for name, module in modules:
        shape = shapes[name]
        kind = _kind(module)
        count = sum(p.numel() for p in module.parameters()) + sum(
            b.numel() for n, b in module.named_buffers() if n in ("running_mean", "running_var"))
        convolution = kind in ("conv", "conv_transpose")
        found.append(Layer(
            name, kind, _channels_last(module, shape), count,
            stride=tuple(module.stride) if convolution else None,
            padding=_padding(module) if kind == "conv" else None,
            bias=module.bias is not None if kind in ("conv", "conv_transpose", "dense") else None,
            options=_options(module, kind),
            handle=module, gradient_keys=tuple(f"{name}.{key}" for key, _ in module.named_parameters())))
    return Read(found, image_size)


def _weighted_modules(model) -> list:
    """(name, module) for each module that holds weights of its own, a MultiheadAttention whole."""
    import torch.nn as nn

    found, inside = [], None
    for name, module in model.named_modules():
        if inside is not None and name.startswith(inside):
            continue  # a part of the attention taken whole
        if isinstance(module, nn.MultiheadAttention):
            found.append((name, module))
            inside = f"{name}."
        elif not list(module.children()) and any(True for _ in module.parameters(recurse=False)):
            found.append((name, module))
    return found


def _kind(module) -> str:
    """The weight map's kind of a torch module (cwtest.core.layouts), else its class name."""
    import torch.nn as nn

    kinds = ((nn.modules.conv._ConvTransposeNd, "conv_transpose"), (nn.modules.conv._ConvNd, "conv"),
             (nn.modules.batchnorm._BatchNorm, "batchnorm"), (nn.LayerNorm, "layernorm"), (nn.GroupNorm, "groupnorm"),
             (nn.RMSNorm, "rmsnorm"), (nn.Embedding, "embedding"))
    if type(module) is nn.Linear:
        return "dense"
    if isinstance(module, nn.MultiheadAttention):
        # kdim or vdim other than embed_dim keep three separate projections: a layout of their own
        return "attention" if module._qkv_same_embed_dim else type(module).__name__
    return next((kind for cls, kind in kinds if isinstance(module, cls)), type(module).__name__)


def _channels_first(module) -> bool:
    """Whether the module's outputs put channels after the batch (torch's convolutions and their norms), where
    Keras's put them last."""
    return _kind(module) in ("conv", "conv_transpose", "batchnorm", "groupnorm")


def _channels_last(module, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A per-sample output shape as Keras's layer would have it: an image map's, or a channels-first module's
    of any rank, with channels last."""
    if len(shape) == 3 or (len(shape) > 1 and _channels_first(module)):
        return (*shape[1:], shape[0])
    return shape


def _padding(module) -> tuple[int, ...]:
    """A convolution's zero padding, (before, after) per spatial axis; torch's "same" puts the odd one after."""
    if module.padding == "valid":
        return (0, 0) * len(module.kernel_size)
    if module.padding == "same":
        totals = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
        return tuple(n for total in totals for n in (total // 2, total - total // 2))
    return tuple(n for p in module.padding for n in (p, p))


def _options(module, kind: str) -> tuple[tuple[str, object], ...]:
    """What else decides the function (cwtest.core.records.Layer.options), as Keras's adapter spells it."""
    found = []
    if kind in ("conv", "conv_transpose"):
        found += [("groups", module.groups)] if module.groups > 1 else []
        found += [("dilation", tuple(module.dilation))] if max(module.dilation) > 1 else []
        found += [("padding_mode", module.padding_mode)] if module.padding_mode != "zeros" else []
    elif kind == "groupnorm":
        found.append(("groups", module.num_groups))
    elif kind == "attention":
        found += [("heads", module.num_heads), ("head_size", module.head_dim)]
    return tuple(found)


# A paired layer's tensors in the weight map's order (cwtest.models.transfer): weight, bias, BatchNorm statistics;
# an attention's packed projections, then its output's.
_LAYER_TENSORS = ("weight", "bias", "running_mean", "running_var")
_ATTENTION_TENSORS = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")


def _layer_tensors(handle) -> list:
    import torch.nn as nn

    if isinstance(handle, nn.MultiheadAttention):
        named = dict(handle.named_parameters())
        return [named[n] for n in _ATTENTION_TENSORS if n in named]
    return [t for t in (getattr(handle, n, None) for n in _LAYER_TENSORS) if t is not None]


def layer_weights(handle) -> list[np.ndarray]:
    """A layer's arrays (from `layers`), weight first, in torch's layout."""
    import torch

    with torch.no_grad():
        return [t.detach().cpu().numpy() for t in _layer_tensors(handle)]


def set_layer_weights(handle, arrays: list[np.ndarray]) -> None:
    """A layer's arrays, as `layer_weights` orders them, copied in place onto its tensors' device."""
    import torch

    with torch.no_grad():
        for tensor, value in zip(_layer_tensors(handle), arrays, strict=True):
            tensor.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def activations(model, handles: list, images: np.ndarray, side: Side, training: bool = False) -> list[np.ndarray]:
    """The outputs of the given layers (from `layers`) on uint8 NHWC images, channels last."""
    return layer_outputs(model, handles, _float_images(images), side, training)


def layer_outputs(model, handles: list, inputs: np.ndarray, side: Side, training: bool = False) -> list[np.ndarray]:
    """The outputs of the given layers (from `layers`) on inputs as the model takes them, channels last."""
    return outputs_while(handles, lambda: run(model, inputs, side, training=training))


def outputs_while(handles: list, call) -> list[np.ndarray]:
    """The outputs of the given layers (from `layers`) while `call` runs their model, however it runs it (another
    side's adapter, a plugin's kernels), channels last: read by forward hooks, which a module calls whoever calls it."""
    return _captured(handles, call)


def _captured(handles: list, call, float64: bool = False) -> list[np.ndarray]:
    """`outputs_while`, in float32 (half precision outputs widened) or, with `float64`, in float64."""
    captured = {}

    def keep(n: int, output) -> None:
        output = output[0] if isinstance(output, tuple) else output  # an attention's (output, weights)
        captured[n] = (output.detach().double() if float64 else output.detach().float()).cpu().numpy().copy()

    hooks = [m.register_forward_hook(lambda m, i, o, n=n: keep(n, o)) for n, m in enumerate(handles)]
    try:
        call()
    finally:
        for hook in hooks:
            hook.remove()
    missing = [n for n in range(len(handles)) if n not in captured]
    if missing:
        raise LookupError(f"{len(missing)} of {len(handles)} layers were not called as modules while the model ran "
                          f"(a side that runs the model without calling its modules hides them)")
    return [_channels_last_array(handle, captured[n]) for n, handle in enumerate(handles)]


def _channels_last_array(module, array: np.ndarray) -> np.ndarray:
    """A layer's output batch as Keras's layer would have it (`_channels_last`)."""
    if array.ndim == 4 or (array.ndim > 2 and _channels_first(module)):
        return np.moveaxis(array, 1, -1)
    return array


def nudged(model, size: float, sign: float, seed: int = 1):
    """A copy of `model` with every parameter nudged as cwtest.frameworks.precision.nudged nudges an array."""
    import copy

    import torch

    moved = copy.deepcopy(model)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in moved.parameters():
            pattern = torch.from_numpy(nudge_pattern(tuple(p.shape), rng)).to(p.device)
            p.copy_(p.double() * (1.0 + sign * size * pattern))  # copy_ rounds back to the parameter's dtype
    return moved


def _float_images(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC images as the architectures take them: float NCHW in [0, 1]."""
    return images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    return run(model, _float_images(images), side, training)


def run(model, inputs: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    """The model's output on inputs as it takes them (any shape and dtype), as float32."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(inputs)).to(side.device)
    model.train(training)
    with torch.no_grad(), torch_mode(side):
        return model(x).float().cpu().numpy()  # autocast modes return half-precision logits


def _float64_copy(model):
    import copy

    return copy.deepcopy(model).cpu().double()


def _float64_run(exact, images: np.ndarray, training: bool) -> np.ndarray:
    import torch

    with torch.no_grad():  # a training-mode pass moves the copy's BatchNorm statistics, not the model's
        return exact.train(training)(torch.from_numpy(_float_images(images)).double()).numpy()


def float64_forward(model, images: np.ndarray, training: bool = False) -> np.ndarray:
    """Logits of a float64 copy of the model on the CPU."""
    return _float64_run(_float64_copy(model), images, training)


def float64_activations(model, handles: list, images: np.ndarray, training: bool = False) -> list[np.ndarray]:
    """The outputs of the given layers of `model` (from `layers`) on its float64 copy, channels last, in float64."""
    exact = _float64_copy(model)
    names = {id(module): name for name, module in model.named_modules()}
    copies = dict(exact.named_modules())
    return _captured([copies[names[id(handle)]] for handle in handles], lambda: _float64_run(exact, images, training),
                     float64=True)


def gradients(model, images: np.ndarray, labels: np.ndarray, side: Side,
              float64: bool = False) -> dict[str, np.ndarray]:
    """Parameter name -> gradient of the mean cross-entropy of the logits, one pass in training mode;
    `float64` computes it on a float64 copy of the model, as a reference for fp32 rounding."""
    return float_gradients(model, _float_images(images), labels, side, float64)


def projection_gradients(model, inputs: np.ndarray, cotangent: np.ndarray, side: Side,
                         float64: bool = False) -> dict[str, np.ndarray]:
    """Parameter name -> gradient of sum(output * cotangent) / batch, one pass in training mode: a loss any
    output has (a user's model need not classify); `float64` as in `gradients`."""
    import torch

    model.train(True)
    x = torch.from_numpy(np.ascontiguousarray(inputs)).to(side.device)
    found = cotangent_backward(model, [x], cotangent, side, float64=float64, divisor=len(inputs))[2]
    return {name: g.cpu().numpy() for name, g in found.items()}


def cotangent_backward(module, inputs: list, cotangent, side: Side, float64: bool = False,
                       channels_last: bool = False, divisor: int = 1):
    """One backward pass of sum(output * cotangent) / divisor through `module` in the mode it is in, from the
    tensors `inputs` (floating ones that require grad get an input gradient), in the side's precision mode;
    with `float64`, through float64 copies of the module and the inputs: the reference for fp32 rounding.
    `channels_last`: a 4-D output is taken, and the cotangent given, as NHWC. `cotangent` is an array, or a
    function of the output's shape that draws one. The one path for a gradient against a cotangent (a user's
    model, the layer suite's cases). Returns the output (float32 unless `float64`), the input gradients, the
    parameter gradients by name (tensors) and the cotangent."""
    import copy

    import torch

    if float64:
        module = copy.deepcopy(module).double()
        inputs = [x.detach().double().requires_grad_(x.requires_grad) if x.is_floating_point() else x for x in inputs]
    module.zero_grad(set_to_none=True)  # a copy would start from the original's gradients
    with torch_mode(side):  # backward too: its convolutions read the TF32 flags when they run
        out = module(*inputs)
        out = out if float64 else out.float()  # autocast modes return half precision
        if channels_last and out.dim() == 4:
            out = out.permute(0, 2, 3, 1)
        cotangent = cotangent(tuple(out.shape)) if callable(cotangent) else cotangent
        total = (out * torch.from_numpy(cotangent).to(side.device, out.dtype)).sum()
        (total / divisor if divisor != 1 else total).backward()
    input_grads = [x.grad for x in inputs if x.requires_grad]
    found = {name: p.grad.detach() for name, p in module.named_parameters() if p.grad is not None}
    module.zero_grad(set_to_none=True)
    return out.detach(), input_grads, found, cotangent


def float_gradients(model, x: np.ndarray, labels: np.ndarray, side: Side,
                    float64: bool = False) -> dict[str, np.ndarray]:
    """`gradients` on float NCHW inputs (cwtest.models.device_transfer nudges them)."""
    import copy

    import torch

    inputs = torch.from_numpy(x).to(side.device)
    if float64:
        model, inputs = copy.deepcopy(model).double(), inputs.double()
    model.train(True)
    model.zero_grad(set_to_none=True)
    with torch_mode(side):  # backward too: its convolutions read the TF32 flags when they run
        torch.nn.functional.cross_entropy(model(inputs), torch.from_numpy(labels).long().to(side.device)).backward()
    found = {name: p.grad.cpu().numpy() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return found


def _dropping(module) -> bool:
    """A module that drops at random in training mode: dropout, or torchvision's stochastic depth (EfficientNet's)."""
    import torch.nn as nn
    from torchvision.ops import StochasticDepth

    return isinstance(module, (nn.modules.dropout._DropoutNd, StochasticDepth))


def comparable(model):
    return overridden([(m, "p", 0.0) for m in model.modules() if _dropping(m)])


# --- training ----------------------------------------------------------------------------------------

EVAL_BATCH = 500


def build_trainable(arch: str, knobs: frozenset[str], side: Side, seed: int = 0):
    import torch

    torch.manual_seed(seed)
    model = BUILDERS[REGISTRY[arch].flavours["published"].torch]().to(side.device)
    epsilon = knobs_.torch_bn_epsilon(arch, knobs)
    for module in model.modules():
        if knobs_.torch_dropout_off(knobs) and _dropping(module):
            module.p = 0.0  # kept as a module so that state dicts stay the published ones
        if epsilon and isinstance(module, torch.nn.BatchNorm2d):
            module.eps = epsilon
    return model


def nudge(model) -> None:
    """Move every weight by one ulp: the smallest change a training trajectory can feel."""
    import torch

    with torch.no_grad():
        for tensor in model.parameters():
            tensor.copy_(torch.nextafter(tensor, torch.full_like(tensor, float("inf"))))


def _images(x: np.ndarray, side: Side):
    import torch

    return torch.from_numpy(x.transpose(0, 3, 1, 2).astype(np.float32) / 255.0).to(side.device)


def train(model, plan: Plan, x: np.ndarray, y: np.ndarray, knobs: frozenset[str], side: Side,
          progress: Progress) -> SideRun:
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=plan.learning_rate, eps=plan.adam_epsilon)
    loss_fn = torch.nn.CrossEntropyLoss()
    labels = torch.from_numpy(y).long().to(side.device)

    def step(start: int, stop: int, number: int) -> float:
        for group in optimizer.param_groups:
            group["eps"] = knobs_.torch_adam_epsilon(plan.adam_epsilon, number, knobs)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(_images(x[start:stop], side)), labels[start:stop])
        loss.backward()
        optimizer.step()
        return loss.item()

    model.train()
    # Without the knob the run's own setting (--crossedwires-deterministic) stays in force.
    with deterministic(side, knobs_.deterministic_kernels(knobs)), precision(side):
        return run_epochs(plan, len(y), step, str(side), progress)


def predict(model, x: np.ndarray, side: Side) -> np.ndarray:
    import torch

    model.eval()
    with torch.no_grad(), torch_mode(side):
        return np.concatenate([model(_images(x[a:b], side)).argmax(1).cpu().numpy()
                               for a, b in batches(len(x), EVAL_BATCH)])


def save(model, folder: Path, trial: str) -> Path:
    """As the CrossedWires dataset stores it: `<trial>.pt_model.pt`, a state dict."""
    import torch

    path = folder / f"{trial}.pt_model.pt"
    torch.save(model.state_dict(), path)
    return path


def load(arch: str, folder: Path, trial: str, side: Side):
    return load_state(arch, folder / f"{trial}.pt_model.pt", str(folder / f"{trial}.pt_model.pt"), side)


def load_published(arch: str, stored: bytes, shown: str, side: Side):
    """A published trial's torch state dict (the file's bytes, read by cwtest.published) on the side's device."""
    return load_state(arch, io.BytesIO(stored), shown, side)


def load_state(arch: str, source, shown: str, side: Side):
    """The published torch model of `arch` with a state dict from `source` (a path or a binary file),
    on the side's device whatever device it was saved from (the published ones say cuda:0)."""
    import pickle

    import torch

    try:
        # weights_only: torch's unpickler builds tensors and plain containers only, so a crafted
        # checkpoint is refused before it can call anything (a full unpickle runs what it names).
        state = torch.load(source, map_location=side.device, weights_only=True)
    except pickle.UnpicklingError as exc:
        named = next((line.strip() for line in str(exc).splitlines() if "GLOBAL" in line), "")
        raise InputError(f"--crossedwires-checkpoints: {shown} is not a plain state dict and was not loaded "
                         f"(torch.load with weights_only=True refused it{': ' + named if named else ''})") from None
    except (RuntimeError, EOFError, OSError) as exc:  # a truncated or foreign file
        raise InputError(f"{shown}: not a torch state dict ({str(exc).splitlines()[0]})") from None
    model = build_trainable(arch, frozenset(), side)
    if not isinstance(state, dict):
        raise InputError(f"{shown}: holds a {type(state).__name__}, not a state dict")
    missing = sorted(set(model.state_dict()) - set(state))
    unexpected = sorted(set(state) - set(model.state_dict()))
    if missing or unexpected:
        raise InputError(f"{shown}: not the published {arch}'s state dict (missing "
                         f"{', '.join(missing[:3]) or 'nothing'}; unexpected {', '.join(unexpected[:3]) or 'nothing'})")
    for name, tensor in model.state_dict().items():
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise InputError(f"{shown}: {name} has shape {tuple(state[name].shape)}, the published {arch} "
                             f"needs {tuple(tensor.shape)}")
    model.load_state_dict(state)
    return model.eval()

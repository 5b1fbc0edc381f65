"""How torch builds each block of the layer registry (cwtest.registries.layers) and each optimizer of the
optimizer registry (cwtest.registries.optimizers), under the keys the entries name (BUILDERS, OPTIMIZERS).

Builders get `torch.nn` passed in and `kept`, the set of differences to leave as the frameworks ship them;
everything else is harmonized. Modules name their weighted submodules as the Keras layers are named
(cwtest.adapters.keras.blocks): that pairs them (cwtest.blocks.layer_parity.keras_layout).
"""

from __future__ import annotations

import math
from collections import OrderedDict

from cwtest.core.adam import keras_adam_alpha
from cwtest.core.keyed import Builders
from cwtest.core.padding import same_padding, same_pads, symmetric
from cwtest.registries.layer_strategies import TORCH_AXIS, labels_for, rmsnorm_epsilon, targets_for

BUILDERS = Builders()  # the layer registry's keys (cwtest.registries.layers: Block.builds) -> builders
OPTIMIZERS = Builders()  # the optimizer registry's keys (cwtest.registries.optimizers: Optimizer.builds) -> builders


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


def _torch_batchnorm(nn, channels, eps=1e-5, momentum=0.1, affine=True, center=True, kind="BatchNorm2d"):
    """torch defaults (momentum 0.1), with random affine weights and running statistics; `center` False: a
    learnable scale without an offset."""
    bn = getattr(nn, kind)(channels, eps=eps, momentum=momentum, affine=affine, **({} if center else {"bias": False}))
    if bn.weight is not None:
        nn.init.uniform_(bn.weight, 0.5, 1.5)
    if bn.bias is not None:
        nn.init.uniform_(bn.bias, -0.5, 0.5)
    nn.init.uniform_(bn.running_mean, -0.5, 0.5)
    nn.init.uniform_(bn.running_var, 0.5, 2.0)
    return bn


def channels_last(nn, **modules):
    """The modules one after another on a channels-last input of any rank, (N, ..., C): torch's layers take the
    channels first, and the layer suite hands torch a 4-D image as NCHW but any other input as it is."""

    def forward(m, x):
        for layer in m.values():
            x = layer(x.movedim(-1, 1)).movedim(1, -1)
        return x

    return graph(nn, forward, **modules)


def _hw(p) -> tuple[int, int]:
    return tuple(p["inputs"][0][1:3])


def _same(nn, p, window, layer, name, dilation=(1, 1), fill=0.0):
    """`layer` (a padding argument -> a module), named `name`, under TensorFlow's `same` padding: torch's own
    `same` where it has one (a convolution at stride 1), its symmetric padding where the pads are alike on
    both sides of each axis, else the pads made explicit (with `fill`) before an unpadded layer."""
    if name == "conv" and p["stride"] == (1, 1):
        return chain(nn, conv=layer("same"))  # torch pads the odd pixel after too
    pads = same_pads(_hw(p), window, p["stride"], dilation)
    if symmetric(pads) is not None:
        return chain(nn, **{name: layer(symmetric(pads))})
    return chain(nn, pad=nn.ConstantPad2d(pads, fill), **{name: layer(0)})


@BUILDERS("conv2d")
def conv(nn, p, kept):
    def layer(padding):
        return nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], p["stride"], padding, p["dilation"],
                         p["groups"], p["bias"])

    if p["padding"] == "same":
        return _same(nn, p, p["kernel"], layer, "conv", p["dilation"])
    return chain(nn, conv=layer(p["pad"] if p["padding"] == "explicit" else 0))


def _nd_pads(p, sizes) -> tuple[int, ...]:
    """The explicit pads of a 1-D or 3-D convolution's padding, in torch.nn.functional.pad's order (last axis
    first): none (`valid`), TensorFlow's `same` (the odd one after), or `causal` (the whole reach before)."""
    pads = []
    for size, kernel in zip(reversed(sizes), reversed(p["kernel"])):
        if p["padding"] == "same":
            pads += same_padding(size, kernel, p["stride"], p["dilation"])
        else:
            pads += (p["dilation"] * (kernel - 1), 0) if p["padding"] == "causal" else (0, 0)
    return tuple(pads)


@BUILDERS("conv1d", "conv3d")
def conv_nd(nn, p, kept):
    *sizes, channels = p["inputs"][0][1:]
    kind = {1: (nn.Conv1d, nn.ConstantPad1d), 3: (nn.Conv3d, nn.ConstantPad3d)}[len(sizes)]
    conv = kind[0](channels, p["filters"], p["kernel"], p["stride"], 0, p["dilation"], p["groups"], p["bias"])
    return channels_last(nn, pad=kind[1](_nd_pads(p, sizes), 0.0), conv=conv)


@BUILDERS("conv2d_transpose")
def conv_transpose(nn, p, kept):
    """torch's transposed convolution at its full size (every position a kernel tap reaches, and the positions
    Keras adds after where the stride is larger than the kernel's reach), cut to Keras's: `valid` keeps it,
    `same` keeps input * stride from TensorFlow's `same` pads before, the odd one after (torch's `padding` cuts
    both sides alike)."""
    reach = [d * (k - 1) + 1 for k, d in zip(p["kernel"], p["dilation"])]
    conv = nn.ConvTranspose2d(p["inputs"][0][3], p["filters"], p["kernel"], p["stride"], 0,
                              [max(s - r, 0) for s, r in zip(p["stride"], reach)], 1, p["bias"], p["dilation"])
    sizes = [n * s + (max(r - s, 0) if p["padding"] == "valid" else 0)
             for n, s, r in zip(_hw(p), p["stride"], reach)]
    before = [0 if p["padding"] == "valid" else max(r - s, 0) // 2 for s, r in zip(p["stride"], reach)]

    def forward(m, x):
        y = m["conv"](x)
        return y[:, :, before[0]:before[0] + sizes[0], before[1]:before[1] + sizes[1]]

    return graph(nn, forward, conv=conv)


@BUILDERS("conv2d_same_stride2")
def same_stride2(nn, p, kept):
    return chain(nn, conv=nn.Conv2d(p["inputs"][0][3], p["filters"], p["kernel"], 2, p["kernel"] // 2,
                                    bias=p["bias"]))


@BUILDERS("conv2d_depthwise")
def depthwise(nn, p, kept):
    channels = p["inputs"][0][3]

    def layer(padding):
        return nn.Conv2d(channels, channels * p["multiplier"], p["kernel"], p["stride"], padding, p["dilation"],
                         groups=channels, bias=p["bias"])

    if p["padding"] == "same":
        return _same(nn, p, p["kernel"], layer, "conv", p["dilation"])
    return chain(nn, conv=layer(0))


@BUILDERS("flatten_dense")
def flatten_dense(nn, p, kept):
    _, h, w, c = p["inputs"][0]
    dense = nn.Linear(h * w * c, p["units"], bias=p["bias"])
    dense.flattened_chw = (c, h, w)  # read by the weight map: Keras flattens H,W,C
    return chain(nn, flatten=nn.Flatten(), dense=dense)


@BUILDERS("batchnorm")
def batchnorm_block(nn, p, kept):
    # A kept bn_epsilon or bn_momentum compares the frameworks' defaults, whatever was drawn.
    eps = 1e-5 if "bn_epsilon" in kept or p["epsilon"] is None else p["epsilon"]
    momentum = 0.1 if "bn_momentum" in kept or p["momentum"] is None else p["momentum"]
    return chain(nn, bn=_torch_batchnorm(nn, p["inputs"][0][3], eps, momentum, p["affine"], p.get("center", True)))


@BUILDERS("batchnorm_nd")
def batchnorm_nd(nn, p, kept):
    eps = 1e-5 if "bn_epsilon" in kept or p["epsilon"] is None else p["epsilon"]
    momentum = 0.1 if "bn_momentum" in kept or p["momentum"] is None else p["momentum"]
    kind = "BatchNorm3d" if len(p["inputs"][0]) == 5 else "BatchNorm1d"
    return channels_last(nn, bn=_torch_batchnorm(nn, p["inputs"][0][-1], eps, momentum, p["affine"], p["center"], kind))


def _random_affine(nn, norm):
    """A normalization's learnable scale and offset drawn away from their initial 1 and 0, as BatchNorm's are."""
    if norm.weight is not None:
        nn.init.uniform_(norm.weight, 0.5, 1.5)
    if getattr(norm, "bias", None) is not None:  # RMSNorm has none
        nn.init.uniform_(norm.bias, -0.5, 0.5)
    return norm


@BUILDERS("layernorm")
def layernorm(nn, p, kept):
    # A kept layernorm_epsilon compares the frameworks' defaults, whatever was drawn.
    eps = 1e-5 if "layernorm_epsilon" in kept or p["epsilon"] is None else p["epsilon"]
    shape = p["inputs"][0][-p["axes"]:]
    return chain(nn, norm=_random_affine(nn, nn.LayerNorm(shape, eps, p["affine"], p["center"])))


@BUILDERS("rmsnorm")
def rmsnorm(nn, p, kept):
    # A kept rmsnorm_epsilon compares the defaults (None: the input type's machine epsilon).
    eps = None if "rmsnorm_epsilon" in kept else rmsnorm_epsilon(p)
    return chain(nn, norm=_random_affine(nn, nn.RMSNorm(p["inputs"][0][-p["axes"]:], eps)))


@BUILDERS("groupnorm")
def groupnorm(nn, p, kept):
    eps = 1e-5 if "groupnorm_epsilon" in kept or p["epsilon"] is None else p["epsilon"]
    norm = nn.GroupNorm(p["groups"], p["inputs"][0][3], eps, p["affine"], bias=p["center"])
    return chain(nn, norm=_random_affine(nn, norm))


@BUILDERS("maxpool")
def maxpool(nn, p, kept):
    if p["padding"] == "valid":
        return nn.MaxPool2d(p["pool"], p["stride"])
    # Padding no window can take as its maximum: -inf, as torch's own padding is.
    return _same(nn, p, p["pool"], lambda padding: nn.MaxPool2d(p["pool"], p["stride"], padding), "pool",
                 fill=-math.inf)


def _mean_over_inputs(nn, pads, pool, stride):
    """An average pool over zero-padded inputs divided by the share of each window that is input: the mean of
    the inputs a window holds, as Keras's `same` pools (torch's count_include_pad=False, for any padding)."""
    import torch

    def forward(m, x):
        share = nn.functional.avg_pool2d(nn.functional.pad(torch.ones_like(x[:1, :1]), pads), pool, stride)
        return nn.functional.avg_pool2d(nn.functional.pad(x, pads), pool, stride) / share

    return graph(nn, forward)


@BUILDERS("avgpool")
def avgpool(nn, p, kept):
    if p["padding"] == "valid":
        return nn.AvgPool2d(p["pool"], p["stride"])
    pads = same_pads(_hw(p), p["pool"], p["stride"])
    if symmetric(pads) is not None:  # torch's own padding; its default counts it in the means
        return nn.AvgPool2d(p["pool"], p["stride"], symmetric(pads),
                            count_include_pad="avgpool_counts_padding" in kept)
    return _mean_over_inputs(nn, pads, p["pool"], p["stride"])


@BUILDERS("concatenate")
def concatenate(nn, p, kept):
    import torch

    return graph(nn, lambda m, x, y: torch.cat([x, y], 1))


@BUILDERS("cropping2d")
def cropping2d(nn, p, kept):
    t, b, left, r = p["top"], p["bottom"], p["left"], p["right"]
    return graph(nn, lambda m, x: x[:, :, t:x.shape[2] - b, left:x.shape[3] - r])


@BUILDERS("upsampling2d")
def upsampling2d(nn, p, kept):
    return nn.Upsample(scale_factor=tuple(float(s) for s in p["size"]), mode=p["interpolation"],
                       align_corners=False if p["interpolation"] == "bilinear" else None)


@BUILDERS("resize")
def resize(nn, p, kept):
    # Keras's nearest neighbour is the one at each output pixel's centre, torch's "nearest-exact"; torch's "nearest"
    # takes the one at its top left corner.
    published = "resize_nearest_pixel_centers" in kept
    mode = "nearest" if published else {"nearest": "nearest-exact", "bilinear": "bilinear"}[p["interpolation"]]
    corners = {"align_corners": False} if mode == "bilinear" else {}
    return graph(nn, lambda m, x: nn.functional.interpolate(x, (p["height"], p["width"]), mode=mode, **corners))


@BUILDERS("flatten")
def flatten(nn, p, kept):
    if "flatten_channel_order" in kept:
        return nn.Flatten()  # the channels first, each channel's rows after: C, H, W
    return graph(nn, lambda m, x: x.permute(0, 2, 3, 1).flatten(1))  # Keras's order: H, W, C


@BUILDERS("vgg_conv_block")
def vgg(nn, p, kept):
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
    def build(nn, p, kept):
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


@BUILDERS("densenet_dense_layer")
def dense_layer(nn, p, kept):
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


@BUILDERS("densenet_transition")
def transition(nn, p, kept):
    """torchvision's _Transition: BN-ReLU-1x1 conv halving the channels-2x2 average pool."""
    cin = p["inputs"][0][3]
    return chain(nn, bn=_torch_batchnorm(nn, cin), relu=nn.ReLU(),
                        conv=nn.Conv2d(cin, cin // 2, 1, bias=False), pool=nn.AvgPool2d(2, 2))


@BUILDERS("cross_entropy_logits", "cross_entropy_softmax")
def cross_entropy(nn, p, kept):
    import torch

    labels = torch.from_numpy(labels_for(p))
    return graph(nn, lambda m, x: nn.functional.cross_entropy(x, labels.to(x.device), reduction="none"))


def _loss(nn, p, loss):
    """A module computing each row's loss of its input against the case's targets, in the input's type."""
    import torch

    targets = torch.from_numpy(targets_for(p))
    return graph(nn, lambda m, x: loss(x, targets.to(x.device, x.dtype)))


@BUILDERS("mse")
def mse(nn, p, kept):
    return _loss(nn, p, lambda x, y: nn.functional.mse_loss(x, y, reduction="none").mean(-1))


@BUILDERS("mae")
def mae(nn, p, kept):
    return _loss(nn, p, lambda x, y: nn.functional.l1_loss(x, y, reduction="none").mean(-1))


@BUILDERS("huber")
def huber(nn, p, kept):
    return _loss(nn, p, lambda x, y: nn.functional.huber_loss(x, y, reduction="none", delta=p["delta"]).mean(-1))


@BUILDERS("smooth_l1")
def smooth_l1(nn, p, kept):
    # SmoothL1Loss(beta) is Huber(delta=beta) / beta: harmonized, scaled back to Keras's huber
    factor = 1.0 if "smooth_l1_is_huber_over_beta" in kept else p["delta"]
    return _loss(nn, p, lambda x, y: nn.functional.smooth_l1_loss(x, y, reduction="none", beta=p["delta"]).mean(-1)
                 * factor)


@BUILDERS("binary_cross_entropy")
def binary_cross_entropy(nn, p, kept):
    smoothing = p["label_smoothing"]  # torch has no label_smoothing here: the targets smoothed as Keras smooths them
    return _loss(nn, p, lambda x, y: nn.functional.binary_cross_entropy_with_logits(
        x, y * (1 - smoothing) + 0.5 * smoothing, reduction="none").mean(-1))


@BUILDERS("cross_entropy_smoothing")
def cross_entropy_smoothing(nn, p, kept):
    import torch

    labels = torch.from_numpy(labels_for(p))
    return graph(nn, lambda m, x: nn.functional.cross_entropy(x, labels.to(x.device), reduction="none",
                                                               label_smoothing=p["label_smoothing"]))


@BUILDERS("kl_divergence")
def kl_divergence(nn, p, kept):
    import torch

    def loss(x, y):
        if "kl_divergence_clipping" in kept:
            return nn.functional.kl_div(torch.log_softmax(x, -1), y, reduction="none").sum(-1)
        # Keras's: both distributions clipped to [1e-7, 1] before the logarithm
        clipped = y.clamp(1e-7, 1)
        return (clipped * torch.log(clipped / torch.softmax(x, -1).clamp(1e-7, 1))).sum(-1)

    return _loss(nn, p, loss)


# --- optimizers (cwtest.registries.optimizers) ---------------------------------------------------------

@OPTIMIZERS("adam")
def adam(torch, tensors, p, kept):
    # torch Adam's weight_decay is L2 in the gradient; AdamW's is Keras's decoupled decay.
    decoupled = "adam_weight_decay" not in kept
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    optimizer = cls(tensors, lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=p["eps"], weight_decay=p["weight_decay"])
    group = optimizer.param_groups[0]

    def step(t):
        correction1, correction2 = 1 - p["beta1"] ** t, 1 - p["beta2"] ** t  # torch's, in float64
        if "adam_epsilon" not in kept:  # Keras's epsilon hat, expressed in torch's placement
            group["eps"] = p["eps"] / math.sqrt(correction2)
        if "adam_bias_correction" not in kept:
            # torch steps by lr / correction1 * sqrt(correction2): a learning rate that makes that
            # Keras's float32 step size, and a decay rate that keeps AdamW's lr * weight_decay.
            group["lr"] = keras_adam_alpha(p["lr"], p["beta1"], p["beta2"], t) * correction1 / math.sqrt(correction2)
            if decoupled and p["weight_decay"]:
                group["weight_decay"] = p["lr"] * p["weight_decay"] / group["lr"]
        optimizer.step()

    return step


@OPTIMIZERS("sgd")
def sgd(torch, tensors, p, kept):
    optimizer = torch.optim.SGD(tensors, lr=p["lr"], momentum=p["momentum"], nesterov=p["nesterov"])
    return lambda t: optimizer.step()


@OPTIMIZERS("adamw")
def adamw(torch, tensors, p, kept):
    decay = 0.01 if "adamw_default_weight_decay" in kept else p["weight_decay"]  # torch's default
    return adam(torch, tensors, {**p, "weight_decay": decay}, kept)  # decoupled: AdamW


@OPTIMIZERS("rmsprop")
def rmsprop(torch, tensors, p, kept):
    # Published: torch's default alpha (0.99); its eps goes outside the root (Keras: inside), 0 where harmonized.
    optimizer = torch.optim.RMSprop(tensors, lr=p["lr"], alpha=0.99 if "rmsprop_rho" in kept else p["rho"],
                                    eps=p["eps"] if "sqrt_epsilon_placement" in kept else 0.0,
                                    momentum=p["momentum"], centered=p["centered"])
    return lambda t: optimizer.step()


@OPTIMIZERS("adagrad")
def adagrad(torch, tensors, p, kept):
    optimizer = torch.optim.Adagrad(
        tensors, lr=p["lr"], eps=p["eps"] if "sqrt_epsilon_placement" in kept else 0.0,
        initial_accumulator_value=0.0 if "adagrad_initial_accumulator" in kept else p["initial_accumulator"])
    return lambda t: optimizer.step()


@OPTIMIZERS("adadelta")
def adadelta(torch, tensors, p, kept):
    defaults = "adadelta_defaults" in kept  # torch's: lr 1.0, rho 0.9, eps 1e-6
    optimizer = torch.optim.Adadelta(tensors, lr=1.0 if defaults else p["lr"], rho=0.9 if defaults else p["rho"],
                                     eps=1e-6 if defaults else p["eps"])
    return lambda t: optimizer.step()


@OPTIMIZERS("adamax")
def adamax(torch, tensors, p, kept, eps=None):
    optimizer = torch.optim.Adamax(tensors, lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=p["eps"] if eps is None else eps)
    return lambda t: optimizer.step()


@OPTIMIZERS("adamax_small_gradients")
def adamax_small_gradients(torch, tensors, p, kept):
    return adamax(torch, tensors, p, kept, eps=None if "adamax_epsilon" in kept else 0.0)  # eps inside the maximum


@OPTIMIZERS("nadam")
def nadam(torch, tensors, p, kept):
    optimizer = torch.optim.NAdam(tensors, lr=p["lr"], betas=(p["beta1"], p["beta2"]), eps=p["eps"],
                                  momentum_decay=0.004 if "nadam_momentum_decay" in kept else 1.0)
    return lambda t: optimizer.step()


@OPTIMIZERS("adafactor")
def adafactor(torch, tensors, p, kept):
    eps1 = None if "adafactor_epsilon1" in kept else 1e-30  # None: float32's machine epsilon, torch's default
    optimizer = torch.optim.Adafactor(tensors, lr=p["lr"], beta2_decay=p["beta2_decay"], eps=(eps1, p["eps2"]),
                                      d=p["clip"])
    return lambda t: optimizer.step()


@OPTIMIZERS("muon")
def muon(torch, tensors, p, kept):
    # Published: torch's weight decay default (0.1) and learning-rate scale (sqrt(max(1, rows / cols)), "original");
    # harmonized: the drawn decay and Keras's scale, 0.2 * sqrt(max(rows, cols)) ("match_rms_adamw").
    optimizer = torch.optim.Muon(tensors, lr=p["lr"], momentum=p["momentum"], nesterov=p["nesterov"],
                                 weight_decay=0.1 if "muon_default_weight_decay" in kept else p["weight_decay"],
                                 adjust_lr_fn="original" if "muon_lr_adjustment" in kept else "match_rms_adamw")
    if "muon_orthogonalization_bfloat16" in kept:
        return lambda t: optimizer.step()

    def step(t):
        # torch's Newton-Schulz iteration starts from `update.bfloat16()` and runs in that type; here that one cast is
        # a float32 copy (Keras's type), every other op torch's own. A copy: the iteration divides it in place, and
        # without nesterov the update is the momentum buffer itself.
        own = torch.Tensor.__dict__.get("bfloat16")  # None: the C base class's, which torch 2.14 has
        torch.Tensor.bfloat16 = lambda self, *args, **kwargs: self.to(torch.float32, copy=True)
        try:
            optimizer.step()
        finally:
            if own is None:
                del torch.Tensor.bfloat16
            else:
                torch.Tensor.bfloat16 = own

    return step


@BUILDERS("dense")
def dense(nn, p, kept):
    return chain(nn, dense=nn.Linear(p["inputs"][0][1], p["units"], p["bias"]))


@BUILDERS("add")
def add(nn, p, kept):
    return graph(nn, lambda m, x, y: x + y)


# Blocks of one layer without weights.
BUILDERS("global_avgpool")(lambda nn, p, kept: nn.AdaptiveAvgPool2d(1) if p["keepdims"]
                           else nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()))
BUILDERS("zeropadding")(lambda nn, p, kept: nn.ZeroPad2d((p["left"], p["right"], p["top"], p["bottom"])))
BUILDERS("relu")(lambda nn, p, kept: nn.ReLU())
# An image's channels are torch's dim 1 and Keras's last axis (TORCH_AXIS).
BUILDERS("softmax")(lambda nn, p, kept: nn.Softmax(dim=TORCH_AXIS[p["axis"]] if len(p["inputs"][0]) == 4 else -1))
BUILDERS("dropout")(lambda nn, p, kept: nn.Dropout(p["rate"]))
BUILDERS("log_softmax")(lambda nn, p, kept: nn.LogSoftmax(dim=TORCH_AXIS[p["axis"]] if len(p["inputs"][0]) == 4 else -1))
# A kept leaky_relu_negative_slope compares the frameworks' defaults, whatever was drawn.
BUILDERS("leaky_relu")(lambda nn, p, kept: nn.LeakyReLU() if "leaky_relu_negative_slope" in kept
                       else nn.LeakyReLU(p["negative_slope"]))


@BUILDERS("prelu")
def prelu(nn, p, kept):
    channels = p["inputs"][0][3]
    layer = nn.PReLU(channels if p["per_channel"] else 1)
    nn.init.uniform_(layer.weight, -0.5, 0.5)
    # Keras's alpha keeps an axis for each input axis its slopes are not shared over: (1, 1, C) or (C, 1, 1).
    layer.keras_shape = (1, 1, 1) if not p["per_channel"] else \
        ((channels, 1, 1) if p.get("data_format") == "channels_first" else (1, 1, channels))
    return chain(nn, prelu=layer)


BUILDERS("elu")(lambda nn, p, kept: nn.ELU(p["alpha"]))
BUILDERS("selu")(lambda nn, p, kept: nn.SELU())
BUILDERS("gelu")(lambda nn, p, kept: nn.GELU() if "gelu_ops_tanh_default" in kept
                 else nn.GELU(approximate="tanh" if p["approximate"] else "none"))
BUILDERS("silu")(lambda nn, p, kept: nn.SiLU())
BUILDERS("mish")(lambda nn, p, kept: nn.Mish())
BUILDERS("softplus")(lambda nn, p, kept: nn.Softplus())
BUILDERS("softsign")(lambda nn, p, kept: nn.Softsign())
BUILDERS("tanh")(lambda nn, p, kept: nn.Tanh())
BUILDERS("sigmoid")(lambda nn, p, kept: nn.Sigmoid())
BUILDERS("relu6")(lambda nn, p, kept: nn.ReLU6())
BUILDERS("hard_sigmoid")(lambda nn, p, kept: nn.Hardsigmoid())
BUILDERS("hard_swish")(lambda nn, p, kept: nn.Hardswish())
BUILDERS("resnet_bottleneck_v1")(bottleneck(v15=False))
BUILDERS("resnet_bottleneck_v1_5")(bottleneck(v15=True))

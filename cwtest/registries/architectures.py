"""The architectures, one declarative entry each: how each framework builds it for CIFAR-10.

Every entry has two flavours:

- `published`: the pair as the CrossedWires trials trained it (../shared/docs/protocol.md);
- `matched`: the nearest pair that computes the same function, with what was changed and why.

A flavour also names the known differences that keep its pair from being the same function;
the suites turn each into a named xfail. Adding an architecture is one entry here.
Builders are named by key and live with their framework (cwtest.adapters.torch.models and
cwtest.adapters.keras.models, each a BUILDERS table): this module imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from cwtest.core.errors import InputError
from cwtest.inputs.choices import parse_choices
from cwtest.inputs.trials import ARCHITECTURES as CROSSEDWIRES
from cwtest.registries.converted import CONVERTED

FLAVOURS = ("published", "matched")
# keras.applications and Keras layers default to BatchNorm momentum 0.99 (torch's 0.01) and
# epsilon 1.001e-5 in the applications (torch's 1e-5); ../shared/docs/semantics.md.
KERAS_APPLICATIONS_BN_EPSILON = 1.001e-5


@dataclass(frozen=True)
class KnownDifference:
    """A reason two sides are not the same function, and the structure fields it shows up in."""

    name: str
    cause: str
    fields: tuple[str, ...]  # structure.Mismatch fields this difference explains


@dataclass(frozen=True)
class Flavour:
    torch: str  # the key of its torch builder: (image_size) -> torch.nn.Module
    keras: str  # the key of its Keras builder: (image_size) -> keras.Model
    keras_output: str  # "logits" or "probabilities"; the torch side always returns logits
    changes: str  # what this flavour changes from the frameworks' stock models, and why
    differences: tuple[KnownDifference, ...] = ()
    # torch module name -> Keras layer name, where Keras's layer order does not follow torch's
    # (Keras lists a residual block's shortcut before its last conv); None pairs layers by position.
    keras_name: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Architecture:
    name: str
    flavours: dict[str, Flavour] = field(default_factory=dict)
    # Facts the harmonization knobs read (cwtest.registries.knobs): a knob for a layer the
    # architecture lacks changes nothing in it.
    batch_norm: bool = False  # has BatchNorm layers
    torch_dropout: bool = False  # the published torch model has Dropout modules
    # The layer registry's blocks its models are made of, and the optimizer registry's entries its trials train
    # with (the CrossedWires protocol: Adam): what the layer suite runs for it (suites/layers/conftest.py).
    blocks: tuple[str, ...] = ()
    optimizers: tuple[str, ...] = ("adam", "adam_small_weights")
    # The published Keras model's BatchNorm, which the bn_epsilon and bn_momentum knobs replace.
    keras_bn_epsilon: float = KERAS_APPLICATIONS_BN_EPSILON
    keras_bn_momentum: float = 0.99  # Keras's default

    # What the published models return (the forward suite reads these).
    torch_output = "logits"

    @property
    def keras_output(self) -> str:
        return self.flavours["published"].keras_output

    @property
    def structure_differs(self) -> bool:
        """The published pair differs in structure: no weights move between its models."""
        return bool(self.flavours["published"].differences)


def parse_flavours(text: str, option: str = "--crossedwires-flavour") -> tuple[str, ...]:
    return parse_choices(text, FLAVOURS, option, "flavour")


def _keras_resnet50_v1_name(torch_name: str) -> str:
    """torchvision ResNet50 module name -> keras.applications.ResNet50 layer name."""
    stem = {"conv1": "conv1_conv", "bn1": "conv1_bn", "fc": "predictions"}
    if torch_name in stem:
        return stem[torch_name]
    stage, block, *rest = torch_name.split(".")
    prefix = f"conv{int(stage[len('layer'):]) + 1}_block{int(block) + 1}"
    if rest[0] == "downsample":
        return f"{prefix}_0_{'conv' if rest[1] == '0' else 'bn'}"
    return f"{prefix}_{rest[0][-1]}_{rest[0][:-1]}"


# MobileNetV2's and EfficientNetB0's blocks but their activations: inverted residuals of depthwise convolutions, their
# stride-2 "same" paddings, BatchNorm, a pooled dense head; and the optimizers such models train with (RMSprop in
# their papers, SGD with momentum in torchvision's recipes).
_MOBILE_BLOCKS = ("conv2d", "conv2d_depthwise", "conv2d_same_stride2", "zeropadding", "batchnorm_eval", "batchnorm_train",
                  "add", "global_avgpool", "dropout_inference", "dense", "softmax", "cross_entropy_logits",
                  "cross_entropy_softmax")
_MOBILE_OPTIMIZERS = ("rmsprop", "rmsprop_momentum", "sgd")
# keras.applications' MobileNetV2 and EfficientNetB0 against torchvision's.
_SAME_PADDING_STRIDE2 = KnownDifference(
    "same_padding_stride2", "keras.applications pads its five stride-2 convolutions as TensorFlow's 'same' does on an "
    "even input, the odd pixel after ((0, 1) for a 3x3 kernel, (1, 2) for a 5x5: the first convolution by "
    "padding='same', the depthwise ones by ZeroPadding2D from imagenet_utils.correct_pad); torchvision pads "
    "kernel // 2 on both sides", ("padding",))

# Every architecture's convolutions, activations, heads and losses.
_COMMON_BLOCKS = ("conv2d", "relu", "maxpool", "dense", "softmax", "cross_entropy_logits", "cross_entropy_softmax")
_BATCHNORM_BLOCKS = ("batchnorm_eval", "batchnorm_train", "batchnorm_train_offset", "zeropadding", "global_avgpool")

# Published pairs compare logits too: the suites read the Keras logits under its softmax.
_PUBLISHED = "torchvision as the trials built it; keras.applications with its softmax head"

REGISTRY = {
    "vgg16": Architecture("vgg16", {
        "published": Flavour("vgg16", "vgg16_softmax", "probabilities",
                             changes=_PUBLISHED + "; torch keeps Dropout(0.5) twice in the head "
                                                  "(switched off for parity checks in training mode)"),
        "matched": Flavour("vgg16_without_dropout", "vgg16_logits", "logits",
                           changes="torch head without its two Dropout layers (Keras VGG16 has none); "
                                   "Keras head without softmax, so both return logits"),
    }, blocks=(*_COMMON_BLOCKS, "vgg_conv_block", "flatten", "flatten_dense", "dropout_inference", "dropout_train_p0")),
    "resnet50": Architecture("resnet50", {
        "published": Flavour("resnet50", "resnet50_softmax", "probabilities",
                             changes=_PUBLISHED,
                             differences=(
                                 KnownDifference("stride_placement",
                                                 "torchvision ResNet50 is v1.5 (stride 2 on the 3x3 conv), "
                                                 "keras.applications ResNet50 is v1 (stride 2 on the first "
                                                 "1x1 conv and the shortcut)", ("stride", "output_shape")),
                                 KnownDifference("conv_bias",
                                                 "keras.applications ResNet50 convs have biases, "
                                                 "torchvision's have none", ("bias", "parameters")),
                             ), keras_name=_keras_resnet50_v1_name),
        "matched": Flavour("resnet50", "resnet50_v1_5", "logits",
                           changes="Keras side rebuilt as torchvision's v1.5: stride on the 3x3 conv, "
                                   "convs without bias, symmetric padding, BatchNorm epsilon 1e-5 and "
                                   "momentum 0.9 as torch's, logits head", keras_name=str),
    }, batch_norm=True, blocks=(*_COMMON_BLOCKS, *_BATCHNORM_BLOCKS, "conv2d_same_stride2", "add",
                                "resnet_bottleneck_v1", "resnet_bottleneck_v1_5")),
    "densenet121": Architecture("densenet121", {
        "published": Flavour("densenet121", "densenet121_softmax",
                             "probabilities", changes=_PUBLISHED),
        "matched": Flavour("densenet121_keras_batchnorm", "densenet121_logits", "logits",
                           changes="torch BatchNorm epsilon 1.001e-5 and momentum 0.01 as in "
                                   "keras.applications; Keras head without softmax"),
    }, batch_norm=True, blocks=(*_COMMON_BLOCKS, *_BATCHNORM_BLOCKS, "avgpool", "concatenate", "densenet_dense_layer",
                                "densenet_transition")),
    # The zoo: model pairs beyond the CrossedWires trials, for the transfer and forward suites (no trials train them).
    "mobilenet_v2": Architecture("mobilenet_v2", {
        "published": Flavour("mobilenet_v2", "mobilenet_v2_softmax", "probabilities",
                             changes=_PUBLISHED + "; torch keeps Dropout(0.2) before its classifier; BatchNorm "
                                                  "epsilon 1e-5 and momentum 0.1 (torch's) against 1e-3 and 0.999 "
                                                  "(Keras's)",
                             differences=(_SAME_PADDING_STRIDE2,)),
        "matched": Flavour("mobilenet_v2_without_dropout", "mobilenet_v2_torchvision", "logits",
                           changes="torch head without its Dropout(0.2); Keras's five stride-2 convolutions padded "
                                   "(1, 1) and its BatchNorm epsilon 1e-5 and momentum 0.9 as torch's, Keras head "
                                   "without softmax"),
    }, batch_norm=True, torch_dropout=True, keras_bn_epsilon=1e-3, keras_bn_momentum=0.999,
        blocks=(*_MOBILE_BLOCKS, "relu6"), optimizers=_MOBILE_OPTIMIZERS),
    "efficientnet_b0": Architecture("efficientnet_b0", {
        "published": Flavour("efficientnet_b0", "efficientnet_b0_softmax", "probabilities",
                             changes=_PUBLISHED + ", without its input Rescaling(1/255) and Normalization (an "
                                                  "identity at weights=None): every side takes images in [0, 1]; "
                                                  "torch keeps Dropout(0.2) and stochastic depth, Keras its "
                                                  "drop-connect and top Dropout; BatchNorm epsilon 1e-5 and momentum "
                                                  "0.1 (torch's) against 1e-3 and 0.99 (Keras's)",
                             differences=(_SAME_PADDING_STRIDE2,)),
        "matched": Flavour("efficientnet_b0_without_dropout", "efficientnet_b0_torchvision", "logits",
                           changes="torch without its Dropout(0.2) and stochastic depth; Keras's five stride-2 "
                                   "convolutions padded as torch's (kernel // 2 on both sides), its BatchNorm epsilon "
                                   "1e-5 and momentum 0.9 as torch's, no dropout, head without softmax"),
    }, batch_norm=True, torch_dropout=True, keras_bn_epsilon=1e-3,
        blocks=(*_MOBILE_BLOCKS, "silu", "sigmoid"), optimizers=_MOBILE_OPTIMIZERS),
}
# The model pairs no CrossedWires trial trained: `--crossedwires-arch zoo` runs them. Image models first (entries of
# REGISTRY, for the transfer and models suites), then the transformer pairs Keras Hub's converter carries
# (cwtest.registries.converted, for the models suite's test_converted).
ZOO = (*(name for name in REGISTRY if name not in CROSSEDWIRES), *CONVERTED)
KNOWN = (*REGISTRY, *CONVERTED)  # every name --crossedwires-arch takes besides its groups
# The names --crossedwires-arch takes besides the architectures': `all` keeps meaning the CrossedWires three.
ARCH_GROUPS = {"all": CROSSEDWIRES, "zoo": ZOO}


def parse_archs(text: str, option: str = "--crossedwires-arch") -> tuple[str, ...]:
    """The architectures a comma list names, in the registry's order: names, `all` (the CrossedWires three) or
    `zoo` (the rest); anything else is an InputError."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(f"{option}: no architecture given")
    unknown = [n for n in names if n not in KNOWN and n not in ARCH_GROUPS]
    if unknown:
        raise InputError(f"{option}: unknown architecture {', '.join(unknown)} (known: {', '.join(KNOWN)}; "
                         f"all: {', '.join(CROSSEDWIRES)}; zoo: {', '.join(ZOO)})")
    wanted = {arch for name in names for arch in ARCH_GROUPS.get(name, (name,))}
    return tuple(arch for arch in KNOWN if arch in wanted)


def selected_blocks(archs: tuple[str, ...]) -> set[str]:
    """The layer registry's blocks and the optimizer registry's entries the named architectures are made of and
    trained with (an image model's Architecture, a converted pair's Converted)."""
    entries = [REGISTRY[arch] if arch in REGISTRY else CONVERTED[arch] for arch in archs]
    return {name for entry in entries for name in (*entry.blocks, *entry.optimizers)}

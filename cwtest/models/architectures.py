"""The architectures, one declarative entry each: how each framework builds it for CIFAR-10.

Every entry has two flavours:

- `published`: the pair as the CrossedWires trials trained it (../shared/docs/protocol.md);
- `matched`: the nearest pair that computes the same function, with what was changed and why.

A flavour also names the known differences that keep its pair from being the same function;
the suites turn each into a named xfail. Adding an architecture is one entry here.
Builders import their framework when called, never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from cwtest.backends import frameworks
from cwtest.inputs.choices import parse_choices

NUM_CLASSES = 10
IMAGE_SIZE = 32  # CIFAR-10; the Keras side is channels last (TensorFlow runs CPU convolutions only in NHWC)
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
    torch: Callable  # (image_size) -> torch.nn.Module
    keras: Callable  # (image_size) -> keras.Model
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

    # What the published models return (the forward suite reads these).
    torch_output = "logits"

    @property
    def keras_output(self) -> str:
        return self.flavours["published"].keras_output


def parse_flavours(text: str, option: str = "--crossedwires-flavour") -> tuple[str, ...]:
    return parse_choices(text, FLAVOURS, option, "flavour")


# --- PyTorch builders -------------------------------------------------------------------------

def _torch_vgg16(image_size: int = IMAGE_SIZE, dropout: bool = True):
    import torch
    import torch.nn as nn
    import torchvision

    # As published: no adaptive pool, the flattened final feature map (512x1x1 at 32x32)
    # feeds the first Linear; dropout kept unless the flavour removes it. torchvision builds that
    # Linear for 224x224 inputs (25088 -> 4096, 103M weights allocated and drawn twice: 2.7 s of a
    # 3 s build, 400 MB) only for the recipe to replace it. So the model is built on the meta device,
    # where nothing is allocated or drawn, and its weights then drawn as torchvision's VGG
    # constructor draws them, in its order; the replacement keeps nn.Linear's own initialization.
    with torch.device("meta"):
        model = torchvision.models.vgg16(num_classes=NUM_CLASSES)
        model.classifier[0] = nn.Linear(512 * (image_size // 32) ** 2, 4096)
    model.avgpool = nn.Identity()
    model.to_empty(device="cpu")
    first = model.classifier[0]
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear) and module is not first:
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.zeros_(module.bias)
    first.reset_parameters()
    if not dropout:
        model.classifier[2] = nn.Identity()
        model.classifier[5] = nn.Identity()
    return model


def _torch_vgg16_matched(image_size: int = IMAGE_SIZE):
    return _torch_vgg16(image_size, dropout=False)


def _torchvision(name: str) -> Callable:
    def build(image_size: int = IMAGE_SIZE):
        import torchvision

        return getattr(torchvision.models, name)(num_classes=NUM_CLASSES)

    return build


def _torch_densenet121_matched(image_size: int = IMAGE_SIZE):
    import torch.nn as nn

    model = _torchvision("densenet121")(image_size)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eps = KERAS_APPLICATIONS_BN_EPSILON
            module.momentum = 0.01  # Keras momentum 0.99 keeps 99% of the old statistic
    return model


# --- Keras builders ---------------------------------------------------------------------------

def _keras_application(name: str, activation: str) -> Callable:
    def build(image_size: int = IMAGE_SIZE):
        keras = frameworks.keras()
        return getattr(keras.applications, name)(weights=None, classes=NUM_CLASSES,
                                                 input_shape=(image_size, image_size, 3),
                                                 classifier_activation=activation)

    return build


def _keras_resnet50_v1_5(image_size: int = IMAGE_SIZE):
    """torchvision's ResNet50 (v1.5) in Keras, layer for layer, with torch's layer names.

    keras.applications.ResNet50 is v1: it strides the first 1x1 conv of a downsampling block
    (and the shortcut) where torchvision strides the 3x3 conv, and its convs carry biases.
    Padding is explicit and symmetric like torch's: TF's "same" with stride 2 pads
    bottom/right only, which shifts the grid by a pixel.
    """
    keras = frameworks.keras()
    layers = keras.layers

    def conv_bn(x, filters: int, kernel: int, stride: int, conv_name: str, bn_name: str):
        if kernel > 1:
            x = layers.ZeroPadding2D(kernel // 2, name=f"{conv_name}.pad")(x)
        x = layers.Conv2D(filters, kernel, strides=stride, use_bias=False, name=conv_name)(x)
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=bn_name)(x)

    inputs = keras.Input((image_size, image_size, 3))
    x = layers.ReLU()(conv_bn(inputs, 64, 7, 2, "conv1", "bn1"))
    # After a ReLU every value is >= 0, so zero padding acts as torch's -inf max-pool padding.
    x = layers.MaxPooling2D(3, strides=2)(layers.ZeroPadding2D(1)(x))
    for stage, (width, blocks, stride) in enumerate(((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)), 1):
        for block in range(blocks):
            name, step = f"layer{stage}.{block}", stride if block == 0 else 1
            y = layers.ReLU()(conv_bn(x, width, 1, 1, f"{name}.conv1", f"{name}.bn1"))
            y = layers.ReLU()(conv_bn(y, width, 3, step, f"{name}.conv2", f"{name}.bn2"))
            y = conv_bn(y, width * 4, 1, 1, f"{name}.conv3", f"{name}.bn3")
            if block == 0:
                x = conv_bn(x, width * 4, 1, step, f"{name}.downsample.0", f"{name}.downsample.1")
            x = layers.ReLU()(layers.Add()([y, x]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(NUM_CLASSES, name="fc")(x), name="resnet50_v1_5")


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


# Published pairs compare logits too: the suites read the Keras logits under its softmax.
_PUBLISHED = "torchvision as the trials built it; keras.applications with its softmax head"

REGISTRY = {
    "vgg16": Architecture("vgg16", {
        "published": Flavour(_torch_vgg16, _keras_application("VGG16", "softmax"), "probabilities",
                             changes=_PUBLISHED + "; torch keeps Dropout(0.5) twice in the head "
                                                  "(switched off for parity checks in training mode)"),
        "matched": Flavour(_torch_vgg16_matched, _keras_application("VGG16", None), "logits",
                           changes="torch head without its two Dropout layers (Keras VGG16 has none); "
                                   "Keras head without softmax, so both return logits"),
    }),
    "resnet50": Architecture("resnet50", {
        "published": Flavour(_torchvision("resnet50"), _keras_application("ResNet50", "softmax"), "probabilities",
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
        "matched": Flavour(_torchvision("resnet50"), _keras_resnet50_v1_5, "logits",
                           changes="Keras side rebuilt as torchvision's v1.5: stride on the 3x3 conv, "
                                   "convs without bias, symmetric padding, BatchNorm epsilon 1e-5 and "
                                   "momentum 0.9 as torch's, logits head", keras_name=str),
    }),
    "densenet121": Architecture("densenet121", {
        "published": Flavour(_torchvision("densenet121"), _keras_application("DenseNet121", "softmax"),
                             "probabilities", changes=_PUBLISHED),
        "matched": Flavour(_torch_densenet121_matched, _keras_application("DenseNet121", None), "logits",
                           changes="torch BatchNorm epsilon 1.001e-5 and momentum 0.01 as in "
                                   "keras.applications; Keras head without softmax"),
    }),
}

"""How torch builds each architecture of cwtest.registries.architectures for CIFAR-10: the builders its
entries name. torch is imported when a builder is called, never at import time."""

from __future__ import annotations

from typing import Callable

from cwtest.registries.architectures import KERAS_APPLICATIONS_BN_EPSILON
from cwtest.inputs.data import IMAGE_SIZE, NUM_CLASSES


def vgg16(image_size: int = IMAGE_SIZE, dropout: bool = True):
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


def vgg16_matched(image_size: int = IMAGE_SIZE):
    return vgg16(image_size, dropout=False)


def torchvision_model(name: str) -> Callable:
    def build(image_size: int = IMAGE_SIZE):
        import torchvision

        return getattr(torchvision.models, name)(num_classes=NUM_CLASSES)

    return build


def densenet121_matched(image_size: int = IMAGE_SIZE):
    import torch.nn as nn

    model = torchvision_model("densenet121")(image_size)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eps = KERAS_APPLICATIONS_BN_EPSILON
            module.momentum = 0.01  # Keras momentum 0.99 keeps 99% of the old statistic
    return model


def without_dropout(name: str) -> Callable:
    """A torchvision model whose dropout and stochastic depth are gone (Identity) or drop nothing (p=0): the Keras
    twins of MobileNetV2 and EfficientNetB0 in their matched flavour drop nothing."""
    def build(image_size: int = IMAGE_SIZE):
        import torch.nn as nn
        from torchvision.ops import StochasticDepth

        model = torchvision_model(name)(image_size)
        model.classifier[0] = nn.Identity()  # Dropout before the classifier's Linear
        for module in model.modules():
            if isinstance(module, StochasticDepth):
                module.p = 0.0
        return model

    return build


BUILDERS: dict[str, Callable] = {
    "vgg16": vgg16,
    "vgg16_without_dropout": vgg16_matched,
    "resnet50": torchvision_model("resnet50"),
    "densenet121": torchvision_model("densenet121"),
    "densenet121_keras_batchnorm": densenet121_matched,
    "mobilenet_v2": torchvision_model("mobilenet_v2"),
    "mobilenet_v2_without_dropout": without_dropout("mobilenet_v2"),
    "efficientnet_b0": torchvision_model("efficientnet_b0"),
    "efficientnet_b0_without_dropout": without_dropout("efficientnet_b0"),
}

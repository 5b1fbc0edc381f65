"""The architectures, one declarative entry each: how each framework builds it for CIFAR-10.

`published` is the pair as the CrossedWires trials trained it (../shared/docs/protocol.md).
Builders import their framework when called, never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cwtest import frameworks

NUM_CLASSES = 10
INPUT_SHAPE = (32, 32, 3)  # Keras side: channels last (TensorFlow runs CPU convolutions only in NHWC)


def _torch_vgg16():
    import torch.nn as nn
    import torchvision

    model = torchvision.models.vgg16(num_classes=NUM_CLASSES)
    # As published: no adaptive pool, so the 512x1x1 feature map feeds Linear(512, 4096); dropout kept.
    model.avgpool = nn.Identity()
    model.classifier[0] = nn.Linear(512, 4096)
    return model


def _torchvision(name: str) -> Callable:
    def build():
        import torchvision

        return getattr(torchvision.models, name)(num_classes=NUM_CLASSES)

    return build


def _keras_application(name: str) -> Callable:
    def build():
        keras = frameworks.keras()
        return getattr(keras.applications, name)(weights=None, classes=NUM_CLASSES, input_shape=INPUT_SHAPE)

    return build


@dataclass(frozen=True)
class Architecture:
    name: str
    torch_published: Callable
    keras_published: Callable
    # What the published torch model returns, and what the published Keras model returns.
    torch_output: str = "logits"
    keras_output: str = "probabilities"


REGISTRY = {
    "vgg16": Architecture("vgg16", _torch_vgg16, _keras_application("VGG16")),
    "resnet50": Architecture("resnet50", _torchvision("resnet50"), _keras_application("ResNet50")),
    "densenet121": Architecture("densenet121", _torchvision("densenet121"), _keras_application("DenseNet121")),
}

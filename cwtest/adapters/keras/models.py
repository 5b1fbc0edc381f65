"""How Keras builds each architecture of cwtest.registries.architectures for CIFAR-10: the builders its
entries hand to the Keras backend, on whichever Keras backend this process runs. Keras is imported when a
builder is called, never at import time."""

from __future__ import annotations

from typing import Callable

from cwtest.frameworks import imports
from cwtest.inputs.data import IMAGE_SIZE, NUM_CLASSES


def application(name: str, activation: str) -> Callable:
    def build(image_size: int = IMAGE_SIZE):
        keras = imports.keras()
        return getattr(keras.applications, name)(weights=None, classes=NUM_CLASSES,
                                                 input_shape=(image_size, image_size, 3),
                                                 classifier_activation=activation)

    return build


def resnet50_v1_5(image_size: int = IMAGE_SIZE):
    """torchvision's ResNet50 (v1.5) in Keras, layer for layer, with torch's layer names.

    keras.applications.ResNet50 is v1: it strides the first 1x1 conv of a downsampling block
    (and the shortcut) where torchvision strides the 3x3 conv, and its convs carry biases.
    Padding is explicit and symmetric like torch's: TF's "same" with stride 2 pads
    bottom/right only, which shifts the grid by a pixel.
    """
    keras = imports.keras()
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


BUILDERS: dict[str, Callable] = {
    "vgg16_softmax": application("VGG16", "softmax"),
    "vgg16_logits": application("VGG16", None),
    "resnet50_softmax": application("ResNet50", "softmax"),
    "resnet50_v1_5": resnet50_v1_5,
    "densenet121_softmax": application("DenseNet121", "softmax"),
    "densenet121_logits": application("DenseNet121", None),
}

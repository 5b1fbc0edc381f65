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


def _cloned(stock, clone: Callable, call: Callable | None = None):
    keras = imports.keras()
    return keras.models.clone_model(stock, clone_function=clone, call_function=call)


def _preprocessing(layer) -> bool:
    """keras.applications' in-model input scaling (EfficientNet's Rescaling(1/255) and Normalization, an identity at
    weights=None): cwtest hands every side images already scaled to [0, 1]."""
    layers = imports.keras().layers
    return isinstance(layer, (layers.Rescaling, layers.Normalization))


def without_preprocessing(name: str, activation: str | None) -> Callable:
    """A keras.applications model whose input Rescaling and Normalization are Identity layers."""
    def build(image_size: int = IMAGE_SIZE):
        layers = imports.keras().layers

        def clone(layer):
            if _preprocessing(layer):
                return layers.Identity(name=layer.name)
            return type(layer).from_config(layer.get_config())

        return _cloned(application(name, activation)(image_size), clone)

    return build


def torchvision_structured(name: str) -> Callable:
    """A keras.applications model with torchvision's paddings, BatchNorm and no dropout: torch's structure, as
    resnet50_v1_5 is for ResNet50 (MobileNetV2, EfficientNetB0).

    Keras pads its stride-2 convolutions as TensorFlow's "same" does on an even input, the odd pixel after ((0, 1)
    for a 3x3 kernel, (1, 2) for a 5x5); torch pads kernel // 2 on both sides. The depthwise ones take Keras's
    padding from a ZeroPadding2D before them (made symmetric here), a convolution of its own padding="same" is made
    "valid" behind a ZeroPadding2D of half its kernel. BatchNorm takes torch's epsilon 1e-5 and momentum (0.9 kept of
    the old statistic); dropout (EfficientNet's head and drop-connect) drops nothing, as torch's matched builders;
    the input scaling is gone (`without_preprocessing`). Everything else is the stock model's, names included.
    """
    def build(image_size: int = IMAGE_SIZE):
        layers = imports.keras().layers

        def stride2_same(layer) -> bool:
            return isinstance(layer, layers.Conv2D) and layer.padding == "same" and max(layer.strides) > 1

        def clone(layer):
            config = layer.get_config()
            if _preprocessing(layer):
                return layers.Identity(name=layer.name)
            if isinstance(layer, layers.ZeroPadding2D):
                config["padding"] = tuple((max(side), max(side)) for side in layer.padding)
            elif stride2_same(layer):
                config["padding"] = "valid"
            elif isinstance(layer, layers.BatchNormalization):
                config |= {"epsilon": 1e-5, "momentum": 0.9}
            elif isinstance(layer, layers.Dropout):
                config["rate"] = 0.0
            return type(layer).from_config(config)

        def call(layer, inputs, **kwargs):
            if layer.name in padded:
                inputs = layers.ZeroPadding2D(padded[layer.name], name=f"{layer.name}_pad")(inputs)
            return layer(inputs, **kwargs)

        stock = application(name, None)(image_size)
        padded = {layer.name: layer.kernel_size[0] // 2 for layer in stock.layers if stride2_same(layer)}
        return _cloned(stock, clone, call)

    return build


BUILDERS: dict[str, Callable] = {
    "vgg16_softmax": application("VGG16", "softmax"),
    "vgg16_logits": application("VGG16", None),
    "resnet50_softmax": application("ResNet50", "softmax"),
    "resnet50_v1_5": resnet50_v1_5,
    "densenet121_softmax": application("DenseNet121", "softmax"),
    "densenet121_logits": application("DenseNet121", None),
    "mobilenet_v2_softmax": application("MobileNetV2", "softmax"),
    "mobilenet_v2_torchvision": torchvision_structured("MobileNetV2"),
    "efficientnet_b0_softmax": without_preprocessing("EfficientNetB0", "softmax"),
    "efficientnet_b0_torchvision": torchvision_structured("EfficientNetB0"),
}

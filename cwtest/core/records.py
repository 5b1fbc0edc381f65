"""The records the harnesses and the framework adapters hand each other: a model's layers as the structure check
reads them (cwtest.models.structure), with the framework's own layer object as a handle; a published Keras
model's variables as arrays (read by cwtest.published.savedmodel, set onto a model by the Keras adapter)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str  # conv | dense | batchnorm, or the class name of any other layer with weights
    output_shape: tuple[int, ...]
    parameters: int
    stride: tuple[int, ...] | None = None
    padding: tuple[int, ...] | None = None
    bias: bool | None = None
    # Keras only: the (H, W, C) map a Flatten turned into this dense layer's input.
    flattened: tuple[int, ...] | None = None
    # What else decides the function its weights compute, as (name, value) pairs both sides spell alike: a
    # convolution's groups and dilation, a group normalization's groups, an attention's heads and head size.
    options: tuple[tuple[str, object], ...] = ()
    # Keras only: how its kernel is laid out where the kind alone does not say ("depthwise": DepthwiseConv2D's
    # (kh, kw, C, multiplier), against a torch Conv2d of groups C).
    layout: str | None = None
    handle: object = field(default=None, compare=False, repr=False)  # the framework's layer object
    # The keys its trainable weights' gradients have in the adapter's gradient dicts, in its weights' order.
    gradient_keys: tuple[str, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Read:
    """A model's layers as its adapter reads them, and the image side its input takes."""

    layers: list[Layer]
    image_size: int | None = None


@dataclass(frozen=True)
class SavedLayer:
    name: str  # tf.keras's name, e.g. conv1/conv (Keras 3 writes conv1_conv)
    kind: str  # the class name, e.g. Conv2D
    data_format: str | None
    weights: dict[str, np.ndarray]  # kernel, bias, gamma, beta, moving_mean, moving_variance


@dataclass(frozen=True)
class SavedKerasModel:
    folder: str  # for messages
    name: str  # the model's name, e.g. densenet121
    input_shape: tuple[int, ...]  # without the batch, e.g. (3, 32, 32)
    layers: dict[str, SavedLayer]  # by name in Keras 3's spelling

    @property
    def channels_first(self) -> bool:
        return any(layer.data_format == "channels_first" for layer in self.layers.values())

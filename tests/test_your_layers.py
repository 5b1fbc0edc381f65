"""`compare_models` moves weights for every layer kind of the weight map (cwtest.core.layouts): each kind in a
small torch/Keras twin, equivalent both ways; the layouts themselves round-trip bit for bit; and what the kind
and parameter count cannot tell apart (an attention's heads, a convolution's groups or dilation) is named as a
structural mismatch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from packaging.version import Version

from cwtest import compare_models, import_keras
from cwtest.core.layouts import to_keras, to_torch
from cwtest.core.records import Layer

keras = import_keras()
nn = torch.nn
RNG = np.random.default_rng(0)
SIGNAL = RNG.standard_normal((4, 3, 10)).astype(np.float32)  # (N, C, L), as torch takes it
IMAGES = RNG.standard_normal((4, 4, 7, 6)).astype(np.float32)  # (N, C, H, W)
VOLUMES = RNG.standard_normal((2, 2, 5, 6, 7)).astype(np.float32)  # (N, C, D, H, W)
ROWS = RNG.standard_normal((4, 5, 8)).astype(np.float32)  # (N, L, E): a sequence of vectors
TOKENS = RNG.integers(0, 20, (4, 6)).astype(np.int32)


def channels_last(x: np.ndarray) -> np.ndarray:
    return np.moveaxis(x, 1, -1)


class ChannelsLast(nn.Module):
    """A torch model's channels-first output in the layout of its Keras twin's."""

    def forward(self, x):
        return torch.movedim(x, 1, -1)


def seeded(build):
    torch.manual_seed(0)
    return build()


# kind -> (torch model, Keras model, torch's inputs, Keras's inputs): each the other's twin. (A bias right before a
# training-mode BatchNorm has a gradient of round-off only: the convolution before one has none, as is usual.)
TWINS = {
    "conv1d": (lambda: nn.Sequential(nn.Conv1d(3, 4, 3, padding=1, bias=False), nn.BatchNorm1d(4), ChannelsLast()),
               lambda: keras.Sequential([keras.Input((10, 3)), keras.layers.Conv1D(4, 3, padding="same", use_bias=False),
                                         keras.layers.BatchNormalization(epsilon=1e-5, momentum=0.9)]),
               SIGNAL, channels_last(SIGNAL)),
    "conv3d": (lambda: nn.Sequential(nn.Conv3d(2, 3, 3, stride=2, padding=1), ChannelsLast()),
               lambda: keras.Sequential([keras.Input((5, 6, 7, 2)), keras.layers.ZeroPadding3D(1),
                                         keras.layers.Conv3D(3, 3, strides=2)]),
               VOLUMES, channels_last(VOLUMES)),
    "conv2d_transpose": (lambda: nn.Sequential(nn.ConvTranspose2d(4, 3, 3, stride=2), ChannelsLast()),
                         lambda: keras.Sequential([keras.Input((7, 6, 4)), keras.layers.Conv2DTranspose(3, 3, 2)]),
                         IMAGES, channels_last(IMAGES)),
    "depthwise": (lambda: nn.Sequential(nn.Conv2d(4, 8, 3, padding=1, groups=4), ChannelsLast()),
                  lambda: keras.Sequential([keras.Input((7, 6, 4)),
                                            keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)]),
                  IMAGES, channels_last(IMAGES)),
    "grouped": (lambda: nn.Sequential(nn.Conv2d(4, 6, 3, padding=1, groups=2), ChannelsLast()),
                lambda: keras.Sequential([keras.Input((7, 6, 4)), keras.layers.Conv2D(6, 3, padding="same", groups=2)]),
                IMAGES, channels_last(IMAGES)),
    "dilated": (lambda: nn.Sequential(nn.Conv2d(4, 3, 3, padding="same", dilation=2), ChannelsLast()),
                lambda: keras.Sequential([keras.Input((7, 6, 4)),
                                          keras.layers.Conv2D(3, 3, padding="same", dilation_rate=2)]),
                IMAGES, channels_last(IMAGES)),
    "groupnorm": (lambda: nn.Sequential(nn.Conv2d(4, 6, 1), nn.GroupNorm(3, 6, eps=1e-3), ChannelsLast()),
                  lambda: keras.Sequential([keras.Input((7, 6, 4)), keras.layers.Conv2D(6, 1),
                                            keras.layers.GroupNormalization(3, epsilon=1e-3)]),
                  IMAGES, channels_last(IMAGES)),
    "layernorm": (lambda: nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8)),
                  lambda: keras.Sequential([keras.Input((5, 8)), keras.layers.Dense(8),
                                            keras.layers.LayerNormalization(epsilon=1e-5)]),
                  ROWS, ROWS),
    "rmsnorm": (lambda: nn.Sequential(nn.Linear(8, 8), nn.RMSNorm(8, eps=1e-6)),
                lambda: keras.Sequential([keras.Input((5, 8)), keras.layers.Dense(8),
                                          keras.layers.RMSNormalization(epsilon=1e-6)]),
                ROWS, ROWS),
    "embedding": (lambda: nn.Sequential(nn.Embedding(20, 8), nn.Linear(8, 3)),
                  lambda: keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Embedding(20, 8),
                                            keras.layers.Dense(3)]),
                  TOKENS, TOKENS),
}


class TorchAttention(nn.Module):
    def __init__(self, heads: int = 2, bias: bool = True):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, heads, bias=bias, batch_first=True)

    def forward(self, x):
        return self.attention(x, x, x, need_weights=False)[0]


def keras_attention(heads: int = 2, bias: bool = True):
    inputs = keras.Input((5, 8))
    return keras.Model(inputs, keras.layers.MultiHeadAttention(heads, 8 // heads, use_bias=bias)(inputs, inputs))


TWINS["attention"] = (TorchAttention, keras_attention, ROWS, ROWS)
TWINS["attention_without_bias"] = (lambda: TorchAttention(bias=False), lambda: keras_attention(bias=False), ROWS, ROWS)


@pytest.mark.parametrize("direction", ["torch->keras", "keras->torch"])
@pytest.mark.parametrize("kind", list(TWINS))
def test_each_kind_moves_both_ways(kind, direction):
    torch_model, keras_model, inputs, keras_inputs = TWINS[kind]
    if kind == "rmsnorm" and Version(keras.__version__) < Version("3.9.0"):
        pytest.skip(f"keras {keras.__version__} has no RMSNormalization: it came with 3.9.0")
    result = compare_models(seeded(torch_model), keras_model(), inputs, keras_inputs, direction=direction)
    assert result.equivalent, result.report()
    torch_parameters = sum(1 for _ in seeded(torch_model).parameters())
    assert len(result.gradients) == torch_parameters  # every trainable array compared


def test_an_attention_of_other_heads_is_named_though_its_weights_fit():
    """2 heads of 4 against 4 heads of 2 hold as many weights, and compute something else."""
    result = compare_models(seeded(TorchAttention), keras_attention(heads=4), ROWS)
    assert [(m.field, m.torch_value, m.keras_value) for m in result.mismatches] == [
        ("options", (("heads", 2), ("head_size", 4)), (("heads", 4), ("head_size", 2)))]


def test_a_convolution_of_other_groups_or_dilation_is_named():
    groups = compare_models(seeded(lambda: nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, groups=2))),
                            keras.Sequential([keras.Input((7, 6, 4)), keras.layers.Conv2D(4, 3, padding="same")]),
                            IMAGES, channels_last(IMAGES))
    assert {m.field for m in groups.mismatches} == {"parameters", "options"}
    dilation = compare_models(seeded(lambda: nn.Sequential(nn.Conv2d(4, 3, 3, padding="same", dilation=2))),
                              keras.Sequential([keras.Input((7, 6, 4)), keras.layers.Conv2D(3, 3, padding="same")]),
                              IMAGES, channels_last(IMAGES))
    assert [m.field for m in dilation.mismatches] == ["padding", "options"]


ATTENTION = Layer("attention", "attention", (5, 8), 288, options=(("heads", 2), ("head_size", 4)))
DEPTHWISE = Layer("depthwise", "conv", (7, 6, 8), 80, options=(("groups", 4),), layout="depthwise")
CONV3D = Layer("conv3d", "conv", (3, 3, 4, 3), 165)


@pytest.mark.parametrize("layer, shapes", [
    (ATTENTION, [(24, 8), (24,), (8, 8), (8,)]),
    (ATTENTION, [(24, 8), (8, 8)]),
    (DEPTHWISE, [(8, 1, 3, 3), (8,)]),
    (CONV3D, [(3, 2, 3, 3, 3), (3,)]),
    (Layer("transposed", "conv_transpose", (15, 13, 3), 111), [(4, 3, 3, 3), (3,)]),
])
def test_a_layout_round_trip_is_bit_for_bit(layer, shapes):
    arrays = [RNG.standard_normal(shape).astype(np.float32) for shape in shapes]
    back = to_torch(layer, to_keras(layer, arrays))
    assert [a.shape for a in back] == shapes
    assert all(np.array_equal(a, b) for a, b in zip(arrays, back))

"""Weight layouts: one torch array as its paired Keras layer holds it, and back.

Layouts (../shared/docs/semantics.md): a conv weight (O, I, *k) is a Keras kernel (*k, I, O), of any rank, and a
transposed conv's (I, O, *k) a Keras (*k, O, I), the same transpose; a depthwise Conv2d's (C*m, 1, kh, kw) is a
DepthwiseConv2D kernel (kh, kw, C, m); a Linear weight (out, in) is a Dense kernel (in, out), and where a Flatten
feeds the Dense its input axis is reordered, since torch flattens C,H,W and Keras H,W,C; BatchNorm weight, bias,
running mean and variance are gamma, beta, moving mean and variance, and LayerNorm's, GroupNorm's, RMSNorm's and
Embedding's arrays are Keras's as they are; a MultiheadAttention's packed in_proj_weight (3E, E) and bias are
MultiHeadAttention's query, key and value kernels (E, heads, head size) and biases, its out_proj the output
kernel (heads, head size, E). Every move is a transpose, a reshape or a split of float32 values, so a round trip
is bit for bit.
"""

from __future__ import annotations

import numpy as np

from cwtest.core.records import Layer

# torch's state keys in the order Keras keeps the matching weights (kernel, bias / gamma, beta,
# moving_mean, moving_variance); BatchNorm's num_batches_tracked has no Keras counterpart.
KERAS_ORDER = ("weight", "bias", "running_mean", "running_var")


def channels_last_rows(channels_first: np.ndarray, flattened: tuple[int, ...]) -> np.ndarray:
    """(in, out) rows in torch's C,H,W order -> rows in Keras's H,W,C order."""
    height, width, channels = flattened
    out = channels_first.shape[1]
    return channels_first.reshape(channels, height, width, out).transpose(1, 2, 0, 3).reshape(-1, out)


def channels_first_rows(channels_last: np.ndarray, flattened: tuple[int, ...]) -> np.ndarray:
    height, width, channels = flattened
    out = channels_last.shape[1]
    return channels_last.reshape(height, width, channels, out).transpose(2, 0, 1, 3).reshape(-1, out)


def keras_kernel(weight: np.ndarray, flattened: tuple[int, int, int] | None = None,
                 depthwise_channels: int | None = None) -> np.ndarray:
    """A torch weight in Keras's layout: a conv weight (O, I, kh, kw) -> (kh, kw, I, O), of any rank; a depthwise one
    (C*m, 1, kh, kw), output channel c*m + j -> (kh, kw, C, m); a Linear weight (out, in) -> (in, out), its
    rows reordered from torch's C,H,W to Keras's H,W,C where a Flatten of `flattened` (H, W, C) feeds it;
    anything else (a BatchNorm's vectors) as it is. The one place torch weights change layout."""
    if weight.ndim == 4 and depthwise_channels:
        return weight.reshape(depthwise_channels, -1, *weight.shape[2:]).transpose(2, 3, 0, 1)
    if weight.ndim == 4:
        return weight.transpose(2, 3, 1, 0)
    if weight.ndim in (3, 5):  # a 1-D or 3-D conv weight (O, I, *k) -> (*k, I, O)
        return weight.transpose(*range(2, weight.ndim), 1, 0)
    if weight.ndim == 2:
        return channels_last_rows(weight.T, flattened) if flattened else weight.T
    return weight


# The kinds whose arrays both frameworks keep alike (torch's weight and bias are Keras's gamma and beta, or
# embeddings).
SAME_LAYOUT = ("batchnorm", "layernorm", "groupnorm", "rmsnorm", "embedding")


def to_keras(keras_layer: Layer, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """torch-layout arrays (weight first) in the paired Keras layer's layout; a prefix of the list may be given."""
    if keras_layer.kind in SAME_LAYOUT or not arrays:
        return list(arrays)
    if keras_layer.kind == "attention":
        return _attention_to_keras(arrays, dict(keras_layer.options))
    depthwise = dict(keras_layer.options)["groups"] if keras_layer.layout == "depthwise" else None
    return [keras_kernel(arrays[0], keras_layer.flattened, depthwise), *arrays[1:]]


def to_torch(keras_layer: Layer, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Keras-layout arrays (kernel first) in torch's layout; the inverse of `to_keras`."""
    if keras_layer.kind in SAME_LAYOUT or not arrays:
        return list(arrays)
    if keras_layer.kind == "attention":
        return _attention_to_torch(arrays)
    kernel, rest = arrays[0], list(arrays[1:])
    if keras_layer.layout == "depthwise":  # (kh, kw, C, m) -> (C*m, 1, kh, kw)
        return [kernel.transpose(2, 3, 0, 1).reshape(-1, 1, *kernel.shape[:2]), *rest]
    if keras_layer.kind in ("conv", "conv_transpose"):  # (*k, I, O) -> (O, I, *k)
        return [kernel.transpose(kernel.ndim - 1, kernel.ndim - 2, *range(kernel.ndim - 2)), *rest]
    if keras_layer.flattened:
        kernel = channels_first_rows(kernel, keras_layer.flattened)
    return [kernel.T, *rest]


def _attention_to_keras(arrays: list[np.ndarray], options: dict) -> list[np.ndarray]:
    """torch's [in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias] (biases optional) -> Keras's query,
    key, value and output kernels, each followed by its bias where it has one."""
    heads, size = options["heads"], options["head_size"]
    biased = len(arrays) == 4
    packed, out_weight = arrays[0], arrays[2 if biased else 1]
    found = []
    for n, weight in enumerate(np.split(packed, 3)):  # (E, E_in) each -> (E_in, heads, size)
        found.append(weight.T.reshape(-1, heads, size))
        if biased:
            found.append(np.split(arrays[1], 3)[n].reshape(heads, size))
    found.append(out_weight.T.reshape(heads, size, -1))
    return found + ([arrays[3]] if biased else [])


def _attention_to_torch(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The inverse of `_attention_to_keras`."""
    biased = len(arrays) == 8
    kernels = arrays[0:8:2] if biased else arrays
    packed = np.concatenate([k.reshape(k.shape[0], -1).T for k in kernels[:3]])
    out_weight = kernels[3].reshape(-1, kernels[3].shape[-1]).T
    if not biased:
        return [packed, out_weight]
    return [packed, np.concatenate([b.reshape(-1) for b in arrays[1:6:2]]), out_weight, arrays[7]]


def owned(array: np.ndarray) -> np.ndarray:
    """A contiguous copy that shares no memory with torch. `Tensor.numpy()` is a view of the tensor, and
    Keras on JAX keeps a CPU array it is given without copying it: a BatchNorm's moving mean then moved
    with every in-place update of torch's running_mean (a training-mode pass of the torch model)."""
    return np.array(array, order="C", copy=True)

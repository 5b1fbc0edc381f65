"""`same` padding as TensorFlow defines it, and Keras on every backend: the rule a harmonized torch side
pads by where torch has no `same` of its own (a stride over 1, pooling); and the output size of a window.

Each axis gets ceil(size / stride) outputs; the padding they need is split with the odd pixel after
(bottom, right), so a stride of 2 over an even size pads only there (semantics.same_padding_stride2).
"""

from __future__ import annotations


def pair(value) -> tuple[int, int]:
    """(height, width) of a size given as one int for both or as two."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def output_size(size: int, window: int, stride: int, dilation: int = 1, pad: int | str = 0) -> int:
    """Outputs on one axis of a window sliding over `size`, padded by `pad` on both sides or by the rule "same"."""
    if pad == "same":
        return -(-size // stride)
    return (size + 2 * pad - dilation * (window - 1) - 1) // stride + 1


def same_padding(size: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) on one axis."""
    reach = dilation * (window - 1) + 1
    outputs = -(-size // stride)
    total = max((outputs - 1) * stride + reach - size, 0)
    return total // 2, total - total // 2


def same_pads(size: tuple[int, int], window: tuple[int, int], stride: tuple[int, int],
              dilation: tuple[int, int] = (1, 1)) -> tuple[int, int, int, int]:
    """(left, right, top, bottom), the order torch.nn.functional.pad and ZeroPad2d take, of an (H, W) input."""
    top, bottom = same_padding(size[0], window[0], stride[0], dilation[0])
    left, right = same_padding(size[1], window[1], stride[1], dilation[1])
    return left, right, top, bottom


def symmetric(pads: tuple[int, int, int, int]) -> tuple[int, int] | None:
    """(top, left) where each axis pads both sides alike (a padding torch's layers take), else None."""
    left, right, top, bottom = pads
    return (top, left) if left == right and top == bottom else None

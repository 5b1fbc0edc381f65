"""Ways a CPU computes as another device would, the stand-ins the float64-referenced rule (cwtest.models.float64_rule)
is measured on without one (scripts/false_alarms.py, tests/test_float64_rule.py).

Reduced-precision products: the two operands of every convolution and matrix product rounded
to the format's mantissa, the products summed in fp32, which is what a TF32 or bf16 tensor core computes (a CPU
has no TF32). fp32 with oneDNN off: torch's other convolution kernels and summation orders.

Rounding to the nearest (ties to even) is what torch's own conversions do; truncation is what a converter that
drops the low bits does (CUTLASS offers both for TF32): both are legitimate, and the rule must pass both.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

MANTISSA_BITS = {"tf32": 10, "bf16": 7, "fp32": 23}


def rounded(tensor, bits: int, nearest: bool = True):
    """An fp32 tensor with its mantissa rounded to `bits` bits; anything else unchanged."""
    import torch

    if tensor is None or tensor.dtype != torch.float32 or bits >= 23:
        return tensor
    drop = 23 - bits
    as_int = tensor.contiguous().view(torch.int32)
    if nearest:  # add half a unit of the kept bits, less one where the kept part is even: ties go to even
        as_int = as_int + ((1 << (drop - 1)) - 1) + ((as_int >> drop) & 1)
    return (as_int & ~((1 << drop) - 1)).view(torch.float32)


@contextmanager
def emulated_products(fmt: str, nearest: bool = True) -> Iterator[None]:
    """torch's convolutions and linear layers, while inside, multiply operands rounded to `fmt` (MANTISSA_BITS)."""
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    bits = MANTISSA_BITS[fmt]
    products = {F.conv1d, F.conv2d, F.conv3d, F.linear, torch.matmul, torch.mm, torch.bmm}

    class Products(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func in products and len(args) >= 2:
                args = (rounded(args[0], bits, nearest), rounded(args[1], bits, nearest), *args[2:])
            return func(*args, **(kwargs or {}))

    with Products():
        yield


@contextmanager
def onednn_off() -> Iterator[None]:
    """torch's CPU convolutions without oneDNN while inside (only that flag: torch.backends.mkldnn.flags() also
    sets oneDNN's TF32 switch, which warns on a machine without an Intel GPU)."""
    import torch

    was = torch.backends.mkldnn.set_flags(False, _fp32_precision=None)[0]
    try:
        yield
    finally:
        torch.backends.mkldnn.set_flags(was, _fp32_precision=None)

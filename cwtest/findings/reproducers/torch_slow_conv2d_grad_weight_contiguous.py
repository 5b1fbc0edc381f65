"""torch CPU: the backward of a one-filter Conv2d over a channels-last input with a permuted weight raises
"slow_conv2d: grad_weight must be contiguous", where any other filter count computes.

    python torch_slow_conv2d_grad_weight_contiguous.py [THREADS] [--avoided]

This is how Keras on torch computes every Conv2D (keras/src/backend/torch/nn.py, `conv`): its input is
Keras's NHWC array permuted to NCHW, its weight Keras's (kh, kw, in, out) kernel permuted to
(out, in, kh, kw). With one output channel, more than one input channel and a kernel larger than 1x1, the
forward pass computes and the weight gradient raises: in float32 at a batch of one (of 306 shapes drawn over
these, these 22 and only these), in float16 at any batch (72 of 324; bfloat16 none). Expected: the weight
gradient, equal to the float64 correlation of the input with the output's gradient. Both cases run: float32 at
batch 1, float16 at batch 3. `--avoided` gives the input torch's contiguous strides (what a copy does): then
both compute.

Exit status: 0 when every gradient is computed and right, 1 when one raises or is wrong.
"""

import sys

import torch


def wrong(dtype: torch.dtype, batch: int, avoided: bool) -> bool:
    kernel = torch.randn(2, 2, 2, 1, dtype=dtype, requires_grad=True)  # (kh, kw, in, out): Keras's layout
    x = torch.randn(batch, 2, 2, 2, dtype=dtype).permute(0, 3, 1, 2)  # NHWC viewed as NCHW: channels last
    if avoided:
        x = x.contiguous()
    y = torch.nn.functional.conv2d(x, kernel.permute(3, 2, 0, 1))
    expected = torch.einsum("nchw->hwc", x.double()).unsqueeze(-1)  # output 1x1: dW = the input patches' sum
    case = f"torch {torch.__version__}, {dtype}, batch {batch}, input strides {tuple(x.stride())}"
    try:
        (gradient,) = torch.autograd.grad(y.sum(), [kernel])
    except RuntimeError as error:
        print(f"{case}: backward raised: {error}")
        return True
    tolerance = 1e-6 if dtype == torch.float32 else 4e-3  # float16's rounding of a sum of 6 products
    right = torch.allclose(gradient.double(), expected, rtol=tolerance, atol=tolerance)
    print(f"{case}: weight gradient {'right' if right else 'wrong'}")
    return not right


def main() -> int:
    torch.set_num_threads(int(next((a for a in sys.argv[1:] if a.isdigit()), "2")))
    torch.manual_seed(0)
    avoided = "--avoided" in sys.argv
    failures = [wrong(dtype, batch, avoided) for dtype, batch in ((torch.float32, 1), (torch.float16, 3))]
    return 1 if any(failures) else 0


if __name__ == "__main__":
    sys.exit(main())

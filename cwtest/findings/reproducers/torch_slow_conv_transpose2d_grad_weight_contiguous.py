"""torch CPU: the backward of a transposed convolution of one input channel and 2+ output channels, over a
channels-last input with a permuted weight, raises "grad_weight needs to be contiguous".

    python torch_slow_conv_transpose2d_grad_weight_contiguous.py [THREADS] [--avoided]

This is how Keras on torch computes every Conv2DTranspose (keras/src/backend/torch/nn.py, `conv_transpose`): its
input is Keras's NHWC array permuted to NCHW, its weight Keras's (kh, kw, out, in) kernel permuted to
(in, out, kh, kw). With one input channel, 2+ output channels, a kernel larger than 1x1 and more than one input
pixel, the forward pass computes and the weight gradient raises: in float32 at a batch of one (of 864 shapes drawn
over these, strides 1 and 2, these 100 and only these), in float16 at any batch (60 of 486; bfloat16 none).
Expected: the weight gradient, each element the sum of the input (the output's gradient is all ones). Both cases
run: float32 at batch 1, float16 at batch 3. `--avoided` gives the input torch's own contiguous strides (a copy in
that format): then both compute.

Exit status: 0 when every gradient is computed and right, 1 when one raises or is wrong.
"""

import sys

import torch


def wrong(dtype: torch.dtype, batch: int, avoided: bool) -> bool:
    kernel = torch.randn(2, 2, 2, 1, dtype=dtype, requires_grad=True)  # (kh, kw, out, in): Keras's layout
    x = torch.randn(batch, 1, 2, 1, dtype=dtype).permute(0, 3, 1, 2)  # NHWC viewed as NCHW: channels last
    if avoided:
        x = x.clone(memory_format=torch.contiguous_format)  # .contiguous() keeps the view's strides
    y = torch.nn.functional.conv_transpose2d(x, kernel.permute(3, 2, 0, 1))
    expected = torch.full(kernel.shape, float(x.double().sum()), dtype=torch.float64)
    case = f"torch {torch.__version__}, {dtype}, batch {batch}, input strides {tuple(x.stride())}"
    try:
        (gradient,) = torch.autograd.grad(y.sum(), [kernel])
    except RuntimeError as error:
        print(f"{case}: backward raised: {error}")
        return True
    tolerance = 1e-6 if dtype == torch.float32 else 4e-3  # float16's rounding of a sum of 6 values
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

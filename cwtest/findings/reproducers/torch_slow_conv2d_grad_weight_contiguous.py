"""torch CPU: the backward of a one-filter Conv2d over a channels-last input with a permuted weight raises
"slow_conv2d: grad_weight must be contiguous", where any other filter count, or batch size, computes.

    python torch_slow_conv2d_grad_weight_contiguous.py [THREADS] [--avoided]

This is how Keras on torch computes every Conv2D (keras/src/backend/torch/nn.py, `conv`): its input is
Keras's NHWC array permuted to NCHW, its weight Keras's (kh, kw, in, out) kernel permuted to
(out, in, kh, kw). With one output channel, a batch of one, more than one input channel and a kernel
larger than 1x1 (of 306 shapes drawn over these, these 22 and only these), the forward pass computes and
the weight gradient raises. Expected: the weight gradient, equal to the float64 correlation of the input
with the output's gradient. `--avoided` gives the input torch's contiguous strides (what a copy does):
then it computes.

Exit status: 0 when the gradient is computed and right, 1 when it raises or is wrong.
"""

import sys

import torch


def main() -> int:
    torch.set_num_threads(int(next((a for a in sys.argv[1:] if a.isdigit()), "2")))
    torch.manual_seed(0)
    kernel = torch.randn(2, 2, 2, 1, requires_grad=True)  # (kh, kw, in, out): Keras's layout
    x = torch.randn(1, 2, 2, 2).permute(0, 3, 1, 2)  # NHWC viewed as NCHW: shape (1, 2, 2, 2), channels last
    if "--avoided" in sys.argv:
        x = x.contiguous()
    y = torch.nn.functional.conv2d(x, kernel.permute(3, 2, 0, 1))
    expected = torch.einsum("nchw->hwc", x.double()).unsqueeze(-1)  # output 1x1: dW = the input patch
    try:
        (gradient,) = torch.autograd.grad(y.sum(), [kernel])
    except RuntimeError as error:
        print(f"torch {torch.__version__}, input strides {tuple(x.stride())}: backward raised: {error}")
        return 1
    right = torch.allclose(gradient.double(), expected, rtol=1e-6, atol=1e-7)
    print(f"torch {torch.__version__}, input strides {tuple(x.stride())}: weight gradient "
          f"{'right' if right else 'wrong'}")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

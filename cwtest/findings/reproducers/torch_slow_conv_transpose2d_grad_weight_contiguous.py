"""torch CPU: the backward of a transposed convolution of one input channel and 2+ output channels, over a
channels-last input with a permuted weight, raises "grad_weight needs to be contiguous".

    python torch_slow_conv_transpose2d_grad_weight_contiguous.py [THREADS] [--avoided]

This is how Keras on torch computes every Conv2DTranspose (keras/src/backend/torch/nn.py, `conv_transpose`): its
input is Keras's NHWC array permuted to NCHW, its weight Keras's (kh, kw, out, in) kernel permuted to
(in, out, kh, kw). With a batch of one, one input channel, 2+ output channels, a kernel larger than 1x1 and more
than one input pixel (of 864 shapes drawn over these, strides 1 and 2, these 100 and only these), the forward pass
computes and the weight gradient raises. Expected: the weight gradient, each element the sum of the input (the
output's gradient is all ones). `--avoided` gives the input torch's own contiguous strides (a copy in that format):
then it computes.

Exit status: 0 when the gradient is computed and right, 1 when it raises or is wrong.
"""

import sys

import torch


def main() -> int:
    torch.set_num_threads(int(next((a for a in sys.argv[1:] if a.isdigit()), "2")))
    torch.manual_seed(0)
    kernel = torch.randn(2, 2, 2, 1, requires_grad=True)  # (kh, kw, out, in): Keras's layout
    x = torch.randn(1, 1, 2, 1).permute(0, 3, 1, 2)  # NHWC viewed as NCHW: shape (1, 1, 1, 2), channels last
    if "--avoided" in sys.argv:
        x = x.clone(memory_format=torch.contiguous_format)  # strides (2, 2, 2, 1): .contiguous() keeps the view's
    y = torch.nn.functional.conv_transpose2d(x, kernel.permute(3, 2, 0, 1))
    expected = torch.full(kernel.shape, float(x.double().sum()), dtype=torch.float64)
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

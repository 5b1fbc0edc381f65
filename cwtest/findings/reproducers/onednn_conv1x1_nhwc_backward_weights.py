"""torch CPU: wrong Conv2d weight gradients (2+ threads) and heap corruption (1 thread) for a 1x1,
stride-2 convolution over a single-channel, channels-last input.

    python onednn_conv1x1_nhwc_backward_weights.py [THREADS] [--avoided]

Expected: every weight gradient equals the float64 sum  dW[o] = sum_{n,h,w} x[n, 0, 2h, 2w] * g[n, o, h, w].
Actual (torch 2.14.1, oneDNN's AVX2 kernel jit_1x1:avx2): with 2 threads 7% to 78% of the calls
return wrong values in the first output channels; with 1 thread the process aborts ("malloc():
unaligned tcache chunk detected") or segfaults in a later call (in about half the runs of 1000
calls on an AVX2-only CPU). oneDNN is capped at AVX2 (ONEDNN_MAX_CPU_ISA) unless the caller sets
the cap: a CPU with AVX-512 would otherwise run jit_1x1:avx512_core, which computed right. `--avoided`
gives the same input torch's own contiguous strides (24, 24, 4, 1) instead of (24, 1, 4, 1): then
every call is right. torch with torch.backends.mkldnn.enabled = False is right too. Matches
uxlfoundation/oneDNN#6035.

Exit status: 0 when every call was right, 1 when some were wrong (the count is printed); a crash
ends the process by its signal.
"""

import os
import sys

# Before torch loads oneDNN: the defect is in the AVX2 kernel, which an AVX-512 CPU would not pick.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX2")

import torch  # noqa: E402  (after the ISA cap)

CALLS = 200  # about 7% to 78% of calls were wrong with 2 threads: all 200 right by chance is < 1e-6


def main() -> int:
    threads = int(next((a for a in sys.argv[1:] if a.isdigit()), "2"))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.randn(2, 6, 4, 1).permute(0, 3, 1, 2)  # shape (2, 1, 6, 4), strides (24, 1, 4, 1)
    if "--avoided" in sys.argv:  # what the layer suite does (cwtest.adapters.torch.blocks.torch_input)
        x = x.clone(memory_format=torch.contiguous_format)
    w = torch.randn(8, 1, 1, 1)
    g = torch.randn(2, 8, 3, 2)
    expected = torch.einsum("nhw,nohw->o", x[:, 0, ::2, ::2].double(), g.double()).reshape(8, 1, 1, 1)
    wrong = 0
    for _ in range(CALLS):
        xi, wi = x.detach().requires_grad_(True), w.clone().requires_grad_(True)
        torch.nn.functional.conv2d(xi, wi, stride=2).backward(g)
        wrong += not torch.allclose(wi.grad.double(), expected, rtol=1e-5, atol=1e-6)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), input strides {tuple(x.stride())}: "
          f"{wrong} of {CALLS} weight gradients wrong", flush=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

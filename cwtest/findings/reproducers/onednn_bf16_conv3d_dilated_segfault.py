"""torch CPU (oneDNN): a bfloat16 Conv3d with dilation 2 whose padded input is shallower than the kernel's reach
kills the process (SIGSEGV) in its forward pass, on a CPU where oneDNN picks its AMX brgemm convolution.

    python onednn_bf16_conv3d_dilated_segfault.py [THREADS] [--avoided]

oneDNN's log (ONEDNN_VERBOSE=2) names the primitive it created last: brg_conv_fwd:avx10_1_512_amx, forward_training,
"mb1_ic2oc4_id1od1kd2sd1dd1pd1_ih2oh2kh2sh1dh1ph1_iw3ow3kw2sw1dw1pw1". Of 864 convolutions tried (1-D, 2-D and 3-D,
bfloat16, float16 and float32, groups 1 and 2, dilation 1 and 2, depth 1 to 5, kernels 1 to 3, `same` or the
equal explicit padding), the 4 that crashed were exactly the bfloat16 3-D ones of kernel 2 and dilation 2 over a
depth of 1, with one group or two; one thread or two alike; with torch.backends.mkldnn off they compute. Expected:
the convolution of the bfloat16 values, within bfloat16's rounding of the float64 one. `--avoided` computes it in
float32, as the layer suite runs such a case.

Exit status: 0 when the output is computed and right, 1 when it is wrong; killed by SIGSEGV where it crashes.
"""

import sys

import torch


def main() -> int:
    torch.set_num_threads(int(next((a for a in sys.argv[1:] if a.isdigit()), "2")))
    torch.manual_seed(0)
    dtype = torch.float32 if "--avoided" in sys.argv else torch.bfloat16
    x = torch.randn(1, 2, 1, 2, 3).to(dtype)  # (N, C, D, H, W): a depth of one
    weight = torch.randn(4, 2, 2, 2, 2).to(dtype)
    expected = torch.nn.functional.conv3d(x.double(), weight.double(), padding=1, dilation=2)
    print(f"torch {torch.__version__}, {dtype}: calling conv3d", flush=True)
    y = torch.nn.functional.conv3d(x, weight, padding=1, dilation=2)
    error = float((y.double() - expected).abs().max())
    bound = 8 * torch.finfo(dtype).eps * float(expected.abs().max())
    print(f"torch {torch.__version__}, {dtype}: largest error {error:.3g} (bound {bound:.3g})")
    return 0 if error <= bound else 1


if __name__ == "__main__":
    sys.exit(main())

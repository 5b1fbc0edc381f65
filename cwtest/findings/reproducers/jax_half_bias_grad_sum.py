"""JAX on the CPU: the gradient of a bias added by broadcasting sums the upstream gradient in the half type
(bfloat16, float16), so a sum over a few thousand positions loses its low digits, where jnp.sum of the same array
sums in float32 and rounds once.

    python jax_half_bias_grad_sum.py [THREADS] [--avoided]   (THREADS: taken as every reproducer takes it, unused)

A Keras Conv2D or Dense layer with a bias on JAX adds it by broadcasting; the gradient of a broadcast is a sum
over the broadcast axes in the operand's type. Over an upstream gradient of shape (4, 32, 32, 8), normal values,
the per-channel sums are about 75 in size: jnp.sum is off the float64 sum by at most 0.08 in bfloat16 (one
rounding: a bfloat16 unit at 64 is 0.5) and 0.03 in float16, the bias gradient by 13.3 and 1.03. Expected: as
close to the float64 sums as jnp.sum of the same array comes, within a factor of 4, plus one unit of the type at
the largest sum. `--avoided`: float32 (what the suites judge a bias gradient on JAX in): then it computes right.

Exit status: 0 when the sums are right, 1 when they are wrong.
"""

import sys


def main() -> int:
    import jax
    import jax.numpy as jnp
    import numpy as np

    dtypes = [jnp.float32] if "--avoided" in sys.argv else [jnp.bfloat16, jnp.float16]
    upstream = np.random.default_rng(0).standard_normal((4, 32, 32, 8)).astype(np.float32)
    right = True
    for dtype in dtypes:
        g = jnp.asarray(upstream, dtype)
        exact = np.asarray(g, np.float64).sum(axis=(0, 1, 2))
        x = jnp.zeros(g.shape, dtype)
        got = jax.grad(lambda bias: jnp.sum((x + bias).astype(jnp.float32) * g.astype(jnp.float32)))(
            jnp.zeros(g.shape[-1], dtype))
        summed = jnp.sum(g, axis=(0, 1, 2))
        mantissa = {"float32": 23, "bfloat16": 7, "float16": 10}[jnp.dtype(dtype).name]
        unit = 2.0 ** (np.floor(np.log2(np.abs(exact).max())) - mantissa)
        error, reference = (float(np.abs(np.asarray(a, np.float64) - exact).max()) for a in (got, summed))
        ok = error <= 4 * reference + unit
        right = right and ok
        print(f"jax {jax.__version__}, the gradient of a broadcast bias in {jnp.dtype(dtype).name} over "
              f"{g.shape}: {'right' if ok else 'wrong'}; largest error {error:.3g} (jnp.sum {reference:.3g}; one "
              f"unit of the largest sum, {np.abs(exact).max():.3g}: {unit:g})")
    return 0 if right else 1


if __name__ == "__main__":
    sys.exit(main())

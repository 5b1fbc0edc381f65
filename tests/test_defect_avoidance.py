"""The layer suite avoids a catalogued defect's trigger exactly where its sides would meet it: the cases
that ran oneDNN's faulty kernel on Keras on torch (ONEDNN_VERBOSE=1, torch 2.14.1, AVX2) are avoided
there and only there, Keras on TensorFlow's bias added along the width and Keras on torch's replicated
average-pool padding only on their backends, and no case is avoided on JAX; a half case that would meet a
defect of its type only runs in float32 (`meets_in_half`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cwtest.registries.layers import BLOCKS
from cwtest.registries.defects import (DEFECTS, avoids_defects, avoids_onednn_conv1x1, kernels_run, meets_in_half,
                                       optimizer_params_avoiding)
from cwtest.registries.optimizers import REGISTRY

KERAS_TORCH = frozenset({"torch", "jax"})


def conv(channels, kernel=1, stride=2, groups=1):
    return {"inputs": [[2, 6, 4, channels]], "kernel": kernel, "stride": stride, "groups": groups, "filters": 2}


def bottleneck(channels, stride=2):
    return {"inputs": [[2, 6, 4, channels]], "stride": stride, "filters": 2, "projection": True}


# Measured with the kernel log: the cases whose gradients ran jit_1x1:avx2,backward_weights (met) or not.
MET = [("conv2d", conv(2)), ("conv2d", conv(4, stride=3)), ("conv2d", conv(6)),
       ("resnet_bottleneck_v1", bottleneck(1)), ("resnet_bottleneck_v1", bottleneck(7)),
       ("resnet_bottleneck_v1_5", bottleneck(1)), ("resnet_bottleneck_v1_5", bottleneck(4))]
CLEAN = [("conv2d", conv(4, groups=2)), ("conv2d", conv(4, stride=1)), ("conv2d", conv(4, kernel=3)),
         ("resnet_bottleneck_v1", bottleneck(8)), ("resnet_bottleneck_v1_5", bottleneck(12)),
         ("resnet_bottleneck_v1_5", bottleneck(4, stride=1)),
         ("densenet_transition", {"inputs": [[2, 6, 4, 4]], "training": True})]


@pytest.mark.parametrize("block, params", MET)
def test_a_case_that_ran_the_faulty_kernel_is_avoided_on_keras_on_torch(block, params):
    assert not avoids_onednn_conv1x1(KERAS_TORCH, "gradients", block, params)
    assert avoids_onednn_conv1x1(KERAS_TORCH, "forward", block, params)  # the defect is in backward_weights


@pytest.mark.parametrize("block, params", CLEAN)
def test_a_case_that_did_not_is_kept(block, params):
    assert avoids_onednn_conv1x1(KERAS_TORCH, "gradients", block, params)


@pytest.mark.parametrize("block, params", MET)
def test_without_keras_on_torch_the_case_is_kept(block, params):
    assert avoids_onednn_conv1x1(frozenset({"tensorflow"}), "gradients", block, params)
    assert avoids_onednn_conv1x1(frozenset({"jax"}), "gradients", block, params)


@given(st.sampled_from(BLOCKS).flatmap(lambda block: st.tuples(st.just(block.name), block.params)))
def test_no_drawn_case_is_avoided_on_jax(drawn):
    name, params = drawn
    assert avoids_defects(frozenset({"jax"}), "gradients", name, params)
    assert avoids_defects(frozenset({"jax"}), "forward", name, params)


def channels_first_conv(width, filters, bias=True):
    return {"inputs": [[2, 5, width, 3]], "kernel": 1, "stride": 1, "dilation": 1, "padding": "valid", "pad": 0,
            "groups": 1, "filters": filters, "bias": bias, "data_format": "channels_first"}


@pytest.mark.skipif(not DEFECTS["keras_tf_add_bias_axis"].present, reason="this Keras is older than 3.7.0, "
                    "the first release with keras_tf_add_bias_axis: nothing is avoided")
def test_a_channels_first_bias_as_wide_as_its_channels_is_avoided_on_tensorflow_only():
    met = channels_first_conv(width=4, filters=4)
    assert not avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d", met)
    assert avoids_defects(frozenset({"jax"}), "forward", "conv2d", met)
    assert avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d", channels_first_conv(width=5, filters=4))
    assert avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d", channels_first_conv(4, 4, bias=False))


@pytest.mark.skipif(not DEFECTS["keras_tf_add_bias_axis"].present, reason="this Keras is older than 3.7.0, "
                    "the first release with keras_tf_add_bias_axis: nothing is avoided")
def test_a_channels_first_transposed_conv_as_wide_as_its_channels_is_avoided_on_tensorflow_only():
    def transposed(width, filters, padding="valid", stride=1):
        return {"inputs": [[1, 1, width, 1]], "kernel": 2, "stride": stride, "dilation": 1, "padding": padding,
                "filters": filters, "bias": True, "data_format": "channels_first"}

    # Keras's sizes, measured on TensorFlow (the bias landed on the width exactly at these): valid, input + 1.
    assert not avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d_transpose", transposed(1, 2))
    assert not avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d_transpose", transposed(2, 3))
    assert not avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d_transpose", transposed(2, 4, "same", 2))
    assert avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d_transpose", transposed(1, 3))
    assert avoids_defects(frozenset({"tensorflow"}), "forward", "conv2d_transpose", transposed(2, 2))
    assert avoids_defects(frozenset({"jax"}), "forward", "conv2d_transpose", transposed(1, 2))


def test_a_transposed_conv_gradient_is_avoided_on_keras_on_torch_exactly_where_torch_raises():
    """Keras on torch's Conv2DTranspose, run as it runs it (the NHWC input and the (kh, kw, out, in) kernel viewed in
    torch's order), over a sweep of shapes: the gradient check avoids the ones whose backward raises, and no other."""
    import itertools

    import torch

    raised, avoided = set(), set()
    for batch, cin, cout, kh, kw, h, w in itertools.product([1, 2], [1, 2], [1, 2, 3], [1, 2], [1, 3], [1, 3], [1, 2]):
        shape = (batch, cin, cout, kh, kw, h, w)
        x = torch.randn(batch, h, w, cin).permute(0, 3, 1, 2).requires_grad_()
        kernel = torch.randn(kh, kw, cout, cin, requires_grad=True)
        try:
            torch.nn.functional.conv_transpose2d(x, kernel.permute(3, 2, 0, 1)).sum().backward()
        except RuntimeError:
            raised.add(shape)
        params = {"inputs": [[batch, h, w, cin]], "kernel": (kh, kw), "filters": cout}
        if not avoids_defects(frozenset({"torch"}), "gradients", "conv2d_transpose", params):
            avoided.add(shape)
        assert avoids_defects(frozenset({"torch"}), "forward", "conv2d_transpose", params)
    assert raised and raised == avoided


def avgpool(width, padding="same"):
    return {"inputs": [[1, 1, width, 1]], "pool": (1, 3), "stride": (1, 2), "padding": padding}


def test_an_asymmetric_same_average_pool_is_avoided_on_keras_on_torch_only():
    assert not avoids_defects(KERAS_TORCH, "forward", "avgpool", avgpool(4))  # pads (0, 1): the defect's case
    assert avoids_defects(KERAS_TORCH, "forward", "avgpool", avgpool(5))  # pads (1, 1)
    assert avoids_defects(KERAS_TORCH, "forward", "avgpool", avgpool(4, "valid"))
    assert avoids_defects(frozenset({"tensorflow"}), "forward", "avgpool", avgpool(4))


def oversized_pool(dtype, height=2, width=4, pool=(5, 5)):
    return {"inputs": [[1, height, width, 1]], "pool": pool, "stride": (1, 1), "padding": "same", "dtype": dtype}


def test_a_float16_average_pool_gradient_whose_same_window_is_larger_than_the_input_runs_in_float32_on_tensorflow(
        monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    tensorflow = frozenset({"tensorflow"})
    assert meets_in_half(tensorflow, "gradients", "avgpool_same", oversized_pool("float16"))
    assert not meets_in_half(tensorflow, "forward", "avgpool_same", oversized_pool("float16"))  # forward is right
    assert not meets_in_half(tensorflow, "gradients", "avgpool_same", oversized_pool("float16", 6, 6))  # it fits
    assert not meets_in_half(frozenset({"jax"}), "gradients", "avgpool_same", oversized_pool("float16"))
    # bfloat16 and float32 run oneDNN's kernel, which computes right: nothing avoided, nothing moved to float32.
    for dtype in ("bfloat16", "float32"):
        assert not meets_in_half(tensorflow, "gradients", "avgpool_same", oversized_pool(dtype))
        assert avoids_defects(tensorflow, "gradients", "avgpool_same", oversized_pool(dtype))
    # As drawn, before the layer suite moves it to float32, the float16 case is one the suites must not run.
    assert not avoids_defects(tensorflow, "gradients", "avgpool_same", oversized_pool("float16"))


def test_with_onednn_off_every_type_of_that_average_pool_gradient_is_avoided_on_tensorflow(monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    for dtype in ("float32", "bfloat16", "float16"):
        assert not avoids_defects(frozenset({"tensorflow"}), "gradients", "avgpool", oversized_pool(dtype))
        assert avoids_defects(frozenset({"tensorflow"}), "gradients", "avgpool", oversized_pool(dtype, 6, 6))


def test_a_half_gradient_with_a_bias_runs_in_float32_where_its_backend_sums_it_in_the_half_type():
    conv = {**channels_first_conv(width=5, filters=4), "dtype": "bfloat16"}
    float16 = {**conv, "dtype": "float16"}
    for backend, dtypes in (("tensorflow", [conv]), ("jax", [conv, float16])):
        for params in dtypes:
            assert meets_in_half(frozenset({backend}), "gradients", "conv2d", params)
            assert not meets_in_half(frozenset({backend}), "gradients", "conv2d", {**params, "bias": False})
            assert not meets_in_half(frozenset({backend}), "forward", "conv2d", params)
    assert not meets_in_half(frozenset({"tensorflow"}), "gradients", "conv2d", float16)  # BiasAddGrad sums it right
    assert not meets_in_half(frozenset({"torch"}), "gradients", "conv2d", conv)


def test_a_defect_fixed_inside_the_declared_range_is_present_only_on_the_releases_before_its_fix():
    from dataclasses import replace
    from importlib import metadata

    from packaging.version import Version

    installed = Version(metadata.version("keras"))
    layernorm = DEFECTS["keras_layernorm_half_moments"]
    assert layernorm.present == (installed < Version("3.6.0"))
    assert replace(layernorm, fixed_in=None).present  # every release tried
    assert replace(layernorm, fixed_in=f"{installed.major}.{installed.minor + 1}.0").present
    assert not replace(layernorm, since=f"{installed.major}.{installed.minor + 1}.0", fixed_in=None).present
    assert "before 3.6.0" in layernorm.releases


@pytest.mark.parametrize("block, params", [
    ("layernorm", {"inputs": [[2, 3, 4]], "axis": 2, "dtype": "float16"}),
    ("groupnorm", {"inputs": [[3, 8, 4]], "groups": 2, "dtype": "bfloat16"})])
def test_a_half_normalization_runs_in_float32_only_on_the_keras_releases_that_computed_its_moments_in_the_half_type(
        block, params):
    defect = DEFECTS[f"keras_{block}_half_moments"]
    for backends in (frozenset({"tensorflow"}), frozenset({"jax"}), KERAS_TORCH):
        for check in ("forward", "gradients"):
            assert meets_in_half(backends, check, block, params) == defect.present
            assert not meets_in_half(backends, check, block, {**params, "dtype": "float32"})


def test_a_bfloat16_dilated_conv3d_runs_in_float32_on_every_pair():
    """torch, every pair's reference side, would crash on it (onednn_bf16_conv3d_dilated_segfault)."""
    case = {"inputs": [[1, 1, 2, 3, 2]], "kernel": (2, 1, 2), "dilation": 2, "bias": False, "dtype": "bfloat16"}
    for backends in (frozenset({"tensorflow"}), frozenset({"jax"}), frozenset({"torch"})):
        assert meets_in_half(backends, "forward", "conv3d", case)
        assert meets_in_half(backends, "gradients", "conv3d", case)
        assert not meets_in_half(backends, "forward", "conv3d", {**case, "dilation": 1})
        assert not meets_in_half(backends, "forward", "conv3d", {**case, "dtype": "float16"})


def test_a_float16_kl_divergence_runs_in_float32_on_every_keras_backend():
    """Keras's kl_divergence overflows in float16 (keras_kl_divergence_float16_overflow); bfloat16 holds the quotient."""
    case = {"inputs": [(2, 3)], "seed": 0, "scale": 100.0, "targets": "distribution", "dtype": "float16"}
    for backends in (frozenset({"tensorflow"}), frozenset({"jax"}), KERAS_TORCH):
        for check in ("forward", "gradients"):
            assert meets_in_half(backends, check, "kl_divergence", case)
            assert not meets_in_half(backends, check, "kl_divergence", {**case, "dtype": "bfloat16"})
            assert not meets_in_half(backends, check, "cross_entropy_logits", case)


def test_a_half_hard_sigmoid_gradient_runs_in_float32_on_tensorflow_and_jax():
    """Keras's hard_sigmoid rounds x + 3 onto 6 in half types on TensorFlow and JAX
    (keras_hard_sigmoid_half_rounds_onto_six); torch's compares x with 3, and its forward is right within a rounding."""
    case = {"inputs": [(1, 4, 6, 6)], "seed": 117, "scale": 10.0, "kinks": (-3.0, 3.0), "dtype": "float16"}
    for block in ("hard_sigmoid", "hard_swish"):
        for dtype in ("float16", "bfloat16"):
            for backends in (frozenset({"tensorflow"}), frozenset({"jax"})):
                assert meets_in_half(backends, "gradients", block, {**case, "dtype": dtype})
            assert not meets_in_half(frozenset({"torch"}), "gradients", block, {**case, "dtype": dtype})
            assert not meets_in_half(frozenset({"tensorflow"}), "forward", block, {**case, "dtype": dtype})
        assert not meets_in_half(frozenset({"tensorflow"}), "gradients", block, {**case, "dtype": "float32"})


@given(REGISTRY["nadam"].params)
def test_nadam_gets_float32_betas_on_keras_on_torch_only(params):
    """Keras on torch's Nadam takes 1 - beta_2 in float64 and beta_2 ** t in float32
    (keras_torch_nadam_second_moment_beta): there both sides get betas float32 represents, for which both agree."""
    for backends in (KERAS_TORCH, frozenset({"torch"})):
        avoided = optimizer_params_avoiding(backends, "nadam", params)
        for beta in ("beta1", "beta2"):
            assert avoided[beta] == np.float32(avoided[beta]) and abs(avoided[beta] - params[beta]) < 1e-7
            assert 1 - avoided[beta] == np.float32(1) - np.float32(avoided[beta])
        assert {k: v for k, v in avoided.items() if k not in ("beta1", "beta2")} == {
            k: v for k, v in params.items() if k not in ("beta1", "beta2")}
    for backends in (frozenset({"tensorflow"}), frozenset({"jax"})):
        assert optimizer_params_avoiding(backends, "nadam", params) == params
    assert optimizer_params_avoiding(KERAS_TORCH, "adam", params) == params


def test_a_kernel_logged_as_created_counts_as_run_and_one_turned_down_does_not():
    """A kernel that crashes the process is logged as created (ONEDNN_VERBOSE=2), never as executed."""
    log = "\n".join([
        "onednn_verbose,v1,primitive,create:dispatch,convolution,cpu,convolution,brdgmm_dw:undef,forward_training,x",
        "onednn_verbose,v1,primitive,create:cache_miss,cpu,convolution,brg_conv_fwd:avx10_1_512_amx,forward_training,x",
        "onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:bf16,x",
        "torch 2.14.1: calling conv3d"])
    assert kernels_run(log) == {"brg_conv_fwd:avx10_1_512_amx,forward_training", "jit:uni,undef"}


def _keras_torch_conv_raises(batch: int, channels: int, filters: int, kernel: int, dtype: str,
                             transposed: bool) -> bool:
    """Whether the weight gradient of a convolution laid out as Keras on torch lays it out (an NHWC input and a
    Keras kernel, each permuted to torch's order) raises on this torch."""
    import torch

    kind = getattr(torch, dtype)
    x = torch.randn(batch, 3, 4, channels, dtype=kind).permute(0, 3, 1, 2)
    shape = (kernel, kernel, filters, channels) if transposed else (kernel, kernel, channels, filters)
    weight = torch.randn(*shape, dtype=kind, requires_grad=True)
    operation = torch.nn.functional.conv_transpose2d if transposed else torch.nn.functional.conv2d
    try:
        torch.autograd.grad(operation(x, weight.permute(3, 2, 0, 1)).sum(), [weight])
    except RuntimeError:
        return True
    return False


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("block", ["conv2d", "conv2d_transpose"])
def test_every_slow_conv2d_raise_is_avoided_on_keras_on_torch(block, dtype):
    """Over batches 1-3, 1-3 channels, 1-2 filters and kernels 1-2, each case whose gradient raises on this torch is
    one the layer suite avoids on Keras on torch; the float16 ones of batch 2+ are among them."""
    raising = []
    for batch in (1, 2, 3):
        for channels in (1, 2, 3):
            for filters in (1, 2):
                for kernel in (1, 2):
                    if _keras_torch_conv_raises(batch, channels, filters, kernel, dtype, block == "conv2d_transpose"):
                        params = {"inputs": [[batch, 3, 4, channels]], "filters": filters, "kernel": kernel,
                                  "dtype": dtype}
                        raising.append((batch, params))
    unavoided = [p for _, p in raising if avoids_defects(KERAS_TORCH, "gradients", block, p)]
    assert not unavoided, unavoided
    if dtype == "float16":
        assert any(batch > 1 for batch, _ in raising), "float16 raises at batch 2+ no longer: narrow the avoidance"


@pytest.mark.parametrize("block", ["conv2d", "conv2d_transpose"])
def test_a_float16_channels_first_conv_is_avoided_on_tensorflow_only(block):
    def params(dtype, data_format):
        return {"inputs": [[2, 6, 4, 3]], "filters": 2, "kernel": 3, "stride": 1, "groups": 1, "bias": False,
                "data_format": data_format, "dtype": dtype}

    assert not avoids_defects(frozenset({"tensorflow"}), "forward", block, params("float16", "channels_first"))
    assert not avoids_defects(frozenset({"tensorflow"}), "gradients", block, params("float16", "channels_first"))
    assert avoids_defects(frozenset({"tensorflow"}), "forward", block, params("bfloat16", "channels_first"))
    assert avoids_defects(frozenset({"tensorflow"}), "forward", block, params("float16", "channels_last"))
    assert avoids_defects(KERAS_TORCH, "forward", block, params("float16", "channels_first"))
    dilated = {**params("float16", "channels_last"), "dilation": (1, 2)}
    assert avoids_defects(frozenset({"tensorflow"}), "forward", block, dilated) is (block == "conv2d")

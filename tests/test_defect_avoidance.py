"""The layer suite avoids a catalogued defect's trigger exactly where its sides would meet it: the cases
that ran oneDNN's faulty kernel on Keras on torch (ONEDNN_VERBOSE=1, torch 2.14.1, AVX2) are avoided
there and only there, and no case is avoided on a run without Keras on torch."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cwtest.registries.layers import BLOCKS
from cwtest.registries.defects import avoids_defects, avoids_onednn_conv1x1

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
def test_no_drawn_case_is_avoided_without_keras_on_torch(drawn):
    name, params = drawn
    assert avoids_defects(frozenset({"tensorflow", "jax"}), "gradients", name, params)

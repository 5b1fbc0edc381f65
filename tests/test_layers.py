"""Tests of the layer suite itself: planted bugs are caught, and the registries stay plain data."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from cwtest.layer_parity import assert_within, case_values, compare
from cwtest.layers import BLOCKS, REGISTRY
from cwtest.optimizers import OPTIMIZERS
from cwtest.semantics import CHECKS, DIFFERENCES, cases

ROOT = Path(__file__).resolve().parents[1]


def caught(block, check: str) -> bool:
    """Whether the suite's generic check fails the block (harmonized) on some of 30 fixed examples."""

    @settings(max_examples=30, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(params=block.params)
    def check_block(params):
        assert_within(compare(block, params, frozenset(), check), getattr(block.tolerance, check), block.name, check)

    try:
        check_block()
    except AssertionError:
        return True
    return False


def _torch_flatten_dense_without_reorder(nn, p, published):
    module = REGISTRY["flatten_dense"].torch(nn, p, published)
    del module.dense.flattened_chw  # the Dense kernel then goes over without its C,H,W -> H,W,C transpose
    return module


def _torch_softmax_on_last_axis(nn, p, published):
    return nn.Softmax(dim=-1)  # a missing NCHW/NHWC transpose: over W instead of the channels


def _keras_same_padding(keras, p, published):
    return REGISTRY["conv2d_same_stride2"].keras(keras, p, frozenset({"same_padding_stride2"}))


def _keras_momentum_copied(keras, p, published):
    # torch's momentum=0.1 ported as is: in Keras it weighs the old average, not the batch.
    x = keras.Input(p["inputs"][0][1:], batch_size=p["inputs"][0][0])
    return keras.Model(x, keras.layers.BatchNormalization(momentum=0.1, epsilon=1e-5, name="bn")(x))


PLANTED = {
    "missing Dense kernel transpose after Flatten": ("flatten_dense", "torch", _torch_flatten_dense_without_reorder,
                                                     "forward"),
    "missing channel transpose in softmax": ("softmax", "torch", _torch_softmax_on_last_axis, "forward"),
    "wrong padding, forward": ("conv2d_same_stride2", "keras", _keras_same_padding, "forward"),
    "wrong padding, gradients": ("conv2d_same_stride2", "keras", _keras_same_padding, "gradients"),
    "BatchNorm momentum not converted": ("batchnorm_train", "keras", _keras_momentum_copied, "forward"),
}


@pytest.mark.parametrize("planted", PLANTED)
def test_planted_bug_is_caught(planted):
    name, side, builder, check = PLANTED[planted]
    assert caught(dataclasses.replace(REGISTRY[name], **{side: builder}), check)


@pytest.mark.parametrize("name", ["flatten_dense", "softmax", "conv2d_same_stride2", "batchnorm_train"])
def test_unplanted_entries_pass_the_same_examples(name):
    assert not caught(REGISTRY[name], "forward")


PLANTED_PLUGIN = '''
import dataclasses
import cwtest.layers

def _without_reorder(nn, p, published):
    module = cwtest.layers.REGISTRY["flatten_dense"].torch(nn, p, published)
    del module.dense.flattened_chw
    return module

cwtest.layers.BLOCKS = tuple(dataclasses.replace(b, torch=_without_reorder) if b.name == "flatten_dense" else b
                             for b in cwtest.layers.BLOCKS)
'''


def test_the_suite_fails_a_planted_bug_and_says_how_to_reproduce(pytester):
    pytester.makepyfile(planted=PLANTED_PLUGIN)
    result = pytester.runpytest_subprocess(
        str(ROOT / "suites/layers/test_blocks.py"), "-p", "planted", "-p", "no:cacheprovider", f"--rootdir={ROOT}",
        "-k", "test_forward and flatten_dense", "--hypothesis-profile=ci")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*flatten_dense: forward differs beyond*", "*reproduce: pytest *--hypothesis-profile=ci*",
                                 "*Draw 1 (params)*"])


def test_every_difference_has_a_published_case():
    found = {d for check in CHECKS for case in cases([*BLOCKS, *OPTIMIZERS], check) for d in case.published}
    assert found == set(DIFFERENCES)


def test_registry_ids_are_unique_and_collection_imports_no_framework():
    assert len(BLOCKS) >= 20
    for check in CHECKS:
        ids = [case.id for case in cases([*BLOCKS, *OPTIMIZERS], check)]
        assert len(ids) == len(set(ids))
    code = ("import sys, cwtest.layers, cwtest.optimizers, cwtest.semantics, cwtest.layer_parity; "
            "print(sorted({'torch', 'tensorflow', 'keras'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_harmonization_knobs_name_catalogued_differences():
    from cwtest.harmonize import KNOBS

    assert {knob.catalogue for knob in KNOBS.values()} - {None} <= set(DIFFERENCES)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_copied_block_computes_with_its_own_weights(name):
    # Device comparisons run deep copies of a block's torch module, one per device: a copy that
    # still called its original would compute on the original's device with the original's weights.
    import copy

    import torch

    from cwtest.layer_parity import inputs_for, torch_input

    block = REGISTRY[name]

    @settings(max_examples=3, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(params=block.params)
    def check(params):
        module = block.torch(torch.nn, params, frozenset())
        copied = copy.deepcopy(module).train(params.get("training", block.training))
        xs = [torch_input(x).requires_grad_() for x in inputs_for(params)]
        copied(*xs).float().sum().backward()
        assert all(p.grad is None for p in module.parameters()), "the copy's backward reached the original"
        assert all(p.grad is not None for p in copied.parameters()), "the copy's own weights took no part"

    check()


def test_a_gradient_that_is_zero_in_exact_arithmetic_is_judged_against_float64():
    # A thorough-profile draw: a conv bias before a training-mode BatchNorm has an exactly zero gradient,
    # and both sides return round-off noise 1270 units apart. Each is as far from torch's float64 result.
    params = {"inputs": [(2, 6, 8, 1)], "seed": 926, "scale": 0.1, "filters": 2, "stride": 1, "projection": True,
              "training": True}
    block = REGISTRY["resnet_bottleneck_v1"]
    limit = block.tolerance.gradients
    errors = case_values(block, params, frozenset(), "gradients").errors(limit)
    assert errors["d shortcut_conv.bias"].eps_units > limit and errors["d shortcut_conv.bias"].within_round_off
    assert_within(errors, limit, block.name, "gradients")

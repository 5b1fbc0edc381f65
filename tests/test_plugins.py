"""Backends from installed packages (the `cwtest.adapters` entry-point group): the example plugin under
examples/cwtest-inductor, installed as a user installs it, is a side like cwtest's own."""

from __future__ import annotations

import pytest

from cwtest.frameworks import adapter_for, trainable, versions_of
from cwtest.frameworks import plugins
from cwtest.frameworks.sides import parse_pair
from cwtest.core.errors import InputError


@pytest.fixture(scope="module")
def inductor():
    if "torch-inductor" not in plugins.registered():
        pytest.skip("the example backend plugin is not installed: pip install -e examples/cwtest-inductor")
    return plugins.registered()["torch-inductor"]


def test_an_installed_plugin_is_a_side_of_its_model_code(inductor):
    pair = parse_pair("torch:cpu,torch-inductor:cpu")
    assert pair.right.api == "torch" and pair.one_model_code and not pair.torch_and_keras
    assert adapter_for(pair.right) is inductor and not trainable("torch-inductor")
    assert versions_of(pair.right)["cwtest-inductor"] == "0.1.0"


def test_a_plugin_side_is_checked_like_any_other(inductor):
    with pytest.raises(InputError, match="unknown device 'gpu' for torch-inductor"):
        parse_pair("torch:cpu,torch-inductor:gpu")
    with pytest.raises(InputError, match=r"unknown framework 'torch-inductr' \(known: .*torch-inductor"):
        parse_pair("torch:cpu,torch-inductr:cpu")


def test_the_layer_suite_runs_a_plugin_module_compiled(inductor):
    import numpy as np
    import torch
    import torchvision  # noqa: F401  (torch's whole stack first, Triton with it, as cwtest.frameworks.imports orders them)

    from cwtest.adapters.torch import cases as torch_cases
    from cwtest.frameworks.sides import Side

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh())
    xs = [np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)]
    eager = torch_cases.run(module, xs, False)
    compiled = torch_cases.run(module, xs, False, side=Side("torch-inductor", "cpu"))
    assert module._compiled_call_impl is not None  # run by inductor, in place
    assert np.abs(compiled.output - eager.output).max() <= 1e-6 * np.abs(eager.output).max()

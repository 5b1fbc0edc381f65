"""Every layer-registry entry on torch and Keras with shared weights and inputs.

forward: the outputs and the weights' state after the call (BatchNorm's running statistics);
gradients: of sum(output * cotangent) for the inputs and every weight. A case built with a
catalogued difference left published is a strict xfail; its harmonized twin must pass.
A case drawn in a half type (bfloat16, float16) runs both sides in it and judges Keras against torch's float64
run, within what torch's own error allows (cwtest.blocks.layer_parity.half_judgements, half_gradient_judgements);
in float32 instead where that cannot be judged (a compound block's gradients: Block.half_gradients) or would meet
a catalogued defect of the half type (cwtest.registries.defects.meets_in_half; docs/layers.md).
With a pair of torch sides (torch:cpu,torch:cuda) each harmonized block runs on both instead,
within its fp32 tolerance scaled to the less precise side's rounding (cwtest.frameworks.precision); with a
pair of Keras backends (keras-torch:cpu,keras-jax:cpu) on both Keras backends, within its tolerance.
A case that fails runs again on the same inputs: a side that answers differently the second time
fails as "non-deterministic: <side>" (cwtest.findings.rerun). A running case's inputs are noted for the
crash report (cwtest.session.blackbox): a block that kills its process is named with them.
"""

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from cwtest.frameworks.imports import case_keras_backends, run_keras_backends
from cwtest.frameworks.precision import looser, torch_mode, unit_ratio
from cwtest.frameworks.sides import Side
from cwtest.blocks.layer_parity import (assert_half_within, assert_within, case_values, device_values,
                                        half_gradient_judgements, half_judgements, keras_pair_values)
from cwtest.registries.layers import BLOCKS
from cwtest.registries.differences import pytest_params, xfail_reasons
from cwtest.registries.defects import avoids_defects, meets_in_half
from cwtest.findings.rerun import judged_twice
from cwtest.session import blackbox


def _check(case, data, check, worst_errors, reproduce, one_code_pair):
    if case.entry.unavailable():
        pytest.skip(case.entry.unavailable())
    note(reproduce)
    params = data.draw(case.entry.params, label="params")
    keras_backends = case_keras_backends(one_code_pair)
    # Half types: torch against Keras, in a case that must pass (an xfail expects its difference's fp32 failure, and
    # hypothesis reports a half one beside it as another), gradients where the block allows (Block.half_gradients),
    # and not where a catalogued defect of the half type would meet the case (its own test shows it). Elsewhere a
    # half draw runs in float32, so that every example still counts.
    half = params["dtype"] != "float32"
    if half and (one_code_pair or xfail_reasons(case, check, run_keras_backends())
                 or (check == "gradients" and not case.entry.half_gradients)
                 or meets_in_half(keras_backends, check, case.entry.name, params)):
        params, half = {**params, "dtype": "float32"}, False
    # Catalogued defects the case would meet (cwtest.registries.defects); their own tests show them.
    assume(avoids_defects(keras_backends, check, case.entry.name, params))
    blackbox.note(inputs=params)
    if half:
        judgements = half_judgements if check == "forward" else half_gradient_judgements
        with torch_mode(Side("torch", "cpu")):  # torch's flags as in fp32: the row reads them back
            assert_half_within(judgements(case.entry, params), case.id, check)
        return
    limit = getattr(case.entry.tolerance, check)
    if one_code_pair:
        limit *= unit_ratio(looser(*one_code_pair))  # the fp32 tolerance at the less precise side's rounding

    def run():
        # Keras's cases run in its backends' child processes, on the CPU in fp32 (cwtest.frameworks.child).
        if one_code_pair and one_code_pair[0].api == "keras":
            return keras_pair_values(case.entry, params, one_code_pair[1], check, case.kept)
        if one_code_pair:
            return device_values(case.entry, params, *one_code_pair, check)
        # torch against Keras, both on the CPU, in fp32: torch's mode entered so that the row reads it back
        with torch_mode(Side("torch", "cpu")):
            return case_values(case.entry, params, case.kept, check)

    def judge(results):
        worst_errors(results, limit)
        assert_within(results, limit, case.id, check)

    judged_twice(run, judge, limit)


@pytest.mark.parametrize("case", pytest_params(BLOCKS, "forward", run_keras_backends()))
@given(data=st.data())
def test_forward(case, data, worst_errors, reproduce, one_code_pair):
    _check(case, data, "forward", worst_errors, reproduce, one_code_pair)


@pytest.mark.parametrize("case", pytest_params(BLOCKS, "gradients", run_keras_backends()))
@given(data=st.data())
def test_gradients(case, data, worst_errors, reproduce, one_code_pair):
    _check(case, data, "gradients", worst_errors, reproduce, one_code_pair)

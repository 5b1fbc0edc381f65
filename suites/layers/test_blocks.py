"""Every layer-registry entry on torch and Keras with shared weights and inputs.

forward: the outputs and the weights' state after the call (BatchNorm's running statistics);
gradients: of sum(output * cotangent) for the inputs and every weight. A case built with a
catalogued difference left published is a strict xfail; its harmonized twin must pass.
"""

import pytest
from hypothesis import given, note, strategies as st

from cwtest.layer_parity import assert_within, compare
from cwtest.layers import BLOCKS
from cwtest.semantics import pytest_params


def _check(case, data, check, worst_errors, reproduce):
    note(reproduce)
    params = data.draw(case.entry.params, label="params")
    results = compare(case.entry, params, case.published, check)
    worst_errors(results)
    assert_within(results, getattr(case.entry.tolerance, check), case.id, check)


@pytest.mark.parametrize("case", pytest_params(BLOCKS, "forward"))
@given(data=st.data())
def test_forward(case, data, worst_errors, reproduce):
    _check(case, data, "forward", worst_errors, reproduce)


@pytest.mark.parametrize("case", pytest_params(BLOCKS, "gradients"))
@given(data=st.data())
def test_gradients(case, data, worst_errors, reproduce):
    _check(case, data, "gradients", worst_errors, reproduce)

"""The layer suite's fixtures; its hypothesis profiles are in cwtest.session.profiles (loaded by the root conftest)."""

from __future__ import annotations

import pytest
from hypothesis import settings

from cwtest.backends import backend_for
from cwtest.backends.sides import Side


@pytest.fixture
def worst_errors(record_metric):
    """Keeps the largest errors over a test's examples and records them when the test ends."""
    worst = {"max_abs_error": 0.0, "max_rel_error": 0.0, "max_rel_elementwise_error": 0.0, "error_eps_units": 0.0,
             "examples": 0}

    def add(results) -> None:
        worst["examples"] += 1
        for e in results.values():
            worst["max_abs_error"] = max(worst["max_abs_error"], e.max_abs)
            worst["max_rel_error"] = max(worst["max_rel_error"], e.max_rel)
            worst["max_rel_elementwise_error"] = max(worst["max_rel_elementwise_error"], e.max_rel_elementwise)
            worst["error_eps_units"] = max(worst["error_eps_units"], e.eps_units)

    yield add
    for name, value in worst.items():
        record_metric(name, value)


@pytest.fixture
def reproduce(request):
    """The line a failure prints to say how to run it again."""
    profile = settings.get_current_profile_name()
    return (f"reproduce: pytest '{request.node.nodeid}' -p no:xdist --hypothesis-profile={profile}"
            + ("" if settings.default.derandomize else " (or the @reproduce_failure line below; the "
               "example database replays it on the next run)"))


def _torch_against_keras(pair) -> None:
    if not pair.torch_and_keras:
        keras_sides = [str(s) for s in (pair.left, pair.right) if s.keras_backend]
        pytest.skip(f"{pair}: this test compares torch with Keras (its reference is torch's float64): run it "
                    f"once per Keras side, --crossedwires-pair torch:cpu,"
                    f"{keras_sides[0] if keras_sides else 'tensorflow:cpu'}; a pair of torch sides runs "
                    f"test_blocks.py on both")
    _, keras_side = pair.torch_first((pair.left, pair.right))
    reason = backend_for(keras_side).available(Side(keras_side.framework, "cpu"))  # blocks run on the CPU
    if reason:
        pytest.skip(reason)


@pytest.fixture
def torch_and_keras(crossedwires_settings) -> None:
    """Skips where the run's pair does not compare torch with Keras."""
    _torch_against_keras(crossedwires_settings.pair)


@pytest.fixture
def device_pair(request, crossedwires_settings):
    """(reference, other) for a pair of torch sides on two devices or precisions: each block runs on both;
    None for any other pair: torch against Keras on the CPU."""
    pair = crossedwires_settings.pair
    if pair.left.framework != pair.right.framework:
        _torch_against_keras(pair)
        return None
    if pair.left.api != "torch":
        pytest.skip(f"{pair}: blocks run on two devices for torch only; name torch sides, e.g. torch:cpu,torch:cuda")
    case = request.node.callspec.params["case"]
    if case.published:
        pytest.skip(f"{case.id}: shows a torch/Keras difference, which a pair of torch sides does not have")
    for side in (pair.left, pair.right):
        reason = backend_for(side).available(side)
        if reason:
            pytest.skip(reason)
    return pair.left, pair.right

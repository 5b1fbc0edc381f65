"""The layer suite's selection by architecture and its fixtures; its hypothesis profiles are in cwtest.session.profiles (loaded
by suites/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from cwtest.frameworks.availability import require
from cwtest.frameworks.sides import Side, keras_in_process
from cwtest.blocks.layer_parity import tolerance_ratio
from cwtest.core.metrics import TOLERANCE_RATIO

SUITE = Path(__file__).parent


def pytest_collection_modifyitems(config, items) -> None:
    """The blocks and optimizers of the architectures --crossedwires-arch names (registries.architectures:
    Architecture.blocks, .optimizers), and the catalogued defects that those blocks' cases would meet
    (registries.defects: Defect.blocks), the others deselected; with every architecture named (`all`, the default),
    the whole of both registries and of the catalogue, the entries no CrossedWires architecture is made of included
    (the zoo's pairs, `zoo`, select their own blocks)."""
    from cwtest.registries.architectures import CROSSEDWIRES, selected_blocks
    from cwtest.session.plugin import start
    from cwtest.session.stash import SETTINGS

    start(config)
    archs = config.stash[SETTINGS].archs
    if set(CROSSEDWIRES) <= set(archs):
        return
    chosen = selected_blocks(archs)
    deselected = [item for item in items if (entries := _entries(item)) is not None and not entries & chosen]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        gone = set(map(id, deselected))
        items[:] = [item for item in items if id(item) not in gone]


def _entries(item) -> set[str] | None:
    """The registry entries a test of this suite is about (the one its case is of, or the blocks its defect would
    show in), None for any other test."""
    if SUITE not in item.path.parents or not hasattr(item, "callspec"):
        return None
    params = item.callspec.params
    if "defect" in params:
        return set(params["defect"].blocks)
    name = getattr(getattr(params.get("case"), "entry", None), "name", None)
    return None if name is None else {name}


@pytest.fixture
def worst_errors(record_metric):
    """Keeps the largest errors over a test's examples and records them when the test ends."""
    worst = {"max_abs_error": 0.0, "max_rel_error": 0.0, "max_rel_elementwise_error": 0.0, "error_eps_units": 0.0,
             TOLERANCE_RATIO: 0.0, "examples": 0}

    def add(results, limit: float) -> None:
        worst["examples"] += 1
        worst[TOLERANCE_RATIO] = max(worst[TOLERANCE_RATIO], tolerance_ratio(results, limit))
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
    require(Side(keras_side.framework, "cpu"))  # blocks run on the CPU


@pytest.fixture
def torch_and_keras(crossedwires_settings) -> None:
    """Skips where the run's pair does not compare torch with Keras."""
    _torch_against_keras(crossedwires_settings.pair)


def _without_torch_keras_difference(request, pair) -> None:
    case = request.node.callspec.params.get("case")
    if case is not None and case.kept and pair.left.api == "torch":
        pytest.skip(f"{request.node.callspec.id}: keeps a torch/Keras difference as published, which a pair of torch "
                    f"sides does not build: its harmonized twin runs on both")
    if case is not None and case.differs_between(pair.keras_backends):
        return  # one Keras backend's own convention: the pair's two Keras backends differ by it
    if case is not None and not case.kept and pair.left.runs_keras_code:
        return  # a harmonized twin: its xfail, where it has one, is a difference that stays on one of the two
    if request.node.get_closest_marker("xfail"):
        pytest.skip(f"{request.node.callspec.id}: shows a torch/Keras difference, which a pair of one model code "
                    f"does not have")


def _two_keras_backends(pair) -> tuple[Side, Side]:
    """(this process's Keras side, the other) for a pair of two Keras backends on the CPU."""
    if pair.left.framework == pair.right.framework or pair.left.device != "cpu" or pair.right.device != "cpu":
        pytest.skip(f"{pair}: a pair of Keras sides runs the blocks on two Keras backends, on the CPU; name them, "
                    f"e.g. keras-torch:cpu,keras-jax:cpu")
    reference = keras_in_process()
    other = pair.right if pair.left.framework == reference.framework else pair.left
    require(reference, other)
    return reference, other


@pytest.fixture
def one_code_pair(request, crossedwires_settings):
    """(reference, other) for a pair that runs one model code twice: torch on two devices or precisions,
    each block on both; or Keras on two backends, on the CPU, the second in its own process. None for a
    torch/Keras pair: torch against Keras on the CPU."""
    pair = crossedwires_settings.pair
    if not pair.one_model_code:
        _torch_against_keras(pair)
        return None
    _without_torch_keras_difference(request, pair)
    if pair.left.api == "keras":
        return _two_keras_backends(pair)
    if pair.left.api != "torch":
        pytest.skip(f"{pair}: blocks run on two devices for torch only; name torch sides, e.g. torch:cpu,torch:cuda")
    require(pair.left, pair.right)
    return pair.left, pair.right


@pytest.fixture
def keras_pair(request, crossedwires_settings):
    """(reference, other) for a pair of two Keras backends, as `one_code_pair`; None for a torch/Keras pair."""
    pair = crossedwires_settings.pair
    if pair.one_model_code and pair.left.api == "keras":
        _without_torch_keras_difference(request, pair)
        return _two_keras_backends(pair)
    _torch_against_keras(pair)
    return None

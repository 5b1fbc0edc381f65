"""The transfer suite's parametrization (flavour x route) and its shared, cached model pairs.

A route is an ordered pair of sides, written as in the test ids: `torch:cpu->tensorflow:cpu`
copies torch's weights into Keras, `tensorflow:cpu->torch:cpu` the other way; a route with
`onnxruntime` compares the ONNX export of the torch model (torch's weights, copied into Keras
for `onnxruntime:cpu->tensorflow:cpu`). Routes come from `--crossedwires-pair`, with ONNX
Runtime on the CPU added as a third side unless the pair names one. A pair of one framework on
two devices (`torch:cpu,torch:cuda`) has one device route, from its left side (the reference)
to its right: test_devices.py.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from cwtest.frameworks import adapter_for
from cwtest.frameworks.availability import require
from cwtest.frameworks.sides import Side
from cwtest.models import checkpoints
from cwtest.registries.architectures import REGISTRY
from cwtest.models.device_transfer import copied
from cwtest.models.structure import explain, summary
from cwtest.registries.tolerances import DEFAULTS
from cwtest.registries.tolerances import tolerance as resolve_tolerance
from cwtest.models.transfer import WeightsDoNotFit, transferred
from cwtest.core.properties import CONTEXT
from cwtest.session.stash import SETTINGS


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "crossedwires_tolerance(**names): override named tolerances "
                                       f"({', '.join(DEFAULTS)}) for one test")


def _first(sides, api: str, default: Side | None = None) -> Side | None:
    """The first side that runs `api`'s models ("torch", "keras", "onnxruntime"), else `default`."""
    return next((s for s in sides if s.api == api), default)


KERAS_CPU = Side("tensorflow", "cpu")  # the Keras side where the pair names none


def routes(pair) -> tuple[list, list]:
    """(routes that copy weights between torch and Keras, routes that involve ONNX Runtime)."""
    sides = (pair.left, pair.right)
    copies = [(a, b) for a, b in ((pair.left, pair.right), (pair.right, pair.left))
              if {a.api, b.api} == {"torch", "keras"}]
    onnx = _first(sides, "onnxruntime", Side("onnxruntime", "cpu"))
    torch_side, keras_side = _first(sides, "torch", Side("torch", "cpu")), _first(sides, "keras")
    exported = [(torch_side, onnx)] + ([(onnx, keras_side)] if keras_side else [])
    return copies, exported


def device_routes(pair) -> list:
    """The left side to the right one, where both run one model code (torch, or Keras on two devices,
    precisions or Keras backends): no layout to translate, the weights copy as they are."""
    same = pair.left.api == pair.right.api and pair.left.api in ("torch", "keras")
    return [(pair.left, pair.right)] if same else []


COPY_NEEDS = "needs a torch side and a Keras side: --crossedwires-pair torch:cpu,tensorflow:cpu (or keras-jax:cpu)"
DEVICE_NEEDS = ("needs two sides of one model code: --crossedwires-pair torch:cpu,torch:cuda, or two Keras sides "
                "(keras-torch:cpu,keras-jax:cpu)")


def _route_params(found: list, needs: str = COPY_NEEDS) -> list:
    if found:
        return [pytest.param(r, id=f"{r[0]}->{r[1]}") for r in found]
    return [pytest.param(None, id="no-route", marks=pytest.mark.skip(reason=needs))]


@pytest.hookimpl(trylast=True)  # after the plugin's architecture parametrization, so ids read arch-flavour-route
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    settings = metafunc.config.stash[SETTINGS]
    if "flavour" in metafunc.fixturenames:
        metafunc.parametrize("flavour", settings.flavours)
    copies, exported = routes(settings.pair)
    if "copy_route" in metafunc.fixturenames:
        metafunc.parametrize("copy_route", _route_params(copies))
    if "route" in metafunc.fixturenames:
        metafunc.parametrize("route", _route_params(copies + exported))
    if "device_route" in metafunc.fixturenames:
        metafunc.parametrize("device_route", _route_params(device_routes(settings.pair), DEVICE_NEEDS))


# What a torch/Keras route asks of both sides' adapters: the structure check reads their layers, the weight map
# moves weights layer by layer, and localization reads each layer's output.
TRANSFER_ROLES = ("runner", "weights", "gradients", "layers")


def usable(*sides: Side, fp32_only: bool = True, roles: tuple[str, ...] = ("runner",)) -> None:
    for side in sides:
        if fp32_only and side.precision != "fp32":
            pytest.skip(f"{side}: the transfer suite's tolerances are fp32; name fp32 sides in --crossedwires-pair")
    require(*sides, roles=roles)


# Tests come in collection order, flavour by flavour: two pairs (both directions of one flavour) and one export (of
# the flavour's torch->Keras pair) serve each run of tests that share them. A VGG16 pair holds about 130 MB in the
# worker (its Keras model is in the Keras child) and an export about 350 MB (the graph and ONNX Runtime's session).
@functools.lru_cache(maxsize=2)
def _cached_pair(arch: str, flavour: str, direction: str, torch_side: Side, keras_side: Side,
                 trained: tuple[Path, str] | None = None):
    try:
        return transferred(arch, flavour, direction, torch_side, keras_side, trained=trained)
    except WeightsDoNotFit as error:
        pytest.skip(f"{error}; on the {flavour} flavour, the route the other way starts from the published pair")


@functools.lru_cache(maxsize=1)
def _cached_export(arch: str, flavour: str, torch_side: Side, onnx_side: Side, keras_side: Side,
                   trained: tuple[Path, str] | None = None):
    pair = _cached_pair(arch, flavour, "torch->keras", torch_side, keras_side, trained)
    return adapter_for("onnxruntime").export(pair.torch_model, onnx_side)


def trained_weights(settings, arch: str) -> tuple[Path, str] | None:
    """With the published dataset in --crossedwires-checkpoints: (its root, the first selected trial of `arch`
    that it holds), whose trained weights the route's source starts from; else None (random weights).
    Skips an architecture none of whose selected trials the root holds."""
    root = settings.checkpoints
    if not checkpoints.published(root):
        return None
    held = [t.name for t in settings.selected if t.arch == arch and checkpoints.present(root, arch, t.name)]
    if not held:
        pytest.skip(f"{arch}: no selected trial's pair is in {root}; select one it holds (--crossedwires-select "
                    f"name:...) or drop --crossedwires-checkpoints for random weights")
    return root, held[0]


def _route_models(arch: str, flavour: str, route, keras_default: Side = KERAS_CPU,
                  trained: tuple[Path, str] | None = None) -> tuple:
    """(pair, {api: model}, torch side, Keras side) for a route; the pair's weights come from the
    route's source (random, or a published trial's: `trained_weights`), torch's for an ONNX route.
    Models are shared between tests: leave them as found."""
    usable(*route)
    torch_side = _first(route, "torch", Side("torch", "cpu"))
    keras_side = _first(route, "keras", keras_default)
    usable(torch_side, keras_side, roles=TRANSFER_ROLES)
    direction = "keras->torch" if route[0].api == "keras" else "torch->keras"
    pair = _cached_pair(arch, flavour, direction, torch_side, keras_side, trained)
    if any(side.api == "keras" for side in route):  # torch->onnxruntime needs no Keras weights
        _require_transfer(pair)
    models = {"torch": pair.torch_model, "keras": pair.keras_model}
    onnx_side = _first(route, "onnxruntime")
    if onnx_side:
        models["onnxruntime"] = _cached_export(arch, flavour, torch_side, onnx_side, keras_side, trained)
    return pair, models, torch_side, keras_side


@pytest.fixture
def device_models(crossedwires_arch, device_route):
    """() -> the route's source model and its copy on the target (fresh each call); skips where a side cannot run."""
    # the precision mode sets the tolerance (cwtest.frameworks.precision)
    usable(*device_route, fp32_only=False, roles=("runner", "weights"))
    return lambda: copied(crossedwires_arch, *device_route)


@pytest.fixture
def route_models(crossedwires_settings, request):
    """(arch, flavour, route) -> `_route_models`, with the run's Keras side where the route has none, from the
    trial whose weights a published root in --crossedwires-checkpoints gives (named in the report's trial column)."""
    pair = crossedwires_settings.pair
    keras_default = _first((pair.left, pair.right), "keras", KERAS_CPU)

    def models(arch: str, flavour: str, route) -> tuple:
        trained = trained_weights(crossedwires_settings, arch)
        if trained is not None:
            request.node.user_properties.append((CONTEXT + "trial", trained[1]))
        return _route_models(arch, flavour, route, keras_default, trained)

    return models


@pytest.fixture
def structure_check(crossedwires_settings):
    """(arch, flavour, torch side, Keras side) -> the cached torch->Keras pair, and the check that
    xfails it for known differences or fails it for unknown ones; skips where a side cannot run."""

    def check(arch, flavour, torch_side, keras_side):
        usable(torch_side, keras_side, roles=TRANSFER_ROLES)
        return _cached_pair(arch, flavour, "torch->keras", torch_side, keras_side,
                            trained_weights(crossedwires_settings, arch))

    return check


@pytest.fixture
def structure_sides(crossedwires_settings) -> tuple[Side, Side]:
    """The torch and Keras sides of the run's pair (on the CPU where the pair has none)."""
    sides = (crossedwires_settings.pair.left, crossedwires_settings.pair.right)
    return _first(sides, "torch", Side("torch", "cpu")), _first(sides, "keras", KERAS_CPU)


def _require_transfer(pair) -> None:
    """Fail on a structural difference no known difference explains; xfail, naming them, on known ones."""
    differences = REGISTRY[pair.arch].flavours[pair.flavour].differences
    explained, unexplained = explain(pair.structure.mismatches, differences)
    if unexplained:
        pytest.fail(f"{pair.arch} {pair.flavour}: the structures differ: {summary(unexplained)}", pytrace=False)
    gone = [d.name for d in differences if not explained[d.name]]
    if gone:
        pytest.fail(f"{pair.arch} {pair.flavour}: known difference {', '.join(gone)} is no longer observed; "
                    "update cwtest/registries/architectures.py", pytrace=False)
    if differences:
        pytest.xfail("; ".join(f"{d.name}: {d.cause} ({len(explained[d.name])} mismatches, e.g. "
                               f"{explained[d.name][0]})" for d in differences))


@pytest.fixture
def tolerance(request, crossedwires_settings):
    """name -> the tolerance in force for this test: default, then the test's marker, then the run's option."""
    marker = request.node.get_closest_marker("crossedwires_tolerance")
    per_test = dict(marker.kwargs) if marker else {}
    unknown = set(per_test) - set(DEFAULTS)
    if unknown:
        pytest.fail(f"crossedwires_tolerance marker: unknown tolerance {', '.join(sorted(unknown))} "
                    f"(known: {', '.join(DEFAULTS)})", pytrace=False)
    return lambda name: resolve_tolerance(name, per_test, crossedwires_settings.tolerances)

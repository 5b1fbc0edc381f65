"""The pytest plugin's entry point: the crossedwires options and fixtures, and nothing more until a
run asks for cwtest.

pytest loads this module in every run of an environment where cwtest is installed, so it imports only
pytest and the options. The run itself (settings, data, header, report, summary: cwtest.session.run)
starts when the run asks for it: a crossedwires option on the command line or in the ini file, the
shipped suites (their conftest loads it), or a test that uses a crossedwires fixture. A run that does
none of these sees no cwtest line and pays only for this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pytest

from cwtest.core.properties import CONTEXT, METRIC
from cwtest.session.options import given, register, spaced
from cwtest.session.stash import SESSION_STARTED, SETTINGS

if TYPE_CHECKING:
    from cwtest.inputs.data import Cifar10
    from cwtest.session.settings import Settings

RUN = "cwtest.session.run"  # the plugin module that does the work, registered under this name
PARAMETERS = ("crossedwires_trial", "crossedwires_arch", "crossedwires_side")  # fixtures the run parametrizes
FIXTURES = frozenset({*PARAMETERS, "crossedwires_settings", "crossedwires_data", "crossedwires_compare",
                      "record_metric"})


def pytest_addoption(parser: pytest.Parser) -> None:
    register(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    # pytest chose the rootdir before it knew these options, taking `--crossedwires-trials DIR`'s DIR for a
    # test path (cwtest.session.rootdir says how); the choice is made again before any conftest is read.
    if spaced(args):
        from cwtest.session.rootdir import choose_again

        choose_again(early_config, args)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.option.help or config.option.version:
        return
    if given(config):
        start(config)
    elif getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        # An xdist controller collects nothing, so it learns that tests use cwtest from their reports.
        config.pluginmanager.register(_Waiting(config), "cwtest-waiting")


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[SESSION_STARTED] = True


def start(config: pytest.Config) -> None:
    """Registers the run's plugin (its pytest_configure runs now: pytest replays configure to a plugin
    registered after it); a second call does nothing."""
    if not config.pluginmanager.has_plugin(RUN):
        config.pluginmanager.import_plugin(RUN)


def started(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin(RUN)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not any(name in metafunc.fixturenames for name in PARAMETERS):
        return
    start(metafunc.config)
    settings = metafunc.config.stash[SETTINGS]
    if "crossedwires_trial" in metafunc.fixturenames:
        if settings.selected:
            metafunc.parametrize("crossedwires_trial", settings.selected, ids=[t.id for t in settings.selected])
        else:  # --crossedwires-arch named only the zoo's pairs
            from cwtest.inputs.trials import ARCHITECTURES as CROSSEDWIRES

            metafunc.parametrize("crossedwires_trial", [pytest.param(None, id="no-trial", marks=pytest.mark.skip(
                reason=f"the trials are CrossedWires's ({', '.join(CROSSEDWIRES)}): --crossedwires-arch names "
                       "none of them"))])
    elif "crossedwires_arch" in metafunc.fixturenames:
        from cwtest.registries.architectures import REGISTRY

        # The image models; the converted transformer pairs have a test of their own (suites/models/test_converted.py).
        images = [arch for arch in settings.archs if arch in REGISTRY]
        metafunc.parametrize("crossedwires_arch", images or [pytest.param(None, id="no-image-model", marks=pytest.mark.skip(
            reason=f"--crossedwires-arch names no image model ({', '.join(REGISTRY)}): this test runs on those"))])
    if "crossedwires_side" in metafunc.fixturenames:
        sides = list(dict.fromkeys((settings.pair.left, settings.pair.right)))
        metafunc.parametrize("crossedwires_side", sides, ids=[str(side) for side in sides])


def pytest_itemcollected(item: pytest.Item) -> None:
    # Before any test runs, so that the report and the summary see every test of the run.
    if not started(item.config) and FIXTURES.intersection(getattr(item, "fixturenames", ())):
        start(item.config)


class _Waiting:
    """In an xdist controller of a run that gave no crossedwires option: the reports so far, until one
    comes from a test that uses cwtest; then the run starts and its report writer gets them all."""

    def __init__(self, config: pytest.Config) -> None:
        self.config, self.reports = config, []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.append(report)
        if any(key.startswith(CONTEXT) for key, _ in report.user_properties):
            self.config.pluginmanager.unregister(self)
            start(self.config)
            writer = self.config.pluginmanager.get_plugin("cwtest-report")
            for earlier in self.reports:  # this one too: a plugin registered inside a hook call misses it
                writer.pytest_runtest_logreport(earlier)


@pytest.fixture(scope="session")
def crossedwires_settings(pytestconfig: pytest.Config) -> Settings:
    """The run's resolved crossedwires options (cwtest.session.settings.Settings)."""
    start(pytestconfig)
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def crossedwires_data(crossedwires_settings: Settings) -> Cifar10:
    """The run's CIFAR-10 arrays at the run's budget: the same arrays for every side."""
    from cwtest.session.run import data_of

    return data_of(crossedwires_settings).subset(crossedwires_settings.budget)


@pytest.fixture
def crossedwires_compare(crossedwires_settings: Settings, record_metric, request: pytest.FixtureRequest):
    """`cwtest.compare_models` on the run's pair (its torch side against its Keras side, each on its device),
    asserting equivalence: every number goes into the report and JUnit, the per-layer table into the
    failure. Skips, naming it, where the pair is not torch against Keras or a side cannot run here."""
    from cwtest.session.run import compare_on_pair

    return lambda torch_model, keras_model, inputs, keras_inputs=None, **options: compare_on_pair(
        crossedwires_settings.pair, record_metric, torch_model, keras_model, inputs, keras_inputs, **options)


@pytest.fixture
def record_metric(request: pytest.FixtureRequest) -> Callable[[str, float], None]:
    """Record a named number for this test; it becomes a report column and a JUnit property."""

    def record(name: str, value: float) -> None:
        request.node.user_properties.append((METRIC + name, float(value)))

    return record

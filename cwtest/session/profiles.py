"""Hypothesis profiles for the generated suites, chosen with `--hypothesis-profile NAME`.

  ci        derandomized (the same examples on every run and every xdist worker), no database,
            few examples, no shrinking: a failure prints its parameters and reproduces locally
            with the same node id and profile. Shrinking would spend most of the run on the
            strict xfails, which fail by design.
  dev       the default when no profile is given: random examples, remembered failures
            (.hypothesis/) replayed first, enough examples to find something new on each run.
  thorough  many examples, for a release or after changing a registry entry or a tolerance.

Under every profile a strict xfail (a catalogued difference's published case, which fails by design) runs
without shrinking: its first failing example is all it has to show, and shrinking it cost the layer suite
66 of its 83 seconds of published cases on a fresh clone (dev profile, no example database). A test that
must pass still shrinks its failure to the smallest one.

No deadline: building a Keras model takes tens of milliseconds and varies with machine load.
Function-scoped fixtures are allowed: the suites' ones collect over all of a test's examples.
The root conftest lists this module in `pytest_plugins`, so the profiles exist before
hypothesis reads `--hypothesis-profile`, whichever folder a run starts from.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings

DEFAULT = "dev"
# Each from hypothesis's own defaults: a profile registered without a parent inherits the one loaded at the time,
# which on a machine with CI set is hypothesis's "ci" (replaced by ours below), and dev and thorough then neither
# shrank nor randomized.
_COMMON = dict(parent=settings.get_profile("default"), deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("ci", derandomize=True, database=None, max_examples=6,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
settings.register_profile("dev", max_examples=20, **_COMMON)
settings.register_profile("thorough", max_examples=300, **_COMMON)


def pytest_configure(config) -> None:
    # On a CI machine hypothesis starts with its own "ci" profile (replaced by ours above);
    # elsewhere with "default", which has a deadline that Keras model building misses.
    if not config.getoption("hypothesis_profile", None) and settings.get_current_profile_name() == "default":
        settings.load_profile(DEFAULT)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    test = getattr(item, "obj", None)
    # hypothesis reads a @given test's settings from this attribute each time the test is called
    chosen = getattr(test, "_hypothesis_internal_use_settings", None)
    if chosen is None or Phase.shrink not in chosen.phases or not _fails_by_design(item):
        return (yield)
    test._hypothesis_internal_use_settings = settings(chosen, phases=[p for p in chosen.phases if p != Phase.shrink])
    try:
        return (yield)
    finally:  # the function is shared by the test's other parametrized cases
        test._hypothesis_internal_use_settings = chosen


def _fails_by_design(item) -> bool:
    """Whether the test is a strict xfail without conditions (cwtest.registries.differences.pytest_params)."""
    return any(mark.kwargs.get("strict") and not mark.args for mark in item.iter_markers("xfail"))

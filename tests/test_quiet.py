"""The plugin stays out of runs that do not use it (no cwtest line, numpy and pandas not imported), and
a run starts when asked: by an option, by an ini key, or by a test that uses a crossedwires fixture,
with the same rows with and without xdist. The options' help names what the registries hold."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from cwtest.frameworks.sides import DEFAULT_PAIR
from cwtest.inputs.budgets import BUDGETS
from cwtest.inputs.trials import ARCHITECTURES
from cwtest.registries.architectures import FLAVOURS, ZOO
from cwtest.registries.tolerances import DEFAULTS
from cwtest.report.writer import PEAK_RSS
from cwtest.session import options
from cwtest.registries.knobs import KNOBS

PROBE = """
import sys
def pytest_unconfigure(config):
    print("IMPORTED", ",".join(m for m in ("numpy", "pandas", "cwtest.session.run") if m in sys.modules) or "none")
"""


def _cwtest_lines(result) -> list[str]:
    # the header's and the summary's lines; pytest's own "plugins: ..., cwtest-0.1.0" is not one
    return [line for line in result.stdout.lines if line.startswith(("cwtest", "crossedwires")) or "cwtest:" in line]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_run_that_does_not_use_cwtest_hears_nothing_from_it(pytester, workers):
    pytester.makeconftest(PROBE)
    pytester.makepyfile(test_one="def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", *workers)
    result.assert_outcomes(passed=1)
    assert _cwtest_lines(result) == []
    result.stdout.fnmatch_lines(["IMPORTED none"])


def test_help_imports_neither_numpy_nor_pandas(pytester):
    pytester.makeconftest(PROBE)
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--crossedwires-pair*", "IMPORTED none"])


@pytest.mark.parametrize("ask", [["--crossedwires-budget", "smoke"], ["-o", "crossedwires_arch=vgg16"]],
                         ids=["option", "ini"])
def test_an_option_or_an_ini_key_starts_the_run(pytester, ask):
    pytester.makepyfile(test_one="def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *ask)
    result.stdout.fnmatch_lines(["cwtest 0.1.0: *", "crossedwires budget: smoke*", "*cwtest: outcomes and largest divergences*"])


PROJECT = """
def test_plain():
    pass

def test_uses_cwtest(crossedwires_arch, record_metric):
    record_metric("answer", 42)
"""


def _summary(result) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if "cwtest: outcomes and largest divergences" in line)
    return lines[start:start + 6]


def _properties(junit) -> list[tuple[str, str, str]]:
    root = ElementTree.parse(junit).getroot()
    return sorted((case.get("name"), p.get("name"), p.get("value")) for case in root.iter("testcase")
                  for p in case.iter("property") if p.get("name") != "metric:" + PEAK_RSS)


def test_a_test_that_uses_a_fixture_starts_the_run_the_same_with_and_without_xdist(pytester):
    pytester.makepyfile(test_mine=PROJECT)
    seen = {}
    for name, workers in (("serial", []), ("xdist", ["-n", "2"])):
        junit = pytester.path / f"{name}.xml"
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--junitxml={junit}", *workers)
        result.assert_outcomes(passed=4)
        seen[name] = (_summary(result), _properties(junit))
        if not workers:  # the run started during collection: its header comes after it
            result.stdout.fnmatch_lines(["collected 4 items", "cwtest 0.1.0: *", "crossedwires budget: smoke*"])
    assert seen["serial"] == seen["xdist"]
    summary, properties = seen["serial"]
    assert [line.split() for line in summary[2:]] == [["-", "-", "1", "-"], ["-", "densenet121", "1", "-"],
                                                      ["-", "resnet50", "1", "-"], ["-", "vgg16", "1", "-"]], summary
    assert ("test_uses_cwtest[vgg16]", "metric:answer", "42.0") in properties
    assert ("test_plain", "cw:arch", "") in properties


def test_the_help_names_what_the_registries_hold():
    assert options.ARCHITECTURES == " | ".join(ARCHITECTURES)
    assert options.ZOO == " | ".join(ZOO)
    assert options.DEFAULT_PAIR == DEFAULT_PAIR
    assert options.BUDGETS == " | ".join(BUDGETS)
    assert options.FLAVOURS == " | ".join(FLAVOURS)
    assert options.TOLERANCES == ", ".join(DEFAULTS)
    assert options.KNOBS == ", ".join(KNOBS)


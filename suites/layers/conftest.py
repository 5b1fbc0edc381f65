"""The layer suite's fixtures; its hypothesis profiles are in cwtest.profiles (loaded by the root conftest)."""

from __future__ import annotations

import pytest
from hypothesis import settings



@pytest.fixture
def worst_errors(record_metric):
    """Keeps the largest errors over a test's examples and records them when the test ends."""
    worst = {"max_abs_error": 0.0, "max_rel_error": 0.0, "error_eps_units": 0.0, "examples": 0}

    def add(results) -> None:
        worst["examples"] += 1
        for e in results.values():
            worst["max_abs_error"] = max(worst["max_abs_error"], e.max_abs)
            worst["max_rel_error"] = max(worst["max_rel_error"], e.max_rel)
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

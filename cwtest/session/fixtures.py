"""Fixtures the shipped suites share (suites/conftest.py loads them): the run's two sides with their
framework adapters, the switches a run sets for every test, and what each test computed under (its
report row's columns)."""

from __future__ import annotations

import pytest

from cwtest.core.properties import CONTEXT
from cwtest.frameworks import determinism, observed
from cwtest.frameworks.availability import require


@pytest.fixture(scope="session")
def sides(crossedwires_settings):
    """[(side, adapter), (side, adapter)] for the run's pair; skips when a side cannot run here."""
    sides = (crossedwires_settings.pair.left, crossedwires_settings.pair.right)
    return list(zip(sides, require(*sides)))


@pytest.fixture(scope="session")
def deterministic_kernels(crossedwires_settings) -> bool:
    """With --crossedwires-deterministic, deterministic kernels on in the pair's frameworks for the session."""
    if crossedwires_settings.deterministic:
        pair = crossedwires_settings.pair
        determinism.switch_on_for_the_run(sorted({pair.left.framework, pair.right.framework}))
    return crossedwires_settings.deterministic


@pytest.fixture(autouse=True)
def in_force(request, deterministic_kernels):
    """Records, after the test, the precision and determinism its sides computed under."""
    observed.clear()
    yield
    for name, value in observed.columns().items():
        if value:
            request.node.user_properties.append((CONTEXT + name, value))

"""Whether a side can run here and its adapter has the roles a test needs: the one skip every suite uses.

A side that cannot run (no GPU, no compiler, a framework not installed) or whose adapter lacks a role the test
asks for (cwtest.frameworks.roles: a vendor's adapter that offers no layers, say) skips the test, with a reason
that names the side and what is missing: never a failure, and never a silent pass.
"""

from __future__ import annotations

from cwtest.frameworks import adapter_for
from cwtest.frameworks.roles import roles_of
from cwtest.frameworks.sides import Side


def unavailable(side: Side, roles: tuple[str, ...] = ("runner",)) -> str | None:
    """None where the side runs here with every role in `roles`, else why not."""
    adapter = adapter_for(side)
    missing = [role for role in roles if role not in roles_of(adapter)]
    if missing:
        name = getattr(adapter, "__name__", type(adapter).__name__)
        return f"{side}: its adapter ({name}) does not implement the role{'s' * (len(missing) > 1)} " \
               f"{', '.join(missing)} (cwtest.frameworks.roles)"
    return adapter.available(side)


def require(*sides: Side, roles: tuple[str, ...] = ("runner",)) -> list:
    """Each side's adapter; skips the calling test, naming the side and why, where one cannot run here or lacks
    one of `roles`."""
    import pytest

    for side in sides:
        reason = unavailable(side, roles)
        if reason:
            pytest.skip(reason)
    return [adapter_for(side) for side in sides]

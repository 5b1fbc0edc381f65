"""Where progress lines and crash notes go: sinks that the pytest session installs (cwtest.session.live,
cwtest.session.blackbox), so that the training loop and the layer suite report without importing the session.

Without a session (a library call, the search's workers) both go nowhere.
"""

from __future__ import annotations

from typing import Callable


def _nowhere(*args, **fields) -> None:
    """Where progress and notes go before a session installs its sinks."""


_show: Callable[[str, bool], None] = _nowhere
_restart: Callable[[], None] = _nowhere
_note: Callable[..., None] = _nowhere


def install(show: Callable[[str, bool], None], restart: Callable[[], None], note: Callable[..., None]) -> None:
    """The session's sinks: `show(line, final)` for progress, `restart()` as a stage starts, `note(**fields)`
    for what the running test is doing (its record outlives a crash)."""
    global _show, _restart, _note
    _show, _restart, _note = show, restart, note


def show(line: str, final: bool = False) -> None:
    """The running test's progress; `final` for a line that ends a stage."""
    _show(line, final)


def restart() -> None:
    """A new stage starts (a side begins training): its first line is shown at once."""
    _restart()


def note(**fields) -> None:
    """What the running test is doing now (inputs=..., side=..., reproduce=...), for its crash record."""
    _note(**fields)

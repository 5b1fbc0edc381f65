"""What a run keeps on pytest's config, shared by the plugin's entry point (cwtest.session.plugin) and the run it
starts (cwtest.session.run): the entry point imports the run when a run asks for cwtest, never the other way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cwtest.session.settings import Settings

SETTINGS: pytest.StashKey[Settings] = pytest.StashKey()
SESSION_STARTED = pytest.StashKey[bool]()  # the header is written: a run started after it writes its own later

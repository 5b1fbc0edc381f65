"""A path a run will write to (a report, a search's results), checked before anything runs."""

from __future__ import annotations

import os
from pathlib import Path

from cwtest.core.errors import InputError


def check_writable(path: Path, option: str) -> None:
    if path.is_dir():
        raise InputError(f"{option}: {path} is a folder, not a file")
    if not path.parent.is_dir():
        raise InputError(f"{option}: cannot write {path}: folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"{option}: cannot write {path}: permission denied")

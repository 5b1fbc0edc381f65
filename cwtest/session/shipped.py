"""The suites as installed: `cwtest suites [SUITE ...] [PYTEST ARGS]` runs them with pytest from
wherever cwtest is installed, for someone who never cloned the repository.

The suites are the package cwtest.suites (the repository's suites/ folder, see setup.py). The run's
root is the folder above them, so node ids and report rows read `suites/transfer/...` as in a
checkout; pytest's cache and every relative path on the command line stay in the folder the command
runs in. Options are given on the command line: an ini file in that folder is not read.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

NAMES = ("layers", "models", "transfer", "trials")


def suites_folder() -> Path:
    spec = importlib.util.find_spec("cwtest.suites")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("this cwtest installation has no suites (cwtest.suites)")
    return Path(next(iter(spec.submodule_search_locations)))


def pytest_args(args: list[str], cwd: Path) -> list[str]:
    """pytest's arguments: the suites named first (all where none is), the run's root and cache, then
    the rest as given (where a suite's name is a value, as in `-k layers`)."""
    folder = suites_folder()
    count = next((i for i, arg in enumerate(args) if arg not in NAMES), len(args))
    named, rest = args[:count], args[count:]
    paths = [str(folder / name) for name in named] or [str(folder)]
    return [*paths, "--rootdir", str(folder.parent), "-o", f"cache_dir={cwd / '.pytest_cache'}", *rest]


def run(args: list[str]) -> int:
    import pytest

    return int(pytest.main(pytest_args(args, Path(os.getcwd()))))

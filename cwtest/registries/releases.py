"""Registry entries that need a release newer than the oldest the extras admit (a layer or an optimizer that came
later): why the installed one cannot run an entry's cases, read from package metadata, importing nothing."""

from __future__ import annotations

from importlib import metadata

from packaging.version import Version


def too_old(name: str, since: dict[str, str | None]) -> str | None:
    """Why the installed packages cannot run entry `name`, whose cases need each package in `since` at that
    release or later (None: any); None where they can."""
    for package, first in since.items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue  # the pair's own check says what is missing
        if first is not None and Version(installed) < Version(first):
            return (f"{name}: {package} {installed} is older than {first}, the first release that has what the case "
                    f"compares: install {package}>={first} to run it")
    return None

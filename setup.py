"""Package discovery that pyproject.toml cannot express: every package under cwtest/, and the suites,
which the repository keeps at its top level (suites/), shipped inside the package as cwtest.suites so
that `cwtest suites` runs them from an installed wheel. Everything else is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

suites = ["cwtest.suites", *(f"cwtest.suites.{name}" for name in find_namespace_packages("suites", exclude=["*__pycache__*"]))]
setup(packages=[*find_namespace_packages(include=["cwtest*"]), *suites], package_dir={"cwtest.suites": "suites"})

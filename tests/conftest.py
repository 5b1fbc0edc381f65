"""Where the project's tests find the shared real data: ../shared beside the checkout.

CWTEST_SHARED overrides that folder; CWTEST_CIFAR10 names a CIFAR-10 python-version folder
already built from it (CI builds one); without it, one is built once per run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy  # noqa: F401
import pandas  # noqa: F401
import pytest

# pytester's in-process runs put sys.modules back as they found it; numpy cannot be imported twice in a
# process, and the plugin imports it only when a run starts, so it is imported once here, before them.

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Path(os.environ.get("CWTEST_SHARED", REPO.parent / "shared"))
    if not (path / "crossedwires").is_dir():
        pytest.skip(f"the shared CrossedWires data is not at {path}: put it beside the checkout "
                    f"or set CWTEST_SHARED to its folder")
    return path


@pytest.fixture(scope="session")
def crossedwires_tables(shared_dir: Path) -> Path:
    return shared_dir / "crossedwires"


@pytest.fixture(scope="session")
def cifar10_folder(shared_dir: Path, tmp_path_factory) -> Path:
    """A real CIFAR-10 folder (official layout) built from the shared JPEGs."""
    if os.environ.get("CWTEST_CIFAR10"):
        return Path(os.environ["CWTEST_CIFAR10"])
    out = tmp_path_factory.mktemp("cifar10")
    subprocess.run([sys.executable, str(shared_dir / "tools" / "cifar10_from_jpeg.py"), str(out),
                    "--train", "1000", "--test", "500"], check=True, capture_output=True)
    return out / "cifar-10-batches-py"


@pytest.fixture
def keras_here():
    """Keras served in the test's own process (cwtest.frameworks.keras_in_this_process), for a test that plants a
    fault in Keras's builders or layers: the suites' children would build the real ones."""
    from cwtest.frameworks import keras_in_this_process

    with keras_in_this_process():
        yield

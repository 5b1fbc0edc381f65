"""--crossedwires-arch picks the layer suite's blocks and optimizers: those of the named architectures, the rest
deselected, and the catalogued defects those blocks would meet; every architecture named (the default) runs both
registries and the catalogue whole."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cwtest.registries.architectures import REGISTRY
from cwtest.registries.defects import DEFECTS
from cwtest.registries.layers import REGISTRY as BLOCKS
from cwtest.registries.optimizers import REGISTRY as OPTIMIZERS

REPO = Path(__file__).resolve().parents[1]


def _collected(*options: str, files=("suites/layers/test_blocks.py", "suites/layers/test_optimizers.py")) -> tuple[set[str], str]:
    """The registry entries the layer suite collects (by the test ids' first part), and pytest's last line."""
    run = subprocess.run([sys.executable, "-m", "pytest", *files, "--collect-only", "-q", "-p", "no:cacheprovider", *options],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ids = [line.split("[", 1)[1].rstrip("]") for line in run.stdout.splitlines() if "::test_" in line and "[" in line]
    return {i.split("-published_")[0] for i in ids}, run.stdout.strip().splitlines()[-1]


def test_every_name_an_architecture_lists_is_a_registry_entry():
    for arch in REGISTRY.values():
        assert set(arch.blocks) <= set(BLOCKS), arch.name
        assert set(arch.optimizers) <= set(OPTIMIZERS), arch.name
        assert arch.blocks and arch.optimizers, arch.name
    for defect in DEFECTS.values():
        assert defect.blocks and set(defect.blocks) <= set(BLOCKS) | set(OPTIMIZERS), defect.name


@pytest.mark.parametrize("arch", ["vgg16", "resnet50,densenet121"])
def test_named_architectures_run_their_entries(arch):
    entries, summary = _collected("--crossedwires-arch", arch)
    named = [REGISTRY[a] for a in arch.split(",")]
    assert entries == {name for a in named for name in (*a.blocks, *a.optimizers)}
    assert "deselected" in summary


def test_every_architecture_runs_both_registries_whole():
    entries, summary = _collected()
    assert entries == set(BLOCKS) | set(OPTIMIZERS)
    assert "deselected" not in summary
    assert _collected("--crossedwires-arch", "vgg16,resnet50,densenet121")[0] == entries


def test_named_architectures_run_the_defects_their_blocks_would_meet():
    defects, summary = _collected("--crossedwires-arch", "vgg16", files=("suites/layers/test_defects.py",))
    expected = {d.name for d in DEFECTS.values() if set(d.blocks) & set(REGISTRY["vgg16"].blocks)}
    assert defects == expected and "keras_torch_avgpool_same_replicate" not in defects and "deselected" in summary
    assert _collected(files=("suites/layers/test_defects.py",))[0] == set(DEFECTS)

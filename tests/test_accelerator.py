"""Accelerator sides on a machine without one: every test that needs the GPU skips, naming the side,
and nothing errors; the GPU check script parses. Runs are sessions of their own (they import torch)."""

import csv
import os
import subprocess
from pathlib import Path

import pytest

from cwtest.frameworks.sides import Side

REPO = Path(__file__).resolve().parent.parent
CUDA_PAIR = "torch:cpu,torch:cuda"


@pytest.fixture(autouse=True)
def no_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the behaviour without a GPU; this machine has one: run scripts/gpu_check.sh")


def _session(pytester, monkeypatch, *args):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    return pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "--rootdir", str(REPO),
                                         "-rs", *args)


def test_gpu_tests_skip_naming_the_side(pytester, monkeypatch):
    suites = REPO / "suites"
    result = _session(pytester, monkeypatch, str(suites / "transfer" / "test_devices.py"),
                      str(suites / "layers" / "test_blocks.py"), str(suites / "trials" / "test_training.py"),
                      "--crossedwires-pair", CUDA_PAIR, "--crossedwires-arch", "vgg16", "--crossedwires-select", "top:1",
                      "-k", "device or (forward and conv2d and not published) or harmonized")
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) == 4 and set(outcomes) <= {"skipped", "deselected"}, outcomes
    skips = [line.split(": ", 1)[1] for line in result.stdout.lines if line.startswith("SKIPPED [")]
    assert skips and set(skips) == {"torch:cuda: no CUDA device is visible to torch on this machine"}, skips


def test_cross_framework_tests_keep_running_beside_a_cuda_pair(pytester, monkeypatch):
    """A torch:cpu,torch:cuda pair still collects the torch/Keras tests; they skip for the pair, not the GPU."""
    result = _session(pytester, monkeypatch, str(REPO / "suites" / "transfer"), str(REPO / "suites" / "layers"),
                      "--crossedwires-pair", CUDA_PAIR, "--crossedwires-arch", "vgg16", "-k",
                      "test_gradients and not device or adam", "-q")
    outcomes = result.parseoutcomes()
    assert set(outcomes) <= {"skipped", "deselected"}, outcomes
    result.stdout.fnmatch_lines(["*needs a torch side and a Keras side*", "*this test compares torch with Keras*"])


def test_rows_say_what_was_in_force(pytester, monkeypatch):
    pytester.makeconftest('pytest_plugins = ["cwtest.session.run", "cwtest.session.fixtures"]')
    pytester.makepyfile(test_bf16="""
        import numpy as np
        import torch
        from cwtest.adapters.torch import adapter as torch_backend
        from cwtest.frameworks.sides import Side

        def test_computes():
            model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 10))
            torch_backend.forward(model, np.zeros((2, 4, 4, 3), np.uint8), Side("torch", "cpu", "bf16"))

        def test_computes_nothing():
            pass
    """)
    report = pytester.path / "r.csv"
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--crossedwires-deterministic",
                                           "--crossedwires-report", str(report))
    result.assert_outcomes(passed=2)
    rows = {r["nodeid"].split("::")[1]: r for r in csv.DictReader(report.open())}
    assert rows["test_computes"]["precision"] == "torch:cpu:bf16=bf16"
    assert rows["test_computes"]["deterministic"] == "torch:cpu:bf16=on (warn only)"
    assert rows["test_computes_nothing"]["precision"] == rows["test_computes_nothing"]["deterministic"] == ""


def test_gpu_check_script_parses_and_stops_without_a_gpu(tmp_path):
    script = REPO / "scripts" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    env = dict(os.environ, PYTHON=str(Path(os.sys.executable)))
    done = subprocess.run(["bash", str(script), str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode != 0 and "gpu_check: torch sees no CUDA device" in done.stderr
    assert (tmp_path / "out").is_dir()


@pytest.mark.parametrize("device", ["xpu", "mps", "hpu"])
def test_a_torch_accelerator_this_machine_lacks_is_named(device):
    from cwtest.adapters.torch import adapter as torch_backend

    reason = torch_backend.available(Side("torch", device))
    assert reason.startswith(f"torch:{device}: torch ") and f"cannot run on {device}:" in reason


def test_execution_providers_by_name():
    from cwtest.adapters.onnxruntime import adapter as onnxruntime_backend

    assert onnxruntime_backend.available(Side("onnxruntime", "cpu")) is None
    missing = onnxruntime_backend.available(Side("onnxruntime", "openvino"))
    assert "has no OpenVINOExecutionProvider; it has " in missing and "CPUExecutionProvider" in missing
    unknown = onnxruntime_backend.available(Side("onnxruntime", "tpu"))
    assert "no execution provider named 'tpu'" in unknown and "openvino" in unknown


def test_a_missing_execution_provider_skips_the_suites_naming_it(pytester, monkeypatch):
    result = _session(pytester, monkeypatch, str(REPO / "suites" / "transfer" / "test_transfer.py"),
                      "--crossedwires-pair", "torch:cpu,onnxruntime:openvino", "--crossedwires-arch", "vgg16",
                      "--crossedwires-flavour", "matched", "-k", "test_logits and onnxruntime")
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) >= 1 and set(outcomes) <= {"skipped", "deselected"}, outcomes
    result.stdout.fnmatch_lines(["*onnxruntime:openvino: this onnxruntime build (*) has no OpenVINOExecutionProvider*"])

"""cwtest's TensorFlow import prints nothing on a CPU machine: the one TensorFlow distribution the extras install
(tensorflow-cpu, no CUDA platform, so no "failed call to cuInit") and its load notices held back
(cwtest.frameworks.imports), while TensorFlow's warnings and errors still reach stderr."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from cwtest.frameworks import imports


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed here")
def test_tensorflow_through_cwtest_prints_nothing():
    program = "from cwtest.frameworks import imports\ntf = imports.tensorflow()\nfloat(tf.constant(1.0) + 1)\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (run.stdout, run.stderr) == ("", "")


def test_only_the_load_notices_are_held_back(capfd):
    with imports._without_load_notices():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
                    b"I0000 00:00:1796531662.588751   10077 port.cc:153] oneDNN custom operations are on.\n"
                    b"E0000 00:00:1796531587.308861    9835 cuda_platform.cc:52] failed call to cuInit: UNKNOWN\n"
                    b"W0000 00:00:1796531587.308861    9835 some.cc:1] a warning\n")
    assert capfd.readouterr().err.splitlines() == [
        "E0000 00:00:1796531587.308861    9835 cuda_platform.cc:52] failed call to cuInit: UNKNOWN",
        "W0000 00:00:1796531587.308861    9835 some.cc:1] a warning"]

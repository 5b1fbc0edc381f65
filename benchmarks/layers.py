"""Layer-suite benchmarks: ratios against a baseline measured in the same run.

1. Overhead: hypothesis examples per second for the conv2d entry through the suite's path
   (draw, build both sides, copy the weights, run, compare) against calling torch's and
   Keras's convolution ops directly on the same inputs and weights in a loop. Aim: <= 2.
   (Keras runs grouped convolutions on CPU through an XLA function it defines inside its conv op,
   so traced and compiled again on every call, about 30 ms: both pay it, and it is most of the
   baseline.)
2. xdist: wall time of `pytest suites/layers` without xdist over the same with `-n 2`, under
   the ci and the dev profile. Aim: >= 1.6 on 2 cores (each worker limits the thread pools to
   its share of the cores).

Run from the repository root: python benchmarks/layers.py [--examples N] [--no-xdist] [--smoke]
(--smoke: 3 examples of the overhead, no xdist runs.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from cwtest.blocks.layer_parity import assert_within, build_pair, compare
from cwtest.core.padding import same_pads
from cwtest.frameworks import imports
from cwtest.registries.layer_strategies import inputs_for
from cwtest.registries.layers import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def suite_path(examples: int) -> tuple[float, list[dict]]:
    """Seconds for `examples` examples of the conv2d forward check, and the params drawn."""
    block, drawn = REGISTRY["conv2d"], []

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(params=block.params)
    def check(params):
        params = {**params, "dtype": "float32"}  # the fp32 comparison, as the direct ops compute
        drawn.append(params)
        assert_within(compare(block, params), block.tolerance.forward, block.name, "forward")

    start = time.perf_counter()
    check()
    return time.perf_counter() - start, drawn


def direct_ops(drawn: list[dict]) -> float:
    """Seconds for the same examples with the two frameworks' conv ops called directly."""
    import torch

    keras = imports.keras()
    prepared = []
    for p in drawn:  # weights and inputs made outside the timed loop
        module, _ = build_pair(REGISTRY["conv2d"], p, frozenset())
        conv = module.conv
        x = inputs_for(p)[0]
        # torch: its input padded as the case pads it (`same`: TensorFlow's rule, the odd pixel after)
        left, right, top, bottom = (same_pads(x.shape[1:3], p["kernel"], p["stride"], p["dilation"])
                                    if p["padding"] == "same" else (p["pad"][1],) * 2 + (p["pad"][0],) * 2)
        torch_x = torch.nn.functional.pad(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), (left, right, top, bottom))
        keras_x = x if p["padding"] == "same" else np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        kernel = conv.weight.detach().numpy().transpose(2, 3, 1, 0)
        bias = None if conv.bias is None else conv.bias.detach()
        prepared.append((p, torch_x, conv.weight.detach(), bias, keras.ops.convert_to_tensor(keras_x),
                         keras.ops.convert_to_tensor(kernel)))
    start = time.perf_counter()
    for p, torch_x, weight, bias, keras_x, kernel in prepared:
        torch.nn.functional.conv2d(torch_x, weight, bias, p["stride"], 0, p["dilation"], p["groups"])
        out = keras.ops.conv(keras_x, kernel, p["stride"], "same" if p["padding"] == "same" else "valid",
                             dilation_rate=p["dilation"])
        if bias is not None:
            out = out + bias.numpy()
        np.asarray(out)
    return time.perf_counter() - start


def suite_wall(profile: str, *args: str) -> float:
    """Wall seconds of the layer suite; a fixed seed and a fresh example database per run, so
    that both runs test the same examples and neither replays what the other saved."""
    with tempfile.TemporaryDirectory() as storage:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "suites/layers", "-q", "-p", "no:cacheprovider",
                        f"--hypothesis-profile={profile}", "--hypothesis-seed=0", *args], cwd=ROOT, check=False,
                       capture_output=True, env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": storage})
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100)
    parser.add_argument("--no-xdist", action="store_true", help="skip the two full runs of the suite")
    parser.add_argument("--smoke", action="store_true", help="its smallest run: checks that it works (CI); numbers mean little")
    args = parser.parse_args()
    if args.smoke:  # the overhead ratio only: the suite's two runs per profile take minutes
        args.examples, args.no_xdist = 3, True
    # Warm-up on the very examples timed (derandomized, so drawn again alike): imports, and the
    # kernels oneDNN and XLA compile per shape, which would otherwise go to whichever runs first.
    direct_ops(suite_path(args.examples)[1])
    seconds, drawn = suite_path(args.examples)
    baseline = direct_ops(drawn)
    print(f"conv2d: {len(drawn) / seconds:.1f} examples/s through the suite, {len(drawn) / baseline:.1f}/s "
          f"calling the ops directly: overhead ratio {seconds / baseline:.2f} (aim <= 2)")
    # ci is what CI runs: short, so the workers' start (each imports torch and TensorFlow) weighs;
    # dev is what a user who passes nothing runs.
    for profile in [] if args.no_xdist else ["ci", "dev"]:
        serial, parallel = suite_wall(profile), suite_wall(profile, "-n", "2")
        print(f"suites/layers ({profile} profile): {serial:.0f} s without xdist, {parallel:.0f} s with -n 2: "
              f"speed-up {serial / parallel:.2f} (aim >= 1.6)")


if __name__ == "__main__":
    main()

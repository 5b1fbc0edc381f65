"""The catalogue of framework defects: a framework giving a wrong, or a changing, answer for one input.

A semantic difference (cwtest.blocks.semantics) is two frameworks each right by its own definition; a
defect is one framework wrong by its own. Each entry has a standalone reproducer in
cwtest/findings/reproducers/ that a framework's issue tracker can take as it is (it exits 0 when the
framework computes right, 1 when it computes wrong, and may crash), and the layer suite runs it
in a subprocess as a strict xfail naming the entry (suites/layers/test_defects.py): a release that
fixes the defect fails that test, so the entry gets retired instead of describing the past.
Where the suites' own inputs would trigger a defect, the harness avoids the trigger (`avoided_by`)
so that every other case of the block stays under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPRODUCERS = Path(__file__).parent / "reproducers"


@dataclass(frozen=True)
class Defect:
    name: str
    framework: str
    found_with: str  # the releases it was found and reduced on
    summary: str
    trigger: str  # the smallest conditions that show it
    avoided_by: str  # what the suites do so that their other cases stay under test
    upstream: str  # the framework's tracker entry, where one exists
    reproducer: str  # file name in cwtest/findings/reproducers/
    # The kernel the defect is in, as oneDNN's verbose log names it (implementation, propagation kind):
    # where another kernel runs (another CPU, another release), the reproducer's program must compute right.
    kernel: str

    @property
    def script(self) -> Path:
        return REPRODUCERS / self.reproducer

    @property
    def reason(self) -> str:
        return f"catalogued framework defect {self.name} ({self.framework}): {self.summary}; upstream: {self.upstream}"


DEFECTS = {d.name: d for d in (
    Defect("onednn_conv1x1_nhwc_backward_weights", "torch",
           "torch 2.14.1 (CPU build, oneDNN 3.12), x86-64 AVX2 (and AVX-512 CPUs with oneDNN capped at AVX2)",
           "the weight gradient of a 1x1, stride-2 Conv2d over a channels-last input with fewer channels "
           "than oneDNN's block (8 on AVX2) is wrong on some calls with 2+ threads (a race) and corrupts the "
           "heap with 1 thread (an abort or a segfault in a later call)",
           "Conv2d(kernel 1, stride 2) backward on the CPU; input NCHW of shape (2, 1, 6, 4) whose channel "
           "stride is 1 (an NHWC array viewed as NCHW, which torch takes as channels-last)",
           "the layer suite hands torch its inputs in torch's own contiguous strides "
           "(cwtest.blocks.layer_parity.torch_input), which oneDNN runs in its plain layout",
           "uxlfoundation/oneDNN#6035 (1x1 convolution backward_weights writes past the rtus workspace, "
           "nhwc, IC < ic_block)",
           "onednn_conv1x1_nhwc_backward_weights.py",
           "jit_1x1:avx2,backward_weights"),
)}


def kernels_run(onednn_verbose: str) -> set[str]:
    """The kernels a run with ONEDNN_VERBOSE=1 executed ("implementation,propagation kind"), from its log:
    lines "onednn_verbose,v1,primitive,exec,cpu,convolution,jit_1x1:avx2,backward_weights,..."."""
    found = set()
    for line in onednn_verbose.splitlines():
        fields = line.split(",")
        if fields[0] == "onednn_verbose" and "exec" in fields:  # then engine, primitive, implementation, kind
            at = fields.index("exec")
            found.add(",".join(fields[at + 3:at + 5]))
    return found

"""The float64-referenced judgement of a device or precision route, the way accelerator checks make it (torch's
compiler benchmarks pass a result while its error against a float64 run is within a multiple of eager's error
plus a small floor): both sides against one exact run of the same weights and inputs (torch on the CPU in
float64), the target passing while its error is within a stated multiple of the source's own error, scaled to
the target's rounding, plus a floor:

    error(target) <= MULTIPLE[mode] * unit(mode) / unit(source's mode) * error(source) + FLOOR_UNITS * unit(mode) * scale

`error` is the RMS of the difference to the float64 run over the batch, `scale` the float64 run's largest
magnitude, `mode` the route's less precise mode (cwtest.frameworks.precision). The source's error measures how
much this network, these weights and these inputs amplify rounding; a fixed tolerance cannot know that: on
VGG16's eval logits the fp32 tolerance (atol + GROWTH * rtol * scale) is about 4000 times the fp32 error a CPU
makes against float64.

MULTIPLE is measured with scripts/false_alarms.py on CPU stand-ins for other devices (torch 2.14.1, 2-core x86;
VGG16, ResNet50 and DenseNet121 from 2 random seeds each, the test's 2 batches of 16, eval and, with BatchNorm,
training mode: 20 runs per stand-in), as twice the worst error of a correct stand-in over the scaled source error:
  fp32  torch's CPU kernels with oneDNN off (other convolution kernels and summation orders): 2.8 to 9.0 -> 18;
  tf32  products emulated with operands rounded to TF32's 10 bits, to the nearest (cwtest.frameworks.emulation),
        with oneDNN and without: 0.10 to 0.24 -> 0.5;
  bf16  CPU autocast 0.09 to 0.28, products emulated in bf16 with oneDNN off 0.07 to 0.24 -> 0.6;
  fp16  CPU autocast 0.16 to 0.28 -> 0.6.
No correct stand-in failed (0 of 20 each). TF32 emulated by truncation (a converter that drops the low bits) errs
0.8 to 3.3 in eval mode, 5 to 15 times rounding's, and fails there (12 of 12): on the H200 reference figures torch's
TF32 errs about as rounding does (../shared/docs/gpu.md; docs/accelerators.md has the comparison). Planted errors (the first
convolution's weights moved element by element, random signs) fail in every run at 1e-4 relative in fp32 (the
fixed tolerance: 16 of 20) and at 1e-2 in tf32 (fixed: 9 of 20). In bf16 a 1e-1 error fails in 16 of 20: in
training mode a random-init ResNet50's batch statistics turn bf16's rounding into errors as large as the logits,
and no rule tells a defect from that there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cwtest.frameworks.precision import Mode

# Twice the largest measured error of a correct stand-in over its scaled source error (above).
MULTIPLE = {"fp32": 18.0, "tf32": 0.5, "bf16": 0.6, "fp16": 0.6}
# Where the source's error is nothing (a result exact in fp32), the target may still round once per output.
FLOOR_UNITS = 1.0


@dataclass(frozen=True)
class Judgement:
    target_error: float  # RMS of target - float64 run
    source_error: float  # RMS of source - float64 run, at the source's precision
    limit: float
    term: str  # what set the limit: "source" (its scaled error) or "floor"

    @property
    def passed(self) -> bool:
        return self.target_error <= self.limit  # a NaN error fails

    @property
    def ratio(self) -> float:
        return self.target_error / self.limit if self.limit else (0.0 if self.target_error == 0 else np.inf)

    def __str__(self) -> str:
        return (f"RMS error against float64 {self.target_error:.3g}, allowed {self.limit:.3g} (set by the "
                f"{self.term}; the source's own RMS error {self.source_error:.3g})")


def rms_error(actual: np.ndarray, exact: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(actual, np.float64) - exact) ** 2)))


def judged(target: np.ndarray, source: np.ndarray, exact: np.ndarray, mode: Mode, source_mode: Mode) -> Judgement:
    """The target's output against the float64 run `exact`, allowed a multiple of the source's error in `mode`."""
    source_error = rms_error(source, exact)
    terms = {"source": MULTIPLE[mode.name] * mode.unit / source_mode.unit * source_error,
             "floor": FLOOR_UNITS * mode.unit * float(np.abs(exact).max(initial=0.0))}
    term = max(terms, key=terms.__getitem__)
    return Judgement(rms_error(target, exact), source_error, terms[term], term)

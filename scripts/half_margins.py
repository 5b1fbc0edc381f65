"""Measures what HALF_LIMIT_MULTIPLE (cwtest.blocks.layer_parity) rests on: per layer-registry block and half type,
the worst of Keras's errors against torch's float64 run over what the half rule allows, over hypothesis draws of
the block's own parameters, on this process's Keras backend (KERAS_BACKEND).

    python scripts/half_margins.py [--check forward|gradients] [--draws N] [BLOCK ...]

Each draw is run as the layer suite runs a harmonized half case (suites/layers/test_blocks.py): a block whose
half case on this backend is expected to fail (a catalogued difference that stays here), a compound block's
gradients (Block.half_gradients) and a draw that would meet a catalogued defect (cwtest.registries.defects) are
left out. A ratio over 1 fails the layer suite; the multiple is about twice the worst ratio times the multiple.
Prints one line per block and type: the worst ratio, the quantity, its judgement, and the draw when over 1.
"""

from __future__ import annotations

import argparse
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cwtest.blocks.layer_parity import HALF_LIMIT_MULTIPLE, half_gradient_judgements, half_judgements
from cwtest.frameworks.imports import chosen_keras_backend
from cwtest.registries.defects import avoids_defects, meets_in_half
from cwtest.registries.differences import pytest_params, xfail_reasons
from cwtest.registries.layers import BLOCKS


def worst(block, dtype: str, check: str, draws: int) -> tuple[float, str, dict]:
    """The worst ratio of error to limit over `draws` draws, the judgement behind it and its draw."""
    backends = frozenset({chosen_keras_backend()})
    judgements = half_judgements if check == "forward" else half_gradient_judgements
    found = []

    @settings(max_examples=draws, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def probe(data):
        params = {**data.draw(block.params), "dtype": dtype}
        if meets_in_half(backends, check, block.name, params) or not avoids_defects(backends, check, block.name,
                                                                                    params):
            return
        what, judgement = max(judgements(block, params).items(), key=lambda kv: kv[1].ratio)
        found.append((judgement.ratio, f"{what}: {judgement}", params))

    probe()
    return max(found, key=lambda f: f[0] if not math.isnan(f[0]) else math.inf, default=(0.0, "no draw judged", {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", choices=("forward", "gradients"), default="gradients")
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("blocks", nargs="*", help="registry names (default: every block)")
    args = parser.parse_args()
    backend = chosen_keras_backend()
    harmonized = {case.values[0].entry.name: case.values[0]
                  for case in pytest_params(BLOCKS, args.check, (backend,)) if not case.values[0].kept}
    print(f"Keras on {backend}, {args.check}, {args.draws} draws per block and type; ratios are of the limit, "
          f"which is HALF_LIMIT_MULTIPLE = {HALF_LIMIT_MULTIPLE} times the rule's")
    for block in BLOCKS:
        case = harmonized.get(block.name)
        if (args.blocks and block.name not in args.blocks) or case is None \
                or (args.check == "gradients" and not block.half_gradients) \
                or xfail_reasons(case, args.check, (backend,)):
            continue
        for dtype in ("bfloat16", "float16"):
            ratio, why, params = worst(block, dtype, args.check, args.draws)
            print(f"{block.name:26} {dtype:9} {ratio:6.3f}  {why}" + (f"\n    draw: {params}" if ratio > 1 else ""),
                  flush=True)


if __name__ == "__main__":
    main()

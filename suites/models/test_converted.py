"""Transformer pairs written by others in both frameworks, their weights carried by Keras Hub's converter
(cwtest.registries.converted): a Hugging Face `transformers` model (torch) against the Keras Hub backbone that Keras
Hub reads from the torch model's save_pretrained folder.

On the same token ids, a batch whose second row is padded, the sequence outputs agree at every unpadded position
within the `logits_eval` tolerance, and the gradient of one fixed random projection of them for the token embedding
table (the backward pass through every layer) within the `gradients` tolerance (cwtest.registries.tolerances). A
pair with a known difference is an xfail naming it as converted (`-published`), and its harmonized twin
(`-harmonized`: the torch model configured as Keras Hub computes) must pass. Keras runs in this process, on its
backend (KERAS_BACKEND): the pair's Keras side must be that one.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from cwtest.core.metrics import TOLERANCE_RATIO, measure
from cwtest.frameworks import keras_in_this_process
from cwtest.frameworks.availability import require
from cwtest.frameworks.imports import chosen_keras_backend
from cwtest.models.parity import relative_l2
from cwtest.registries.converted import CONVERTED, VOCABULARY
from cwtest.registries.tolerances import tolerance
from cwtest.session.stash import SETTINGS

BATCH, LENGTH, PADDED = 2, 12, 4  # the second row's last PADDED positions are padding
NEEDS = ("the converted pairs need Hugging Face transformers and Keras Hub: pip install transformers -c "
         "constraints.txt && pip install --no-deps keras-hub -c constraints.txt (the project's `transformers` extra; "
         "Keras Hub without its tensorflow-text requirement, which would install `tensorflow` over tensorflow-cpu)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "converted" not in metafunc.fixturenames:
        return
    named = [arch for arch in metafunc.config.stash[SETTINGS].archs if arch in CONVERTED]
    # Each pair as converted (published), and with a known difference its harmonized twin.
    cases = [pytest.param((arch, protocol), id=f"{arch}-{protocol}") for arch in named
             for protocol in ("published", "harmonized")[:2 if CONVERTED[arch].differences else 1]]
    metafunc.parametrize("converted", cases or [pytest.param(None, id="no-converted-pair", marks=pytest.mark.skip(
        reason=f"--crossedwires-arch names no converted pair: zoo (or {', '.join(CONVERTED)}) runs them"))])


def _inputs(hidden: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token ids, their padding mask (1: a token), and a random projection of the output that ignores the padding:
    random along the hidden axis too (one constant across it would project a LayerNorm's output onto nothing)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCABULARY, (BATCH, LENGTH)).astype(np.int64)
    mask = np.ones_like(ids)
    mask[1, LENGTH - PADDED:] = 0
    return ids, mask, rng.standard_normal((BATCH, LENGTH, hidden)).astype(np.float32) * mask[..., None]


def test_converted_pair(converted, crossedwires_settings, record_metric, tmp_path):
    if not (importlib.util.find_spec("transformers") and importlib.util.find_spec("keras_hub")):
        pytest.skip(NEEDS)
    pair = crossedwires_settings.pair
    if not pair.torch_and_keras:
        pytest.skip(f"the converted pairs compare torch with Keras, and the pair is {pair}: name one torch and one "
                    "Keras side in --crossedwires-pair")
    torch_side, keras_side = pair.torch_first((pair.left, pair.right))
    if keras_side.keras_backend != chosen_keras_backend():
        pytest.skip(f"Keras Hub's backbone runs in this process, on Keras's {chosen_keras_backend()} backend: "
                    f"run with KERAS_BACKEND={keras_side.keras_backend} to compare {keras_side}")
    with keras_in_this_process():  # Keras Hub's backbone is an object of this process
        require(torch_side, keras_side, roles=("runner", "user models"))
    from cwtest.adapters.keras import converted as keras_converted
    from cwtest.adapters.torch import converted as torch_converted

    name, protocol = converted
    entry = CONVERTED[name] if protocol == "published" else CONVERTED[name].harmonized()
    torch_model = torch_converted.saved(entry, tmp_path, seed=0)
    keras_model = keras_converted.load(entry, tmp_path)
    ids, mask, cotangent = _inputs(torch_model.config.hidden_size)
    reference, torch_gradient = torch_converted.run(entry, torch_model, ids, mask, cotangent)
    actual, keras_gradient = keras_converted.run(entry, keras_model, ids, mask, cotangent)
    tokens = mask.astype(bool)  # a padded position's output is whatever each side leaves there
    error = measure(reference[tokens], actual[tokens])
    gradient_error = relative_l2(keras_gradient, torch_gradient)
    limits = {name: tolerance(name, {}, crossedwires_settings.tolerances) for name in ("logits_eval", "gradients")}
    record_metric("eval_max_rel", error.max_rel)
    record_metric("eval_max_abs", error.max_abs)
    record_metric("embedding_gradient_relative_l2", gradient_error)
    record_metric(TOLERANCE_RATIO, max(error.max_rel / limits["logits_eval"], gradient_error / limits["gradients"]))
    failures = []
    if error.max_rel > limits["logits_eval"]:
        failures.append(f"sequence outputs differ at unpadded positions: {error} (tolerance max rel "
                        f"{limits['logits_eval']:g})")
    if gradient_error > limits["gradients"]:
        failures.append(f"the token embedding's gradient differs by relative L2 {gradient_error:.3g} (tolerance "
                        f"{limits['gradients']:g})")
    if entry.differences:  # its published case: the known difference must still show, and explain the failure
        named = "; ".join(f"{d.name}: {d.cause}" for d in entry.differences)
        if not failures:
            pytest.fail(f"{name}: known difference {named} is no longer observed; update "
                        "cwtest/registries/converted.py", pytrace=False)
        pytest.xfail(f"{named} ({'; '.join(failures)})")
    assert not failures, f"{name} ({protocol}): " + "; ".join(failures)

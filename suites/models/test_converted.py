"""Transformer pairs written by others in both frameworks, their weights carried by Keras Hub's converter
(cwtest.registries.converted): a Hugging Face `transformers` model (torch) against the Keras Hub backbone that Keras
Hub reads from the torch model's save_pretrained folder.

On the same token ids, a batch whose second row is padded (or the same images), the sequence outputs agree at every
unpadded position within the `logits_eval` tolerance, and the gradient of one fixed random projection of them for the
token embedding table (for a ViT, for its input images: the backward pass through every layer) within the `gradients`
tolerance (cwtest.registries.tolerances). A
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
# Images at a hundredth of full brightness: the LayerNorms' inputs are then mostly the position embeddings, of variance
# about 0.04, where ViT's epsilon of 1e-6 against 1e-12 moves the output 2.4e-5 (over logits_eval's 1e-5). At full
# scale it moved 4.4e-6, and the difference would pass unseen.
IMAGE_SCALE = 0.01
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


def _inputs(entry, config, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """(inputs, their padding mask or None, a random projection of the output that ignores padding, the positions
    compared). Token ids with the second row's last PADDED positions padding; or images in [0, IMAGE_SCALE]. The
    projection is random along the hidden axis too: one constant across it would project a LayerNorm's output onto
    nothing."""
    rng = np.random.default_rng(seed)
    if entry.images:
        size = config.image_size
        inputs = (rng.random((BATCH, size, size, 3)) * IMAGE_SCALE).astype(np.float32)
        mask, positions = None, np.ones((BATCH, (size // config.patch_size) ** 2 + 1), bool)  # patches and the class token
    else:
        inputs = rng.integers(0, VOCABULARY, (BATCH, LENGTH)).astype(np.int64)
        mask = np.ones_like(inputs)
        mask[1, LENGTH - PADDED:] = 0
        positions = mask.astype(bool)  # a padded position's output is whatever each side leaves there
    cotangent = rng.standard_normal((*positions.shape, config.hidden_size)).astype(np.float32) * positions[..., None]
    return inputs, mask, cotangent, positions


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
    inputs, mask, cotangent, positions = _inputs(entry, torch_model.config)
    reference, torch_gradient = torch_converted.run(entry, torch_model, inputs, mask, cotangent)
    actual, keras_gradient = keras_converted.run(entry, keras_model, inputs, mask, cotangent)
    error = measure(reference[positions], actual[positions])
    gradient_error = relative_l2(keras_gradient, torch_gradient)
    limits = {name: tolerance(name, {}, crossedwires_settings.tolerances) for name in ("logits_eval", "gradients")}
    record_metric("eval_max_rel", error.max_rel)
    record_metric("eval_max_abs", error.max_abs)
    record_metric("gradient_relative_l2", gradient_error)
    record_metric(TOLERANCE_RATIO, max(error.max_rel / limits["logits_eval"], gradient_error / limits["gradients"]))
    failures = []
    if error.max_rel > limits["logits_eval"]:
        failures.append(f"sequence outputs differ at unpadded positions: {error} (tolerance max rel "
                        f"{limits['logits_eval']:g})")
    if gradient_error > limits["gradients"]:
        what = "the input's" if entry.images else "the token embedding's"
        failures.append(f"{what} gradient differs by relative L2 {gradient_error:.3g} (tolerance "
                        f"{limits['gradients']:g})")
    if entry.differences:  # its published case: the known difference must still show, and explain the failure
        named = "; ".join(f"{d.name}: {d.cause}" for d in entry.differences)
        if not failures:
            pytest.fail(f"{name}: known difference {named} is no longer observed; update "
                        "cwtest/registries/converted.py", pytrace=False)
        pytest.xfail(f"{named} ({'; '.join(failures)})")
    assert not failures, f"{name} ({protocol}): " + "; ".join(failures)

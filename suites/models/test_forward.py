"""Both sides build the selected architecture and run it on the same images.

Parity of the outputs needs shared weights (the transfer suite); here each side has its
own initialization, so what is checked is that both models exist, take CIFAR-10 shaped
input and produce finite scores for ten classes, and what is recorded is their statistics.
"""

import numpy as np

from cwtest.registries.architectures import REGISTRY

BATCH = 16


def _probabilities(outputs: np.ndarray, kind: str) -> np.ndarray:
    if kind == "probabilities":
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def test_forward_statistics(crossedwires_arch, sides, crossedwires_data, record_metric):
    images = crossedwires_data.x_test[:BATCH]
    entry = REGISTRY[crossedwires_arch]
    predictions = []
    for name, (side, adapter) in zip(("left", "right"), sides):
        outputs = adapter.forward(adapter.build(crossedwires_arch, side), images, side)
        assert outputs.shape == (BATCH, 10), f"{side}: output shape {outputs.shape}"
        assert np.isfinite(outputs).all(), f"{side}: non-finite outputs"
        # The ONNX side runs the torch model's export: logits, as torch.
        kind = entry.keras_output if side.api == "keras" else entry.torch_output
        probabilities = _probabilities(outputs.astype(np.float64), kind)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
        record_metric(f"{name}_output_mean", outputs.mean())
        record_metric(f"{name}_output_std", outputs.std())
        record_metric(f"{name}_max_probability", probabilities.max())
        predictions.append(probabilities.argmax(axis=1))
    record_metric("argmax_agreement", np.mean(predictions[0] == predictions[1]))

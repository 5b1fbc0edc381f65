"""framework:device[:precision] sides and pairs."""

import pytest

from cwtest.backends.sides import Side, parse_pair, parse_side
from cwtest.errors import InputError


def test_default_pair():
    pair = parse_pair("torch:cpu,tensorflow:cpu")
    assert pair.left == Side("torch", "cpu") and pair.right == Side("tensorflow", "cpu")
    assert str(pair) == "torch:cpu->tensorflow:cpu" and pair.devices == "cpu"


def test_indexed_devices_and_precision():
    assert parse_side("torch:cuda:1:bf16") == Side("torch", "cuda:1", "bf16")
    assert str(parse_side("tensorflow:gpu:tf32")) == "tensorflow:gpu:tf32"
    assert parse_pair("torch:cpu,torch:cuda").devices == "cpu/cuda"
    assert parse_side("torch:cpu:fp16").precision == "fp16"  # torch autocast runs on the CPU too
    assert parse_side("onnxruntime:cuda:tf32").precision == "tf32"


@pytest.mark.parametrize(
    "text, message",
    [
        ("jax:cpu,torch:cpu", "unknown framework 'jax'"),
        ("torch:tpu,tensorflow:cpu", "unknown device 'tpu' for torch"),
        ("torch:gpu,tensorflow:cpu", "unknown device 'gpu' for torch \\(known: cpu, cuda\\)"),
        ("torch:cpu:fp8,tensorflow:cpu", "unknown precision 'fp8'"),
        ("torch:cpu:0,tensorflow:cpu", "the cpu device takes no index"),
        ("torch:cpu", "expected two sides"),
        ("torch:cpu,torch:cpu", "both sides are torch:cpu"),
        ("torch,tensorflow", "is not framework:device"),
        ("torch:cpu,tensorflow:gpu:bf16", "'tensorflow:gpu:bf16': bf16 is a torch autocast mode; tensorflow sides "
                                          "take fp32 or tf32$"),
        ("torch:cpu,onnxruntime:cpu:fp16", "'onnxruntime:cpu:fp16': fp16 is a torch autocast mode; onnxruntime "
                                           "sides take fp32 or tf32$"),
    ],
)
def test_bad_pairs(text, message):
    with pytest.raises(InputError, match=message):
        parse_pair(text)

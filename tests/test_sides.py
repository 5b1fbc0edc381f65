"""framework:device[:precision] sides and pairs."""

import pytest

from cwtest.frameworks.sides import Side, decomposition_sides, parse_pair, parse_side
from cwtest.core.errors import InputError


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


def test_keras_sides_name_their_backend():
    assert parse_side("keras-tensorflow:cpu") == Side("tensorflow", "cpu")  # the dataset's name for it
    jax, on_torch = parse_side("keras-jax:gpu:tf32"), parse_side("keras-torch:cpu")
    assert (jax.framework, jax.device, jax.precision, jax.keras_backend) == ("keras-jax", "gpu", "tf32", "jax")
    assert on_torch.keras_backend == "torch" and on_torch.api == "keras"
    assert parse_side("tensorflow:cpu").api == "keras" and parse_side("torch:cpu").api == "torch"
    assert parse_side("torch:cpu").keras_backend is None
    assert parse_pair("keras-torch:cpu,keras-jax:cpu").keras_backends == ("torch", "jax")
    assert parse_pair("torch:cpu,keras-jax:gpu:1").right == Side("keras-jax", "gpu:1")


def test_decomposition_sides():
    torch_side, keras_on_torch, other = decomposition_sides(parse_pair("keras-jax:cpu,torch:cpu"))
    assert (torch_side, keras_on_torch, other) == (Side("torch", "cpu"), Side("keras-torch", "cpu"),
                                                   Side("keras-jax", "cpu"))
    assert decomposition_sides(parse_pair("torch:cuda:1:tf32,tensorflow:gpu:tf32"))[1] == Side("keras-torch", "gpu:1",
                                                                                               "tf32")
    assert decomposition_sides(parse_pair("torch:cpu,keras-torch:cpu")) is None  # no other Keras backend
    assert decomposition_sides(parse_pair("keras-torch:cpu,keras-jax:cpu")) is None  # no torch side
    assert decomposition_sides(parse_pair("torch:cpu:bf16,tensorflow:cpu")) is None  # Keras takes no bf16


@pytest.mark.parametrize(
    "text, message",
    [
        ("jax:cpu,torch:cpu", "unknown framework 'jax'"),
        ("keras-mxnet:cpu,torch:cpu", "unknown framework 'keras-mxnet'"),
        ("torch:cpu,keras-jax:cuda", "unknown device 'cuda' for keras-jax \\(known: cpu, gpu\\)"),
        ("torch:cpu,keras-torch:cpu:bf16", "bf16 is a torch autocast mode; keras-torch sides take fp32 or tf32$"),
        ("torch:cpu,[keras]:cpu", "is not framework:device"),
        ("torch:tpu,tensorflow:cpu", "unknown device 'tpu' for torch"),
        ("torch:gpu,tensorflow:cpu", "unknown device 'gpu' for torch \\(known: cpu, cuda, xpu, mps, hpu, "),
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


def test_any_torch_device_type_and_any_execution_provider_parse():
    assert parse_side("torch:xpu:1") == Side("torch", "xpu:1")
    assert parse_side("torch:privateuseone") == Side("torch", "privateuseone")
    assert parse_pair("torch:mps,onnxruntime:openvino").right == Side("onnxruntime", "openvino")

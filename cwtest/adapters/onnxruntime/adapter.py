"""ONNX Runtime side: the torch model exported with `torch.onnx`, run by an InferenceSession.

The export is an inference graph (BatchNorm folded to its running statistics, no dropout),
so this side runs in eval mode only. It takes NCHW float32 input scaled to [0, 1], as torch.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

from cwtest.core.overrides import overridden
from cwtest.frameworks import observed
from cwtest.frameworks.imports import framework_versions
from cwtest.frameworks.sides import TORCH_CPU, Side

SUFFIX = "ExecutionProvider"


def _provider(side: Side) -> str | None:
    """The execution provider a side's device names: `cuda` CUDAExecutionProvider, `openvino`
    OpenVINOExecutionProvider, ... (onnxruntime's own list, case aside); None for no such provider."""
    import onnxruntime

    kind = side.device.partition(":")[0]
    return next((p for p in onnxruntime.get_all_providers() if p.lower() == kind + SUFFIX.lower()), None)


def available(side: Side) -> str | None:
    import onnxruntime

    if side.precision in ("bf16", "fp16"):
        return f"{side}: cwtest runs ONNX graphs in float32 only; use fp32 or tf32"
    provider = _provider(side)
    if provider is None:
        known = ", ".join(sorted(p.removesuffix(SUFFIX).lower() for p in onnxruntime.get_all_providers()))
        return f"{side}: onnxruntime has no execution provider named {side.device.partition(':')[0]!r} (known: {known})"
    if provider not in onnxruntime.get_available_providers():
        return (f"{side}: this onnxruntime build ({onnxruntime.__version__}) has no {provider}; it has "
                f"{', '.join(onnxruntime.get_available_providers())} (a build with it: onnxruntime-gpu for cuda, "
                f"onnxruntime-openvino for openvino, ...)")
    return None


def precision(side: Side):
    """Nothing to switch in this process: the session's options carry the side's mode (`build`)."""
    return contextlib.nullcontext()


def versions(side: Side) -> dict[str, str]:
    return framework_versions(("onnxruntime",))


def _probed(torch_model, probes: list):
    """`torch_model` returning its logits and then each probe module's output: what tracing sees, the probes' outputs
    become graph outputs."""
    import torch

    class Probed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = torch_model

        def forward(self, x):
            captured = {}  # a copy: an in-place activation after the layer (VGG's ReLUs) would change it
            hooks = [m.register_forward_hook(lambda m, i, o, n=n: captured.__setitem__(n, o.clone()))
                     for n, m in enumerate(probes)]
            try:
                logits = self.model(x)
            finally:
                for hook in hooks:
                    hook.remove()
            return (logits, *(captured[n] for n in range(len(probes))))

    return Probed()


def export(torch_model, side: Side, image_size: int = 32, probes: list = ()):
    """An InferenceSession running `torch_model` (in eval mode) with a free batch dimension; with `probes` (modules
    of the model), their outputs too, after the logits."""
    import onnxruntime
    import torch

    buffer = io.BytesIO()
    was_training = torch_model.training
    device = next(torch_model.parameters()).device
    outputs = ["logits", *(f"probe{n}" for n in range(len(probes)))]
    with warnings.catch_warnings():
        # The torch.export-based exporter needs onnxscript, which the project does not install;
        # the TorchScript-based one covers these convolutional models.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export((_probed(torch_model, probes) if probes else torch_model).eval(),
                          (torch.zeros(1, 3, image_size, image_size, device=device),), buffer,
                          dynamo=False, input_names=["images"], output_names=outputs,
                          dynamic_axes={name: {0: "batch"} for name in ["images", *outputs]})
    torch_model.train(was_training)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # the worker's share of the cores
    index = side.device.partition(":")[2] or "0"
    # The CUDA provider uses TF32 unless told not to: fp32 turns it off, as in torch and TensorFlow.
    cuda = {"device_id": index, "use_tf32": str(int(side.precision == "tf32"))}
    provider = _provider(side)
    if provider == "CUDAExecutionProvider":
        provider = (provider, cuda)
    elif side.accelerated and side.device.partition(":")[2]:  # another provider's options are its own; the index is common
        provider = (provider, {"device_id": index})
    return onnxruntime.InferenceSession(buffer.getvalue(), options, providers=[provider])


def build(arch: str, side: Side, seed: int = 0, flavour: str = "published"):
    from cwtest.frameworks import adapter_for  # torch's adapter builds the model the graph is exported from

    return export(adapter_for(TORCH_CPU).build(arch, TORCH_CPU, seed, flavour), side)


def forward(model, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
    if training:
        raise ValueError(f"{side}: an exported ONNX graph runs in eval mode only")
    x = np.ascontiguousarray(images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
    options = model.get_provider_options().get(_provider(side), {})
    observed.record(side, "tf32" if options.get("use_tf32") == "1" else "fp32", "n/a")
    return model.run(None, {"images": x})[0]


def layer_outputs(torch_model, handles: list, images: np.ndarray, side: Side) -> list[np.ndarray]:
    """The outputs of the torch model's given layers (handles from torch's `layers`) as ONNX Runtime computes them,
    channels last: the model exported again with each as a graph output. The exporter may not fold a node whose output
    the graph must give (a convolution into its BatchNorm), so a fault of such folding may show at the logits only."""
    session = export(torch_model, side, images.shape[1], probes=handles)
    found = session.run(None, {"images": np.ascontiguousarray(images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)})
    return [a.transpose(0, 2, 3, 1) if a.ndim == 4 else a for a in found[1:]]


def comparable(model):
    """An exported graph is already what the torch side computes in eval mode (dropout off, logits out)."""
    return overridden([])

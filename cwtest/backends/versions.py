"""Framework versions, read from package metadata so that nothing heavy is imported."""

from __future__ import annotations

from importlib import metadata

# Report column -> distributions that provide it (TensorFlow ships as tensorflow or tensorflow-cpu).
DISTRIBUTIONS = {
    "torch": ("torch",),
    "torchvision": ("torchvision",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
}


def framework_versions() -> dict[str, str]:
    """Installed version per framework, '' where it is not installed."""
    found = {}
    for name, distributions in DISTRIBUTIONS.items():
        found[name] = ""
        for distribution in distributions:
            try:
                found[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return found

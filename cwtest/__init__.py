"""cwtest: do deep-learning models behave the same across frameworks and hardware?"""

__version__ = "0.1.0"

# The public API for your own models (cwtest.models.yours), imported when first used: pytest imports
# this package in every run of an environment with cwtest installed, and numpy is not needed there.
# import_keras: Keras (TensorFlow) imported after torch, torchvision and Triton, the order that works
# in one process (cwtest.frameworks.imports).
_PUBLIC = {"compare_models": "cwtest.models.yours", "assert_equivalent": "cwtest.models.yours",
           "ModelComparison": "cwtest.models.yours", "import_keras": "cwtest.frameworks.imports"}
__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str):
    if name in _PUBLIC:
        import importlib

        module = importlib.import_module(_PUBLIC[name])
        return getattr(module, "keras" if name == "import_keras" else name)
    raise AttributeError(f"module 'cwtest' has no attribute {name!r}")

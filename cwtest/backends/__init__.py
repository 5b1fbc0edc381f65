"""The frameworks: sides and their grammar, imports in a safe order, precision and determinism modes,
versions, and one backend module per framework (`*_backend.py`), found through `backend_for`.

A backend module implements `Backend` (build a model for a side, run it on uint8 NHWC images); one that
trains implements `TrainingBackend` as well. Modules satisfy these protocols as they are, function by
function (PEP 544), so adding a framework is one new module named in `BACKENDS`. A Keras side on another
Keras backend than the one this process runs Keras on is served by a child process
(cwtest.backends.remote), behind the same protocol.
"""

from __future__ import annotations

import importlib
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Protocol

from cwtest.backends import plugins
from cwtest.backends.frameworks import chosen_keras_backend
from cwtest.backends.sides import KERAS_BACKENDS, Side
from cwtest.errors import InputError

if TYPE_CHECKING:
    import numpy as np

    from cwtest.models.structure import Read
    from cwtest.published.layout import Root
    from cwtest.training.protocol import Plan, Progress, SideRun

# Side framework -> its backend module: one module serves Keras on each of Keras's own backends.
BACKENDS = {"torch": "cwtest.backends.torch_backend", "onnxruntime": "cwtest.backends.onnxruntime_backend"} | {
    framework: "cwtest.backends.keras_backend" for framework in KERAS_BACKENDS}
TRAINABLE = ("torch", *KERAS_BACKENDS)  # the frameworks whose backends implement TrainingBackend


class Backend(Protocol):
    def available(self, side: Side) -> str | None:
        """None where the side can run here, else the reason it cannot, for a skip."""

    def build(self, arch: str, side: Side, seed: int = 0, flavour: str = "published") -> object:
        """The architecture's model in one of its flavours (cwtest.models.architectures), on the side."""

    def forward(self, model: object, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
        """Logits for uint8 NHWC images."""

    def comparable(self, model: object) -> AbstractContextManager:
        """The model with dropout off and a softmax head read as logits, put back afterwards."""

    def precision(self, side: Side) -> AbstractContextManager:
        """The side's precision mode (cwtest.backends.precision: fp32 or TF32 matmuls, autocast) in force inside."""

    def versions(self, side: Side) -> dict[str, str]:
        """The installed version of each distribution the side runs on ('' where one is missing)."""


class TrainingBackend(Backend, Protocol):
    def weights(self, model: object) -> list[np.ndarray]:
        """Every weight (parameters and statistics) in the framework's layout and order."""

    def set_weights(self, model: object, arrays: list[np.ndarray]) -> None:
        """The arrays `weights` gives (from a model of the same build), back in place."""

    def layers(self, model: object, image_size: int | None = None, example: np.ndarray | None = None) -> Read:
        """The layers that hold weights, as the structure check compares them (cwtest.models.structure)."""

    def layer_weights(self, handle: object) -> list[np.ndarray]:
        """A layer's arrays (a handle from `layers`), weight or kernel first, in the framework's layout."""

    def set_layer_weights(self, handle: object, arrays: list[np.ndarray]) -> None:
        """A layer's arrays, ordered as `layer_weights` gives them, back in place."""

    def activations(self, model: object, handles: list, images: np.ndarray, side: Side, training: bool = False
                    ) -> list[np.ndarray]:
        """The outputs of the given layers (handles from `layers`) on uint8 NHWC images, channels last."""

    def deterministic(self, side: Side, on: bool) -> AbstractContextManager:
        """Deterministic kernels inside where `on`; outside as before, where the framework can switch back."""

    def gradients(self, model: object, images: np.ndarray, labels: np.ndarray, side: Side) -> dict[str, np.ndarray]:
        """Each parameter's gradient of the mean cross-entropy of the logits, in the framework's layout."""

    def build_trainable(self, arch: str, knobs: frozenset[str], side: Side, seed: int = 0) -> object:
        """The trial's published model with the harmonization knobs that concern this side."""

    def train(self, model: object, plan: Plan, x: np.ndarray, y: np.ndarray, knobs: frozenset[str], side: Side,
              progress: Progress) -> SideRun:
        """The plan's epochs under the published protocol (or the knobs'), with per-step losses."""

    def predict(self, model: object, x: np.ndarray, side: Side) -> np.ndarray:
        """Class probabilities for uint8 NHWC images."""

    def nudge(self, model: object) -> None:
        """Every weight one ulp up: the noise floor's smallest change."""

    def save(self, model: object, folder: Path, trial: str) -> Path:
        """The model in the CrossedWires dataset layout under `folder`."""

    def load(self, arch: str, folder: Path, trial: str, side: Side) -> object:
        """A model `save` wrote."""

    def load_published(self, root: Root, arch: str, trial: str, side: Side) -> object:
        """The trial's model of this framework in the published CrossedWires dataset (cwtest.published), ready to
        run on the side, in eval mode where the framework has one."""

    # A user's own models (cwtest.models.yours): inputs as the model takes them, any shape and dtype.
    def run(self, model: object, inputs: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
        """The model's output."""

    def layer_outputs(self, model: object, handles: list, inputs: np.ndarray, side: Side, training: bool = False
                      ) -> list[np.ndarray]:
        """The outputs of the given layers (handles from `layers`), channels last."""

    def projection_gradients(self, model: object, inputs: np.ndarray, cotangent: np.ndarray, side: Side
                             ) -> dict[str, np.ndarray]:
        """Each parameter's gradient of sum(output * cotangent) / batch, one pass in training mode."""


@contextmanager
def overridden(changes: list[tuple[object, str, object]]) -> Iterator[None]:
    """Each (owner, attribute, value) set for the duration, and put back as it was afterwards."""
    originals = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in changes]
    try:
        for owner, attribute, value in changes:
            setattr(owner, attribute, value)
        yield
    finally:
        for owner, attribute, value in originals:
            setattr(owner, attribute, value)


def _module(framework: str) -> str:
    name = BACKENDS.get(framework) or plugins.module_name(framework)
    if name is None:
        raise NotImplementedError(f"no backend for {framework} yet")
    return name


def trainable(framework: str) -> bool:
    plugin = plugins.registered().get(framework)
    return getattr(plugin, "TRAINS", False) if plugin is not None else framework in TRAINABLE


def backend_for(side: Side | str) -> Backend:
    """The backend module of a side, or of a framework named as in a side ("torch", "keras-jax", ...); a
    plugin's (cwtest.backends.plugins) for the frameworks installed packages add."""
    framework = side if isinstance(side, str) else side.framework
    module = _module(framework)
    keras_backend = KERAS_BACKENDS.get(framework)
    if keras_backend is not None and keras_backend != chosen_keras_backend():
        from cwtest.backends.remote import keras_on

        return keras_on(keras_backend)  # Keras runs on one backend per process: another one runs in a child
    return importlib.import_module(module)


def versions_of(side: Side) -> dict[str, str]:
    """What the side runs on and its version: its backend module's `versions`, called directly, since
    reading installed versions needs no framework of its own process (nor a child for a second Keras)."""
    return importlib.import_module(_module(side.framework)).versions(side)


def trainer_for(side: Side) -> TrainingBackend:
    """The side's backend, which must train."""
    if not trainable(side.framework):
        raise InputError(f"--crossedwires-pair: {side.framework} cannot train (trainable: {', '.join(TRAINABLE)})")
    return backend_for(side)  # a TrainingBackend: tests/test_backends.py checks each in TRAINABLE

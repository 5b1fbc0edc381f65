"""What a framework adapter can do, one small protocol per role.

An adapter (cwtest.adapters.<framework>.adapter, or a plugin's module: cwtest.frameworks.plugins) is a module
of functions; it implements the roles whose functions it has, and nothing declares them beyond that (PEP 544,
checked by `roles_of`). A suite asks for the roles it needs (cwtest.frameworks.availability) and skips a side
whose adapter lacks one, naming it. A vendor's adapter starts with `Runner` and adds what it offers.

The layer suite's case runners (cwtest.adapters.<framework>.cases) are modules of their own, loaded by
`cwtest.frameworks.case_runner`: `ReferenceCases` for the side every case is measured against (torch), `Cases`
for a side measured against it (Keras, in this process or in a child).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    import numpy as np

    from cwtest.core.records import Read
    from cwtest.core.training_loop import Plan, Progress, SideRun
    from cwtest.frameworks.sides import Side


class Runner(Protocol):
    """Build an architecture on a side and run it: what every adapter has."""

    def available(self, side: Side) -> str | None:
        """None where the side can run here, else the reason it cannot, for a skip."""

    def build(self, arch: str, side: Side, seed: int = 0, flavour: str = "published") -> object:
        """The architecture's model in one of its flavours (cwtest.registries.architectures), on the side."""

    def forward(self, model: object, images: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
        """Logits for uint8 NHWC images."""

    def comparable(self, model: object) -> AbstractContextManager:
        """The model with dropout off and a softmax head read as logits, put back afterwards."""

    def precision(self, side: Side) -> AbstractContextManager:
        """The side's precision mode (cwtest.frameworks.precision: fp32 or TF32 matmuls, autocast) in force inside."""

    def versions(self, side: Side) -> dict[str, str]:
        """The installed version of each distribution the side runs on ('' where one is missing)."""


class Weights(Protocol):
    def weights(self, model: object) -> list[np.ndarray]:
        """Every weight (parameters and statistics) in the framework's layout and order."""

    def set_weights(self, model: object, arrays: list[np.ndarray]) -> None:
        """The arrays `weights` gives (from a model of the same build), back in place."""


class Gradients(Protocol):
    def gradients(self, model: object, images: np.ndarray, labels: np.ndarray, side: Side) -> dict[str, np.ndarray]:
        """Each parameter's gradient of the mean cross-entropy of the logits, in the framework's layout."""


class ReferenceLogits(Protocol):
    """A float64 copy of the model run on the CPU: the exact run a device or precision route judges both of its
    sides against, its logits and, to locate a failure, its layers' outputs (cwtest.models.float64_rule)."""

    def float64_forward(self, model: object, images: np.ndarray, training: bool = False) -> np.ndarray:
        """Logits for uint8 NHWC images, computed in float64 on the CPU; the model itself is left as it was."""

    def float64_activations(self, model: object, handles: list, images: np.ndarray, training: bool = False
                            ) -> list[np.ndarray]:
        """`activations` of the given layers (handles from `layers`, of `model`) on its float64 copy, in float64."""


class ReferenceGradients(Protocol):
    """Gradients with a float64 reference and under nudged weights: what a device or precision comparison
    measures its target against (cwtest.models.device_transfer)."""

    def float_gradients(self, model: object, x: np.ndarray, labels: np.ndarray, side: Side, float64: bool = False
                        ) -> dict[str, np.ndarray]:
        """`gradients` on float inputs as the model takes them; on a float64 copy of the model with `float64`."""

    def nudged(self, model: object, size: float, sign: float, seed: int = 1) -> object:
        """A copy of the model with every parameter moved by `sign * size` times a fixed random +-1 pattern."""


class Layers(Protocol):
    """A model's layers, their weights and their outputs: the structure check and per-layer localization."""

    def layers(self, model: object, image_size: int | None = None, example: np.ndarray | None = None) -> Read:
        """The layers that hold weights, as the structure check compares them (cwtest.models.structure)."""

    def layer_weights(self, handle: object) -> list[np.ndarray]:
        """A layer's arrays (a handle from `layers`), weight or kernel first, in the framework's layout."""

    def set_layer_weights(self, handle: object, arrays: list[np.ndarray]) -> None:
        """A layer's arrays, ordered as `layer_weights` gives them, back in place."""

    def activations(self, model: object, handles: list, images: np.ndarray, side: Side, training: bool = False
                    ) -> list[np.ndarray]:
        """The outputs of the given layers (handles from `layers`) on uint8 NHWC images, channels last."""


class ReferenceLayers(Protocol):
    """Reading the layers of a model of this model code while another side's adapter runs it: how a device route
    names the layer where a side that reads no layers of its own (a plugin's) parts from the reference
    (cwtest.models.localize.same_code_layer_errors)."""

    def outputs_while(self, handles: list, call: Callable[[], object]) -> list[np.ndarray]:
        """The outputs of the given layers (handles from `layers`) while `call` runs their model, channels last."""


class Training(Protocol):
    """Paired training under the published protocol or the harmonization knobs (cwtest.registries.knobs)."""

    def deterministic(self, side: Side, on: bool) -> AbstractContextManager:
        """Deterministic kernels inside where `on`; outside as before, where the framework can switch back."""

    def build_trainable(self, arch: str, knobs: frozenset[str], side: Side, seed: int = 0) -> object:
        """The trial's published model with the harmonization knobs that concern this side."""

    def train(self, model: object, plan: Plan, x: np.ndarray, y: np.ndarray, knobs: frozenset[str], side: Side,
              progress: Progress) -> SideRun:
        """The plan's epochs under the published protocol (or the knobs'), with per-step losses."""

    def predict(self, model: object, x: np.ndarray, side: Side) -> np.ndarray:
        """The predicted class of each uint8 NHWC image."""

    def nudge(self, model: object) -> None:
        """Every weight one ulp up: the noise floor's smallest change."""


class Checkpoints(Protocol):
    def save(self, model: object, folder: Path, trial: str) -> Path:
        """The model in the CrossedWires dataset layout under `folder`."""

    def load(self, arch: str, folder: Path, trial: str, side: Side) -> object:
        """A model `save` wrote."""


class PublishedLoading(Protocol):
    def load_published(self, arch: str, stored: object, shown: str, side: Side) -> object:
        """A trial's model from what the published CrossedWires dataset stores for this framework, as
        cwtest.published read it (a torch state dict's bytes; a SavedModel's variables, cwtest.core.records),
        ready to run on the side, in eval mode where the framework has one. `shown` names the file."""


class UserModels(Protocol):
    """A user's own models (cwtest.models.yours): inputs as the model takes them, any shape and dtype."""

    def run(self, model: object, inputs: np.ndarray, side: Side, training: bool = False) -> np.ndarray:
        """The model's output."""

    def layer_outputs(self, model: object, handles: list, inputs: np.ndarray, side: Side, training: bool = False
                      ) -> list[np.ndarray]:
        """The outputs of the given layers (handles from `layers`), channels last."""

    def projection_gradients(self, model: object, inputs: np.ndarray, cotangent: np.ndarray, side: Side
                             ) -> dict[str, np.ndarray]:
        """Each parameter's gradient of sum(output * cotangent) / batch, one pass in training mode, keyed as the
        layers' `gradient_keys` (cwtest.core.records.Layer) name them."""


class ReferenceCases(Protocol):
    """The layer suite's reference side (torch): a case's module built, run, and measured."""

    def build(self, block: object, params: dict, kept: frozenset) -> object:
        """The case's module, its weights drawn from the case's seed; `kept` differences left in."""

    def weighted(self, module: object) -> list[tuple[str, object]]:
        """The submodules that hold weights, by name (the other side's layer names)."""

    def state(self, module: object) -> dict[str, np.ndarray]:
        """A submodule's own weights and statistics, by key (cwtest.core.layouts.KERAS_ORDER)."""

    def run(self, module: object, xs: list[np.ndarray], training: bool, cotangent_seed: int | None = None,
            side: Side | None = None) -> object:
        """The module on the NHWC inputs (cwtest.adapters.torch.cases.CaseRun), with gradients of a drawn cotangent."""

    def terms_scale(self, module: object, xs: list[np.ndarray]) -> float:
        """The size of the products the module's outputs sum."""

    def normalized_scale(self, module: object, xs: list[np.ndarray], cotangent: np.ndarray | None = None) -> float:
        """The size of the terms a normalization's outputs (with `cotangent`: its input gradients) are the
        difference of."""

    def float64_gradients(self, module: object, xs: list[np.ndarray], cotangent: np.ndarray, training: bool
                          ) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """The case's input and parameter gradients in float64."""

    def gradient_terms(self, module: object, xs: list[np.ndarray], cotangent: np.ndarray, training: bool
                       ) -> dict[str, float]:
        """Per gradient, the size of the terms it sums."""

    def optimizer_path(self, entry: object, theta: np.ndarray, gradients: np.ndarray, params: dict, kept: frozenset,
                       checkpoints: tuple[int, ...]) -> list[np.ndarray]:
        """The parameters after each checkpoint step of the optimizer registry entry, fed `gradients` in turn."""


class Cases(Protocol):
    """A layer-suite side measured against the reference: the case built with the reference's weights, run."""

    def build(self, block: object, params: dict, kept: frozenset) -> object:
        """The case's model; `kept` differences left in."""

    def layer_weights(self, model: object, name: str) -> list[np.ndarray]:
        """A named layer's arrays."""

    def set_layer_weights(self, model: object, name: str, arrays: list[np.ndarray]) -> None:
        """A named layer's arrays, in place."""

    def is_depthwise(self, model: object, name: str) -> bool:
        """Whether the named layer is a depthwise convolution (its kernel's layout differs)."""

    def forward(self, model: object, xs: list[np.ndarray], training: bool) -> np.ndarray:
        """The model's output on the NHWC inputs."""

    def gradients(self, model: object, names: list[str], xs: list[np.ndarray], cotangent: np.ndarray, training: bool
                  ) -> tuple[list[np.ndarray], dict[str, list[np.ndarray]]]:
        """Gradients of sum(output * cotangent): per input, and per named layer its trainable weights'."""

    def optimizer_path(self, entry: object, theta: np.ndarray, gradients: np.ndarray, params: dict, kept: frozenset,
                       checkpoints: tuple[int, ...]) -> list[np.ndarray]:
        """As the reference's."""

    def case_on_cpu(self, block_name: str, params: dict, weights: dict[str, list[np.ndarray]], check: str,
                    cotangent: np.ndarray | None, kept: list[str] = ()) -> tuple:
        """A case by registry name, holding `weights`, on the CPU in fp32: what a child process serves."""

    def optimizer_on_cpu(self, optimizer_name: str, params: dict, checkpoints: tuple[int, ...]) -> list[np.ndarray]:
        """A harmonized optimizer case's path by registry name, on the CPU: what a child process serves."""


ROLES: dict[str, type] = {"runner": Runner, "weights": Weights, "gradients": Gradients,
                          "reference logits": ReferenceLogits,
                          "reference gradients": ReferenceGradients, "layers": Layers,
                          "reference layers": ReferenceLayers,
                          "training": Training, "checkpoints": Checkpoints, "published loading": PublishedLoading,
                          "user models": UserModels}
# What the trial suite's paired training needs of a side.
TRAINING_ROLES = ("runner", "weights", "gradients", "layers", "training", "checkpoints", "published loading")


def functions(role: type) -> list[str]:
    """The functions a role asks for."""
    return [name for name, member in vars(role).items() if callable(member) and not name.startswith("_")]


def roles_of(adapter: object) -> tuple[str, ...]:
    """The roles whose every function `adapter` has."""
    return tuple(name for name, role in ROLES.items()
                 if all(callable(getattr(adapter, function, None)) for function in functions(role)))

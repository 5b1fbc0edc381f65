"""The harmonization knobs of paired training: each removes one named difference between
the published PyTorch and Keras trainings, and can be switched on alone.

What each knob does is declared here once, as the functions below the table: the framework adapters ask
them (the BatchNorm epsilon torch takes, the momentum Keras takes, ...) and hold no knob logic of their own.

Knobs that remove a difference of the catalogue (cwtest.registries.differences) carry its name there;
the layer suite demonstrates those one block at a time, the trial suite measures what they
do to a whole training run.
"""

from __future__ import annotations

from dataclasses import dataclass

from cwtest.core.errors import InputError
from cwtest.core.training_loop import torch_epsilon
from cwtest.registries.architectures import REGISTRY

OPTION = "--crossedwires-harmonize"


@dataclass(frozen=True)
class Knob:
    name: str
    removes: str  # the difference, one line
    side: str  # whose training it changes: "torch", "keras" (on any Keras backend) or "both"
    catalogue: str | None = None  # its entry in cwtest.registries.differences.DIFFERENCES, where it has one
    # The cwtest.registries.architectures.Architecture fact an architecture must have for the knob to change
    # anything in it (None: every architecture).
    needs: str | None = None

    def applies_to(self, arch: str) -> bool:
        return self.needs is None or getattr(REGISTRY[arch], self.needs)


KNOBS = {k.name: k for k in (
    Knob("init", "independent random initializations (torch's and Keras's default initializers): "
                 "the torch side's initial weights are copied into the Keras model", "keras"),
    Knob("architecture", "ResNet50 v1.5 (torchvision) against v1 (keras.applications), MobileNetV2's and "
                         "EfficientNetB0's stride-2 paddings (symmetric against TensorFlow's 'same'): the Keras side "
                         "is rebuilt with torch's structure; VGG16 and DenseNet121 already share theirs", "keras",
         needs="structure_differs"),
    Knob("dropout", "torch VGG16 keeps two Dropout(0.5) layers in its head (MobileNetV2 and EfficientNetB0 a "
                    "Dropout(0.2), EfficientNetB0 stochastic depth too), Keras VGG16 none: torch's dropout is set to "
                    "p=0 (the torch-structured Keras EfficientNetB0 the architecture knob builds drops nothing)",
         "torch",
         needs="torch_dropout"),
    Knob("loss", "Keras trains on its softmax output with SparseCategoricalCrossentropy, torch on logits: "
                 "the Keras head returns logits and the loss takes from_logits=True", "keras",
         catalogue="softmax_loss_clipping"),
    Knob("bn_momentum", "BatchNorm running statistics keep 0.9 of the old value in torch, 0.99 in Keras: "
                        "Keras momentum set to 0.9", "keras", catalogue="bn_momentum", needs="batch_norm"),
    Knob("bn_epsilon", "BatchNorm epsilon 1e-5 in torch, 1.001e-5 in keras.applications (1e-3 in MobileNetV2): "
                       "torch takes Keras's", "torch",
         catalogue="bn_epsilon", needs="batch_norm"),
    Knob("adam_epsilon", "Keras adds epsilon to sqrt(v) before bias correction, torch after it: torch's "
                         "epsilon is set to eps / sqrt(1 - beta2^t) before step t", "torch", catalogue="adam_epsilon"),
    Knob("deterministic", "non-deterministic kernels: torch.use_deterministic_algorithms and TensorFlow op "
                          "determinism are switched on (TensorFlow's stays on for the rest of the process)", "both"),
)}
# The harmonized protocol switches every knob on.
ALL = frozenset(KNOBS)


def parse_knobs(text: str, option: str = OPTION) -> frozenset[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOBS and n not in ("all", "none")]
    if unknown:
        raise InputError(f"{option}: unknown knob {', '.join(unknown)} (known: {', '.join(KNOBS)}, all, none)")
    return ALL if "all" in names else frozenset(n for n in names if n != "none")


def keras_flavour(arch: str, knobs: frozenset[str]) -> str:
    """The architecture flavour the Keras side is built from: torch's structure only where it differs."""
    return "matched" if "architecture" in knobs and REGISTRY[arch].structure_differs else "published"


def torch_bn_epsilon(arch: str, knobs: frozenset[str]) -> float | None:
    """The BatchNorm epsilon the torch side takes with the bn_epsilon knob (None: keep torch's).

    The published Keras model's (Architecture.keras_bn_epsilon: 1.001e-5 in keras.applications, 1e-3 in its
    MobileNetV2); a torch-structured Keras rebuild (the matched flavours) already uses torch's 1e-5.
    """
    if "bn_epsilon" not in knobs or keras_flavour(arch, knobs) == "matched":
        return None
    return REGISTRY[arch].keras_bn_epsilon


TORCH_BN_MOMENTUM = 0.9  # torch's momentum=0.1 in Keras's convention


def keras_bn_momentum(arch: str, knobs: frozenset[str]) -> float:
    """The momentum of the Keras side's BatchNorm layers: torch's with bn_momentum, else the published Keras
    model's (Architecture.keras_bn_momentum), on a torch-structured rebuild too, so that the architecture knob
    changes the structure alone."""
    return TORCH_BN_MOMENTUM if "bn_momentum" in knobs else REGISTRY[arch].keras_bn_momentum


def torch_dropout_off(knobs: frozenset[str]) -> bool:
    """The torch side's Dropout modules get p=0 (kept as modules, so that state dicts stay the published ones)."""
    return "dropout" in knobs


def keras_trains_on_logits(knobs: frozenset[str]) -> bool:
    """The Keras head returns logits and its loss takes from_logits=True, as torch's does."""
    return "loss" in knobs


def torch_adam_epsilon(epsilon: float, step: int, knobs: frozenset[str]) -> float:
    """The epsilon torch's Adam takes at step `step` (1-based): with adam_epsilon, the one that makes its update
    Keras's epsilon-hat update; else the trial's own."""
    return torch_epsilon(epsilon, step) if "adam_epsilon" in knobs else epsilon


def deterministic_kernels(knobs: frozenset[str]) -> bool:
    return "deterministic" in knobs


def side_knobs(arch: str, knobs: frozenset[str], api: str) -> frozenset[str]:
    """The knobs among `knobs` that change how the side of a torch/Keras pair of `arch` that runs `api`'s
    models ("torch" or "keras", cwtest.frameworks.sides.Side.api) trains. Two runs that give a side the same
    set train that side the same way."""
    return frozenset(name for name in knobs if KNOBS[name].side in (api, "both")
                     and KNOBS[name].applies_to(arch))

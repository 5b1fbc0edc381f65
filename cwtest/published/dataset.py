"""The CrossedWires dataset's Python API, on a local copy: the published package's calls, without its bugs.

    from cwtest.published.dataset import CrossedWires

    with CrossedWires("crossed-wires.zip") as data:            # or the unpacked folder
        table = data.trials("densenet121")                     # the W&B export, one row per trial
        [name] = data.lookup("densenet121", epochs=2, batch_size=589, learning_rate=0.05955, adam_epsilon=0.375)
        torch_model = data.torch_model("densenet121", name)    # eval mode, on the CPU unless told
        keras_model = data.keras_model("densenet121", name)    # channels-last Keras 3, softmax head
        spaces = data.search_history("densenet121")            # Ray Tune's table per subspace

What differs from the published package (crossedwires, `VGG16Dataset()` and its siblings): its
`trial_lookup` fails (it reads `self.wandb_dataframe` without calling it) and compares floats exactly,
so a learning rate typed to the digits a table prints matches nothing; here `lookup` works, and a value
matches a stored one that rounds to it. Its `num=0` returns every subspace (`if not num`); here
subspace 0 is subspace 0. It downloads into fixed `/tmp` names and reuses whatever is there unchecked;
here nothing is downloaded, and a zip is read in place (a trial's SavedModel extracted alone, to a
temporary folder). Its optimizer results are unpickled on every call; here only with `unpickle=True`,
because unpickling runs whatever code the file names.
"""

from __future__ import annotations

import io
import pickle
from decimal import Decimal
from pathlib import Path

from cwtest.frameworks import adapter_for, keras_in_this_process
from cwtest.frameworks.sides import Side, keras_in_process
from cwtest.core.errors import InputError
from cwtest.inputs.trials import ARCHITECTURES
from cwtest.published import layout, savedmodel


def as_given(stored: float, given: float) -> bool:
    """Whether `stored` reads as `given` when rounded to the decimal places `given` is written with: the paper
    prints 0.05955 for a learning rate stored as 0.059550093666960485, and that finds it."""
    places = -Decimal(repr(float(given))).as_tuple().exponent
    return round(float(stored), max(places, 0)) == float(given)


def _known(arch: str) -> str:
    if arch not in ARCHITECTURES:
        raise InputError(f"unknown architecture {arch!r}; the dataset has {', '.join(ARCHITECTURES)}")
    return arch


class CrossedWires:
    """A local copy of the published dataset: its unpacked folder, or its zip archive."""

    def __init__(self, root: str | Path):
        path = Path(root)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        self.root = layout.Root(path)

    def __repr__(self) -> str:
        return f"CrossedWires({str(self.root.path)!r})"

    def trials(self, arch: str):
        """The architecture's W&B export as a DataFrame: every trial with its hyperparameters and results."""
        import pandas as pd

        relative = layout.export_file(_known(arch))
        if not self.root.exists(relative):
            raise InputError(f"{self.root.describe(relative)}: not in the dataset")
        return pd.read_csv(io.BytesIO(self.root.read(relative)))

    def lookup(self, arch: str, *, epochs: int | None = None, learning_rate: float | None = None,
               batch_size: int | None = None, adam_epsilon: float | None = None) -> list[str]:
        """Names of the trials with these hyperparameters (those given), each float compared `as_given`."""
        table = self.trials(arch)
        wanted = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
                  "adam_epsilon": adam_epsilon}
        names = []
        for _, row in table.iterrows():
            if all(value is None or as_given(row[column], value)
                   for column, value in wanted.items()):
                names.append(str(row["Name"]))
        return names

    def trial_names(self, arch: str) -> list[str]:
        """The trials whose trained models are in this copy."""
        return self.root.trials(_known(arch))

    def _present(self, relative: str) -> None:
        if not self.root.exists(relative):
            raise InputError(f"{self.root.describe(relative)}: not in the dataset")

    def torch_model(self, arch: str, trial: str, device: str = "cpu"):
        """The trial's trained torch model (the published definition), in eval mode, on `device`."""
        return self.model(arch, trial, Side("torch", device))

    def keras_model(self, arch: str, trial: str, device: str = "cpu"):
        """The trial's trained Keras model, rebuilt channels-last in Keras 3 (on the backend this process runs
        Keras on) with its saved variables. Call it with training=False; its softmax head returns probabilities."""
        with keras_in_this_process():  # a model of this process, for the caller to use as any Keras model
            return self.model(arch, trial, keras_in_process(device))

    def model(self, arch: str, trial: str, side: Side):
        """The trial's trained model of the side's framework, through the side's adapter (its published loading):
        a torch side gets the state dict's bytes, a Keras side the SavedModel's variables read as arrays."""
        relative, stored = getattr(self, f"_stored_{side.api}")(_known(arch), trial)
        return adapter_for(side).load_published(arch, stored, self.root.describe(relative), side)

    # What the dataset stores for each model code (Side.api), read as plain data.
    def _stored_torch(self, arch: str, trial: str) -> tuple[str, bytes]:
        relative = layout.torch_file(arch, trial)
        self._present(relative)
        return relative, self.root.read(relative)

    def _stored_keras(self, arch: str, trial: str) -> tuple[str, object]:
        relative = layout.keras_folder(arch, trial)
        self._present(relative)
        with self.root.extracted(relative) as folder:  # read whole into arrays, so an extracted copy can go
            return relative, savedmodel.read(folder, self.root.describe(relative))

    def search_history(self, arch: str, subspace: int | None = None) -> list:
        """Ray Tune's results table of each searched subspace, in subspace order (space<i>.csv); with
        `subspace`, that one's alone (0 is the first, not every one)."""
        import pandas as pd

        folder = layout.architecture_folder(_known(arch))
        chosen = self.root.subspaces(arch) if subspace is None else [subspace]
        return [pd.read_csv(io.BytesIO(self.root.read(f"{folder}/space{i}.csv"))) for i in chosen]

    def optimizer_results(self, arch: str, *, unpickle: bool = False) -> list:
        """Each subspace's scikit-optimize OptimizeResult. These are pickles: loading one runs whatever
        code it names, so it happens only with unpickle=True, for a copy you trust."""
        if not unpickle:
            raise InputError("optimizer_results: the results are pickles, and unpickling runs the code they name; "
                             "pass unpickle=True for a copy of the dataset you trust")
        folder = layout.architecture_folder(_known(arch))
        return [pickle.loads(self.root.read(f"{folder}/optimizer_result{i}.pkl")) for i in self.root.subspaces(arch)]

    def close(self) -> None:
        self.root.close()

    def __enter__(self) -> CrossedWires:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

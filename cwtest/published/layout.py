"""Where the published CrossedWires dataset keeps each file, in an unpacked folder or read in place from
its zip archive.

The layout is the one the published training scripts wrote and the published API reads
(cross_framework_hpo/parameter_sweep.py, crossed_wires/base_class.py), under one root:

    cifar10/<vgg|resnet|densenet>_lambda/model_weights/<trial>.pt_model.pt   torch.save(state_dict())
    cifar10/<vgg|resnet|densenet>_lambda/model_weights/<trial>tf_model/      tf.keras model.save() SavedModel
    cifar10/<vgg|resnet|densenet>_lambda/space<i>.csv                        Ray Tune results, subspace i
    cifar10/<vgg|resnet|densenet>_lambda/optimizer_result<i>.pkl             pickled skopt OptimizeResult
    wandb_exports/<vgg|resnet|densenet>_cifar10_wandb_export.csv             every trial, as logged

The archive may hold that root under a top folder; it is found by where `cifar10/` starts.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from cwtest.core.errors import InputError

# cwtest architecture -> the prefix the published files use for it
PREFIXES = {"vgg16": "vgg", "resnet50": "resnet", "densenet121": "densenet"}
SUBSPACE = re.compile(r"space(\d+)\.csv$")


def architecture_folder(arch: str) -> str:
    return f"cifar10/{PREFIXES[arch]}_lambda"


def torch_file(arch: str, trial: str) -> str:
    return f"{architecture_folder(arch)}/model_weights/{trial}.pt_model.pt"


def keras_folder(arch: str, trial: str) -> str:
    return f"{architecture_folder(arch)}/model_weights/{trial}tf_model"


def export_file(arch: str) -> str:
    return f"wandb_exports/{PREFIXES[arch]}_cifar10_wandb_export.csv"


def is_published_root(path: Path) -> bool:
    """A zip archive, or a folder with the published `cifar10/<arch>_lambda/` folders."""
    if path.is_file():
        return zipfile.is_zipfile(path)
    return any((path / architecture_folder(arch)).is_dir() for arch in PREFIXES)


class Root:
    """One published dataset root. Paths are the layout's, relative to the root, with `/`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if self.path.is_file():
            if not zipfile.is_zipfile(self.path):
                raise InputError(f"{self.path}: not a zip archive or a folder of the published CrossedWires dataset")
            self._zip = zipfile.ZipFile(self.path)
            self._prefix = self._find_prefix()
        elif not is_published_root(self.path):
            raise InputError(f"{self.path}: no cifar10/<vgg|resnet|densenet>_lambda/ folder in it; give the "
                             f"unpacked CrossedWires dataset (or its zip archive)")

    def _find_prefix(self) -> str:
        for name in self._zip.namelist():
            at = name.find("cifar10/")
            if at >= 0 and (at == 0 or name[at - 1] == "/"):
                return name[:at]
        raise InputError(f"{self.path}: the archive holds no cifar10/ folder; it is not the CrossedWires dataset")

    def __repr__(self) -> str:
        return f"Root({str(self.path)!r})"

    def __reduce__(self):
        """Pickled as its path (an open archive cannot be): a child process opens the root anew."""
        return Root, (self.path,)

    def describe(self, relative: str) -> str:
        """A file's name for a message: inside the archive, or on disk."""
        return f"{self.path}:{self._prefix}{relative}" if self._zip else str(self.path / relative)

    def exists(self, relative: str) -> bool:
        if self._zip is None:
            return (self.path / relative).exists()
        name = self._prefix + relative
        return any(n == name or n.startswith(name.rstrip("/") + "/") for n in self._zip.namelist())

    def read(self, relative: str) -> bytes:
        if self._zip is None:
            try:
                return (self.path / relative).read_bytes()
            except OSError as error:
                raise InputError(f"{self.describe(relative)}: cannot read ({error.strerror})") from None
        try:
            return self._zip.read(self._prefix + relative)
        except KeyError:
            raise InputError(f"{self.describe(relative)}: not in the archive") from None

    def listing(self, relative: str) -> list[str]:
        """The names directly inside a folder of the layout, sorted."""
        if self._zip is None:
            folder = self.path / relative
            return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        start = self._prefix + relative.rstrip("/") + "/"
        return sorted({n[len(start):].split("/")[0] for n in self._zip.namelist()
                       if n.startswith(start) and len(n) > len(start)})

    @contextmanager
    def extracted(self, relative: str) -> Iterator[Path]:
        """A folder of the layout on disk for the time of a `with`: itself when unpacked; from an archive,
        only its own members, extracted to a private temporary folder that is removed afterwards."""
        if self._zip is None:
            yield self.path / relative
            return
        start = self._prefix + relative.rstrip("/") + "/"
        members = [n for n in self._zip.namelist() if n.startswith(start) and not n.endswith("/")]
        if not members:
            raise InputError(f"{self.describe(relative)}: not in the archive")
        with tempfile.TemporaryDirectory(prefix="cwtest-crossedwires-") as scratch:
            target = Path(scratch) / "folder"
            for name in members:
                inner = PurePosixPath(name[len(start):])
                if inner.is_absolute() or ".." in inner.parts:  # a crafted member name must not escape the scratch folder
                    raise InputError(f"{self.path}: member {name!r} points outside its folder")
                destination = target.joinpath(*inner.parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with self._zip.open(name) as source, open(destination, "wb") as out:
                    shutil.copyfileobj(source, out)
            yield target

    def trials(self, arch: str) -> list[str]:
        """The trials whose torch state dict is in the root, by name."""
        suffix = ".pt_model.pt"
        return [n[:-len(suffix)] for n in self.listing(f"{architecture_folder(arch)}/model_weights") if n.endswith(suffix)]

    def subspaces(self, arch: str) -> list[int]:
        found = (SUBSPACE.fullmatch(n) for n in self.listing(architecture_folder(arch)))
        return sorted(int(m.group(1)) for m in found if m)

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Root:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

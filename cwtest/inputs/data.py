"""CIFAR-10 for both frameworks: one loader, one set of uint8 NHWC arrays.

Reads the official "python version" folder (`cifar-10-batches-py`), whichever key style
its pickles were written with, and records whether the files are the official ones (md5).
The pickles are read by an unpickler that builds numpy arrays and plain containers only, so
a crafted file in the folder is refused instead of running code.
Without a folder, a synthetic CIFAR-shaped set with learnable class structure stands in.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cwtest.core.errors import InputError
from cwtest.inputs.budgets import Budget

OPTION = "--crossedwires-data"
FOLDER = "cifar-10-batches-py"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
NUM_CLASSES = len(CLASSES)
IMAGE_SIZE = 32  # the models' input side; the Keras side is channels last (TensorFlow runs CPU convolutions only in NHWC)
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
# The md5 sums of the official download (as torchvision checks them).
OFFICIAL_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
SYNTHETIC = "synthetic"
# The function numpy pickles arrays with, wherever this numpy version keeps it.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
# Every global a CIFAR-10 pickle refers to: numpy's array and dtype rebuilders. The official files
# (Python 2, numpy 1.x) name numpy.core.multiarray, files written under numpy 2 numpy._core.multiarray.
_ARRAY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


@dataclass(frozen=True, eq=False)
class Cifar10:
    x_train: np.ndarray  # (N, 32, 32, 3) uint8
    y_train: np.ndarray  # (N,) int64 in 0..9
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # folder path or "synthetic"
    official: bool | None  # md5 sums all match the official files; None for synthetic data

    def subset(self, budget: Budget) -> "Cifar10":
        """The budget's class-balanced, deterministic share of both splits."""
        return Cifar10(*_balanced(self.x_train, self.y_train, budget.train_images),
                       *_balanced(self.x_test, self.y_test, budget.test_images),
                       source=self.source, official=self.official)


def find_folder(path: str | Path) -> Path:
    """The `cifar-10-batches-py` folder at or inside `path`, with every expected file."""
    path = Path(path)
    folder = path / FOLDER if (path / FOLDER).is_dir() else path
    if not folder.is_dir():
        raise InputError(f"{OPTION}: no such folder: {path}")
    missing = [f for f in (*TRAIN_FILES, TEST_FILE, META_FILE) if not (folder / f).is_file()]
    if missing:
        raise InputError(f"{OPTION}: {folder} is not a CIFAR-10 python-version folder "
                         f"(missing {', '.join(missing)})")
    return folder


@functools.lru_cache(maxsize=2)
def load_cifar10(path: str) -> Cifar10:
    folder = find_folder(path)
    digests = {}
    parts = {}
    for name in (*TRAIN_FILES, TEST_FILE, META_FILE):
        raw = (folder / name).read_bytes()
        digests[name] = hashlib.md5(raw).hexdigest()
        parts[name] = _unpickle(raw, folder / name)
    _check_meta(parts[META_FILE], folder / META_FILE)
    train = [_images(parts[n], folder / n) for n in TRAIN_FILES]
    x_test, y_test = _images(parts[TEST_FILE], folder / TEST_FILE)
    return Cifar10(np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]),
                   x_test, y_test, source=str(folder), official=digests == OFFICIAL_MD5)


class _Refused(pickle.UnpicklingError):
    """A pickle named a global outside _ARRAY_GLOBALS; the message is its dotted name."""


class _ArrayUnpickler(pickle.Unpickler):
    """Builds dicts, lists, tuples, strings, numbers and numpy arrays, nothing else: a pickle can
    only call what find_class hands out, so a crafted file cannot run code (os.system, open, ...)."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ARRAY_GLOBALS:
            return _ARRAY_GLOBALS[module, name]
        raise _Refused(f"{module}.{name}")


def _unpickle(raw: bytes, file: Path) -> dict:
    try:
        # encoding="bytes" reads the official Python 2 pickles; keys may then be bytes or str.
        content = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except _Refused as exc:
        raise InputError(f"{OPTION}: {file} refers to {exc}, which a CIFAR-10 pickle never does; "
                         "refused to load it (only numpy arrays, lists, dicts, strings and numbers)") from None
    except Exception:  # a truncated pickle raises EOFError, UnpicklingError, ValueError, ...
        raise InputError(f"{OPTION}: {file} is truncated or not a CIFAR-10 pickle") from None
    if not isinstance(content, dict):
        raise InputError(f"{OPTION}: {file} does not hold a CIFAR-10 batch dictionary")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in content.items()}


def _check_meta(meta: dict, file: Path) -> None:
    names = [n.decode("latin1") if isinstance(n, bytes) else n for n in meta.get("label_names", [])]
    if tuple(names) != CLASSES:
        raise InputError(f"{OPTION}: {file} does not list the ten CIFAR-10 classes in official order")


def _images(batch: dict, file: Path) -> tuple[np.ndarray, np.ndarray]:
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise InputError(f"{OPTION}: {file} has no 'data' array and 'labels' list")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise InputError(f"{OPTION}: {file}: expected uint8 data of shape (N, 3072) with N labels, "
                         f"got {data.dtype} {data.shape} with {len(labels)} labels")
    y = np.asarray(labels, dtype=np.int64)
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise InputError(f"{OPTION}: {file}: labels outside 0..9")
    # Each row is 1024 red, 1024 green, 1024 blue values: CHW, turned into HWC here.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), y


@functools.lru_cache(maxsize=2)
def synthetic_cifar10(train: int = 5000, test: int = 1000, seed: int = 0) -> Cifar10:
    """CIFAR-shaped images whose class is learnable: a smooth per-class pattern under noise."""
    rng = np.random.default_rng(seed)
    # One 4x4 colour pattern per class, blown up to 32x32: coarse structure a CNN picks up fast.
    patterns = np.kron(rng.normal(size=(10, 4, 4, 3)), np.ones((1, 8, 8, 1)))

    def split(count: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(count, dtype=np.int64) % 10
        rng.shuffle(y)
        pixels = 128 + 40 * patterns[y] + 35 * rng.normal(size=(count, 32, 32, 3))
        return np.clip(pixels, 0, 255).astype(np.uint8), y

    return Cifar10(*split(train), *split(test), source=SYNTHETIC, official=None)


def _balanced(x: np.ndarray, y: np.ndarray, count: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` images of a fixed order that interleaves the classes evenly."""
    if count is None or count >= len(y):
        return x, y
    order = np.random.default_rng(0).permutation(len(y))
    rank = np.empty(len(y), dtype=np.int64)
    for label in range(10):  # the k-th image of every class comes before any (k+1)-th
        members = order[y[order] == label]
        rank[members] = np.arange(len(members))
    keep = np.sort(np.lexsort((np.argsort(order), rank))[:count])
    return x[keep], y[keep]

"""The CIFAR-10 loader on real files built from the shared JPEGs, and on broken ones."""

import builtins
import os
import pickle
import shutil

import numpy as np
import pytest

from cwtest.core.errors import InputError
from cwtest.inputs.budgets import BUDGETS
from cwtest.inputs.data import CLASSES, META_FILE, TEST_FILE, TRAIN_FILES, load_cifar10, synthetic_cifar10


def _copy(folder, tmp_path):
    target = tmp_path / "cifar-10-batches-py"
    shutil.copytree(folder, target)
    load_cifar10.cache_clear()
    return target


def test_real_folder(cifar10_folder):
    data = load_cifar10(str(cifar10_folder.parent))  # the parent of cifar-10-batches-py works too
    assert data.x_train.dtype == np.uint8 and data.x_train.shape[1:] == (32, 32, 3)
    assert len(data.x_train) == len(data.y_train) and len(data.x_test) == len(data.y_test)
    assert set(np.unique(data.y_train)) == set(range(10))
    assert data.official is False  # re-encoded JPEGs are not the official files
    assert 100 < data.x_train.mean() < 140  # CIFAR-10's mean pixel is 120.7


def test_matches_keras_reader(cifar10_folder):
    """Keras's own batch reader sees the same images, in the same layout, with the same labels."""
    from cwtest.frameworks import imports

    imports.keras()
    from keras.src.datasets.cifar import load_batch  # what keras.datasets.cifar10 reads with

    x, y = load_batch(str(cifar10_folder / "test_batch"))
    data = load_cifar10(str(cifar10_folder))
    np.testing.assert_array_equal(x.transpose(0, 2, 3, 1), data.x_test)
    np.testing.assert_array_equal(np.asarray(y), data.y_test)


def test_str_keys_written_by_python3(cifar10_folder, tmp_path):
    folder = _copy(cifar10_folder, tmp_path)
    for name in (*TRAIN_FILES, "test_batch"):
        with open(folder / name, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        batch = {k.decode(): v for k, v in batch.items()}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=4))
    original = load_cifar10(str(cifar10_folder))
    rewritten = load_cifar10(str(folder))
    np.testing.assert_array_equal(original.x_train, rewritten.x_train)
    np.testing.assert_array_equal(original.y_test, rewritten.y_test)


def test_files_written_under_numpy_1_load(cifar10_folder, tmp_path):
    """The official files name numpy.core.multiarray; the tool, under numpy 2, numpy._core.multiarray."""
    folder = _copy(cifar10_folder, tmp_path)
    for name in (*TRAIN_FILES, TEST_FILE):
        raw = (folder / name).read_bytes()
        assert b"numpy._core.multiarray\n_reconstruct" in raw
        (folder / name).write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    original, rewritten = load_cifar10(str(cifar10_folder)), load_cifar10(str(folder))
    np.testing.assert_array_equal(original.x_train, rewritten.x_train)
    np.testing.assert_array_equal(original.y_test, rewritten.y_test)


class _Calls:
    """Unpickling it calls `function(*args)`, as a crafted pickle can ask for anything importable."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def crafted_folder(path, marker, how: str = "os.system"):
    """A CIFAR-10 folder whose data_batch_1, once unpickled, creates `marker`; the other files are empty."""
    folder = path / "cifar-10-batches-py"
    folder.mkdir()
    for name in (*TRAIN_FILES, TEST_FILE, META_FILE):
        (folder / name).write_bytes(b"")
    call = _Calls(os.system, f"touch {marker}") if how == "os.system" else _Calls(builtins.open, str(marker), "w")
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": call, "labels": [0]}, protocol=2))
    return folder


@pytest.mark.parametrize("how, named", [("os.system", "posix.system"), ("open", "io.open")])
def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path, how, named):
    marker = tmp_path / "created-by-the-pickle"
    folder = crafted_folder(tmp_path, marker, how)
    load_cifar10.cache_clear()
    with pytest.raises(InputError) as refused:
        load_cifar10(str(folder))
    assert not marker.exists()
    assert str(refused.value) == (
        f"--crossedwires-data: {folder / 'data_batch_1'} refers to {named}, which a CIFAR-10 pickle never does; "
        "refused to load it (only numpy arrays, lists, dicts, strings and numbers)")
    pickle.loads((folder / "data_batch_1").read_bytes())  # what a plain unpickler would have done
    assert marker.exists()


def test_crafted_pickle_stops_the_run_before_any_test(pytester):
    marker = pytester.path / "created-by-the-pickle"
    folder = crafted_folder(pytester.path, marker)
    pytester.makepyfile(test_x=f"def test_t(): open({str(pytester.path / 'test-ran')!r}, 'w').close()")
    for extra in ([], ["-n", "2"]):
        result = pytester.runpytest("--crossedwires-data", str(folder), *extra)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert [line for line in result.stderr.lines if line.strip()] == [
            f"ERROR: --crossedwires-data: {folder / 'data_batch_1'} refers to posix.system, which a CIFAR-10 "
            "pickle never does; refused to load it (only numpy arrays, lists, dicts, strings and numbers)"]
        assert not marker.exists() and not (pytester.path / "test-ran").exists()


def test_missing_file(cifar10_folder, tmp_path):
    folder = _copy(cifar10_folder, tmp_path)
    (folder / "data_batch_3").unlink()
    with pytest.raises(InputError, match="not a CIFAR-10 python-version folder \\(missing data_batch_3\\)"):
        load_cifar10(str(folder))


def test_truncated_batch(cifar10_folder, tmp_path):
    folder = _copy(cifar10_folder, tmp_path)
    raw = (folder / "data_batch_2").read_bytes()
    (folder / "data_batch_2").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="data_batch_2 is truncated or not a CIFAR-10 pickle"):
        load_cifar10(str(folder))


def test_wrong_meta(cifar10_folder, tmp_path):
    folder = _copy(cifar10_folder, tmp_path)
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(reversed(CLASSES))}))
    with pytest.raises(InputError, match="does not list the ten CIFAR-10 classes"):
        load_cifar10(str(folder))


def test_not_a_folder(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        load_cifar10(str(tmp_path / "nowhere"))


def test_budget_subsets_are_balanced_and_stable(cifar10_folder):
    data = load_cifar10(str(cifar10_folder))
    smoke = data.subset(BUDGETS["smoke"])
    assert len(smoke.y_train) == 500 and len(smoke.y_test) == 250
    assert set(np.bincount(smoke.y_train)) == {50}
    again = data.subset(BUDGETS["smoke"])
    np.testing.assert_array_equal(smoke.x_train, again.x_train)
    assert data.subset(BUDGETS["full"]).x_train.shape == data.x_train.shape


def test_synthetic_classes_are_learnable():
    """A nearest-class-mean classifier fitted on the training split beats chance by far."""
    data = synthetic_cifar10()
    x_train = data.x_train.reshape(len(data.x_train), -1).astype(np.float64)
    x_test = data.x_test.reshape(len(data.x_test), -1).astype(np.float64)
    means = np.stack([x_train[data.y_train == c].mean(axis=0) for c in range(10)])
    distances = ((x_test[:, None, :] - means[None]) ** 2).sum(axis=2)
    assert np.mean(distances.argmin(axis=1) == data.y_test) > 0.5
    assert synthetic_cifar10() is data  # built once per process

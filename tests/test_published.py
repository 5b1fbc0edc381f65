"""The published CrossedWires dataset as it is: a root written the way the published code wrote it
(cwtest.published.fixture: tf.keras 2 under channels_first, torch.save of state dicts tagged cuda:0, a
real scikit-optimize result), read back by the reader, the API and the suites."""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cwtest.core.errors import InputError
from cwtest.registries.tolerances import DEFAULTS
from cwtest.core.accuracy import accuracy, published_accuracy

REPO = Path(__file__).resolve().parent.parent
TRIALS = REPO / "suites" / "trials" / "test_training.py"
# The built-in table's first trial per architecture: what the fixture writer writes by default.
WRITTEN = {"vgg16": "dual_train_5e67eae2", "resnet50": "paper_table5_top1", "densenet121": "dual_train_a0e76fd4"}
KERAS_MODEL = "cifar10/{prefix}_lambda/model_weights/{trial}tf_model"
PREFIX = {"vgg16": "vgg", "resnet50": "resnet", "densenet121": "densenet"}


@pytest.fixture(scope="session")
def published_root(tmp_path_factory, worker_id) -> Path:
    """One root with a trial per architecture (and its zip, and the Keras twins), written once per run:
    xdist workers share it through a lock, since writing three architectures takes minutes."""
    for module, what, install in (("tf_keras", "tf_keras (tf.keras 2, as published)", "--no-deps tf-keras"),
                                  ("skopt", "scikit-optimize", "'cwtest[published]'")):
        # found, not imported: TensorFlow (which tf_keras imports) must come after torch's stack in a process
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"writing a root the published way needs {what}: pip install {install} -c constraints.txt")
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    root = shared / "published" / "crossed-wires"
    with FileLock(str(shared / "published.lock")):
        if not root.is_dir():
            root.parent.mkdir(exist_ok=True)
            written = subprocess.run([sys.executable, "-m", "cwtest.published.fixture", str(root), "--zip",
                                      "--twins", str(root.parent / "twins")],
                                     capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            assert written.returncode == 0, written.stderr[-3000:]
    return root


def _images(n: int = 8) -> np.ndarray:
    """NHWC uint8 pixels, as the suites feed them; a model sees them scaled to [0, 1]."""
    return np.random.default_rng(0).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def _keras_logits(model, images: np.ndarray) -> np.ndarray:
    from cwtest.frameworks import keras_in_this_process
    from cwtest.frameworks.sides import keras_in_process
    from cwtest.models.parity import logits

    with keras_in_this_process():  # the published model, opened as a Keras model of this process
        return logits(model, keras_in_process(), images)


def _max_rel(reference: np.ndarray, candidate: np.ndarray) -> float:
    from cwtest.core.metrics import measure

    return measure(reference, candidate).max_rel


@pytest.mark.parametrize("arch", list(WRITTEN))
def test_published_keras_model_computes_its_twins_logits(published_root, arch):
    """The channels-first Keras-2 SavedModel, read onto a channels-last Keras 3 model, gives back the logits
    of the channels-last model its weights came from."""
    from cwtest.published.dataset import CrossedWires
    from cwtest.published.fixture import keras_twin

    with CrossedWires(published_root) as dataset:
        loaded = dataset.keras_model(arch, WRITTEN[arch])
    twin = keras_twin(arch, 0)
    twin.load_weights(str(published_root.parent / "twins" / f"{arch}-{WRITTEN[arch]}.weights.h5"))
    images = _images()
    expected, found = _keras_logits(twin, images), _keras_logits(loaded, images)
    assert np.std(expected) > 0.1 * np.abs(expected).max(), "the twin's logits are flat: the comparison says nothing"
    assert _max_rel(expected, found) <= DEFAULTS["logits_eval"]


def test_published_keras_model_computes_what_tf_keras_computes(published_root):
    """Against the published framework itself: tf.keras loads the SavedModel as the published runs saved it
    (channels_first; TensorFlow 2.21's oneDNN runs NCHW convolutions on a CPU), and its logits are the
    reader's channels-last model's."""
    from cwtest.frameworks import imports
    from cwtest.published.dataset import CrossedWires

    imports.tensorflow()  # torch's stack first, then TensorFlow, then tf_keras on it
    import tf_keras

    arch = "densenet121"  # BatchNorm, concatenation along channels and a global pool: what a layout error breaks
    tf_keras.backend.set_image_data_format("channels_first")
    try:
        original = tf_keras.models.load_model(str(published_root / KERAS_MODEL.format(prefix=PREFIX[arch],
                                                                                      trial=WRITTEN[arch])))
        head = original.get_layer("predictions")
        scaled = _images().transpose(0, 3, 1, 2).astype(np.float32) / 255.0
        features = tf_keras.Model(original.input, head.input)(scaled).numpy()
    finally:
        tf_keras.backend.set_image_data_format("channels_last")
    kernel, bias = head.get_weights()
    expected = features @ kernel + bias
    with CrossedWires(published_root) as dataset:
        found = _keras_logits(dataset.keras_model(arch, WRITTEN[arch]), _images())
    assert _max_rel(expected, found) <= DEFAULTS["logits_eval"]


def test_state_dict_saved_on_cuda_loads_on_the_cpu(published_root):
    """The published state dicts were saved on cuda:0; torch records that tag, and the reader maps it."""
    import torch

    from cwtest.published.dataset import CrossedWires

    path = published_root / "cifar10/vgg_lambda/model_weights" / f"{WRITTEN['vgg16']}.pt_model.pt"
    with zipfile.ZipFile(path) as saved:
        pickled = saved.read(next(n for n in saved.namelist() if n.endswith("data.pkl")))
    assert b"cuda:0" in pickled  # the location tag torch.load restores onto, as a GPU-saved file has
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path, weights_only=True)  # what a plain load does with it on this machine
    with CrossedWires(published_root) as dataset:
        model = dataset.torch_model("vgg16", WRITTEN["vgg16"])
    assert not model.training
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    expected = torch.load(path, map_location="cpu", weights_only=True)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, expected[name]), name


def _keras_weights(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("arch", list(WRITTEN))
def test_zip_and_folder_give_the_same_models(published_root, arch):
    from cwtest.published.dataset import CrossedWires

    models = []
    for source in (published_root, published_root.with_suffix(".zip")):
        with CrossedWires(source) as dataset:
            models.append((dataset.torch_model(arch, WRITTEN[arch]), dataset.keras_model(arch, WRITTEN[arch])))
            assert dataset.trial_names(arch) == [WRITTEN[arch]]
    (torch_a, keras_a), (torch_b, keras_b) = models
    for (name, a), b in zip(torch_a.state_dict().items(), torch_b.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy()), name
    for a, b in zip(_keras_weights(keras_a), _keras_weights(keras_b), strict=True):
        assert np.array_equal(a, b)


def test_zip_reading_leaves_no_extracted_files(published_root, tmp_path, monkeypatch):
    import tempfile

    from cwtest.published.dataset import CrossedWires

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with CrossedWires(published_root.with_suffix(".zip")) as dataset:
        dataset.keras_model("densenet121", WRITTEN["densenet121"])
    assert list(tmp_path.iterdir()) == []


def test_api_reads_tables_and_history(published_root):
    from cwtest.published.dataset import CrossedWires

    with CrossedWires(published_root.with_suffix(".zip")) as dataset:
        table = dataset.trials("densenet121")
        assert list(table["Name"]) == [WRITTEN["densenet121"]]
        assert dataset.lookup("densenet121", batch_size=589) == [WRITTEN["densenet121"]]
        assert dataset.lookup("densenet121", batch_size=590) == []
        [history] = dataset.search_history("densenet121")
        assert history["config/batch_size"].tolist() == [589]
        [first] = dataset.search_history("densenet121", subspace=0)
        assert first.equals(history)
        with pytest.raises(InputError, match="space1.csv: not in the archive"):
            dataset.search_history("densenet121", subspace=1)
        with pytest.raises(InputError, match="unpickle=True"):
            dataset.optimizer_results("densenet121")
        [result] = dataset.optimizer_results("densenet121", unpickle=True)
        assert type(result).__name__ == "OptimizeResult"
        assert result.func_vals.tolist() == pytest.approx([-table["accuracy_diff"][0]])
        with pytest.raises(InputError, match="unknown architecture 'alexnet'"):
            dataset.trials("alexnet")


def test_lookup_finds_a_trial_by_the_digits_the_paper_prints(shared_dir, tmp_path):
    """On the real export: the paper's Table 6 prints the top DenseNet121 trial's learning rate as 0.05955 and
    its epsilon as 0.375, stored as 0.059550093666960485 and 0.3750000062500001; an exact comparison, as the
    published package's, finds nothing."""
    from cwtest.published.dataset import CrossedWires

    (tmp_path / "cifar10" / "densenet_lambda").mkdir(parents=True)
    (tmp_path / "wandb_exports").mkdir()
    shutil.copy(shared_dir / "crossedwires" / "densenet_cifar10_wandb_export.csv", tmp_path / "wandb_exports")
    with CrossedWires(tmp_path) as dataset:
        assert dataset.lookup("densenet121", epochs=2, batch_size=589, learning_rate=0.05955,
                              adam_epsilon=0.375) == ["dual_train_a0e76fd4"]
        assert dataset.lookup("densenet121", epochs=2, learning_rate=0.0596) == ["dual_train_a0e76fd4"]
        assert dataset.lookup("densenet121", learning_rate=0.05956) == []
        assert len(dataset.lookup("densenet121")) == len(dataset.trials("densenet121"))


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("form", ["folder", "zip"])
def test_trial_suite_evaluates_the_published_pairs(pytester, published_root, form):
    source = published_root if form == "folder" else published_root.with_suffix(".zip")
    result = pytester.runpytest_subprocess(str(TRIALS), "-k", "test_published", "--crossedwires-select", "top:1",
                                           "--crossedwires-checkpoints", str(source), "-p", "no:cacheprovider",
                                           "--crossedwires-report", "published.csv")
    result.assert_outcomes(passed=3)
    rows = _rows(pytester.path / "published.csv")
    assert {r["nodeid"].split("[")[1].split("-")[0] for r in rows} == set(WRITTEN)
    for row in rows:
        assert row["loaded_from_checkpoint"] == "1.0"
        for column in ("left_test_acc", "left_published_test_acc", "right_test_acc", "right_published_test_acc",
                       "recorded_pt_test_acc", "recorded_tf_test_acc"):
            assert 0.0 <= float(row[column]) <= 1.0, column
    assert not list(published_root.parent.glob("*.partial")), "the suite wrote into the published root"


def test_trial_suite_skips_a_trial_the_root_lacks(pytester, published_root):
    result = pytester.runpytest_subprocess(str(TRIALS), "-k", "test_published", "--crossedwires-arch", "vgg16",
                                           "--crossedwires-select", "bottom:1", "-rs", "-p", "no:cacheprovider",
                                           "--crossedwires-checkpoints", str(published_root))
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"*no trained pair of this trial in {published_root}; select trials it holds*"])


def test_a_zip_that_is_not_the_dataset_is_refused(pytester):
    archive = pytester.path / "other.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("readme.txt", "not the dataset")
    result = pytester.runpytest_subprocess(str(TRIALS), "--collect-only", "--crossedwires-checkpoints", str(archive))
    result.stderr.fnmatch_lines([f"ERROR: --crossedwires-checkpoints: {archive}: the archive holds no cifar10/ "
                                 f"folder; it is not the CrossedWires dataset"])
    assert result.ret != 0


def test_a_saved_model_of_another_architecture_is_named(published_root, tmp_path):
    from cwtest.published.dataset import CrossedWires

    root = tmp_path / "root"
    mixed = root / KERAS_MODEL.format(prefix="vgg", trial="swapped")
    shutil.copytree(published_root / KERAS_MODEL.format(prefix="densenet", trial=WRITTEN["densenet121"]), mixed)
    with CrossedWires(root) as dataset, pytest.raises(InputError) as refused:
        dataset.keras_model("vgg16", "swapped")
    assert str(refused.value) == f"{mixed}: holds a model named 'densenet121', not a vgg16"


def test_a_damaged_state_dict_is_named(published_root, tmp_path):
    from cwtest.published.dataset import CrossedWires

    root = tmp_path / "root"
    source = published_root / "cifar10/vgg_lambda/model_weights" / f"{WRITTEN['vgg16']}.pt_model.pt"
    target = root / "cifar10/vgg_lambda/model_weights" / "cut.pt_model.pt"
    target.parent.mkdir(parents=True)
    target.write_bytes(source.read_bytes()[:4096])
    with CrossedWires(root) as dataset, pytest.raises(InputError) as refused:
        dataset.torch_model("vgg16", "cut")
    assert str(refused.value).startswith(f"{target}: not a torch state dict (")
    assert "\n" not in str(refused.value)


def test_published_accuracy_is_the_mean_of_batch_accuracies():
    """As the published torch runs measured: the last, smaller batch weighs as much as a full one."""
    labels = np.zeros(5, np.int64)
    predictions = np.array([0, 0, 1, 1, 0])  # batches of 2: 1.0, 0.0, then the single image: 1.0
    assert accuracy(predictions, labels) == pytest.approx(0.6)
    assert published_accuracy(predictions, labels, 2, "torch") == pytest.approx(2 / 3)
    assert published_accuracy(predictions, labels, 2, "keras") == pytest.approx(0.6)  # Keras's evaluate is exact
    assert published_accuracy(predictions, labels, 5, "torch") == pytest.approx(0.6)


def test_transfer_suite_starts_from_the_published_weights(pytester, published_root):
    """The source side of each route takes the trial's trained weights; a flavour they do not fit skips, naming why."""
    suite = REPO / "suites" / "transfer" / "test_transfer.py"
    result = pytester.runpytest_subprocess(str(suite), "-k", "test_logits and not onnxruntime",
                                           "--crossedwires-arch", "vgg16,resnet50", "--crossedwires-flavour", "matched",
                                           "--crossedwires-select", "top:1", "-rs", "-p", "no:cacheprovider",
                                           "--crossedwires-checkpoints", str(published_root.with_suffix(".zip")),
                                           "--crossedwires-report", "transfer.csv")
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(["*paper_table5_top1's keras resnet50 weights do not fit this flavour's keras model*"])
    rows = [r for r in _rows(pytester.path / "transfer.csv") if r["outcome"] == "passed"]
    assert {r["trial"] for r in rows} == {WRITTEN["vgg16"], WRITTEN["resnet50"]}


def test_a_state_dict_of_another_architecture_is_named(tmp_path):
    import torch

    from cwtest.published.dataset import CrossedWires

    target = tmp_path / "cifar10/vgg_lambda/model_weights" / "other.pt_model.pt"
    target.parent.mkdir(parents=True)
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, target)
    with CrossedWires(tmp_path) as dataset, pytest.raises(InputError) as refused:
        dataset.torch_model("vgg16", "other")
    assert str(refused.value).startswith(f"{target}: not the published vgg16's state dict (missing classifier.0.bias")
    assert "unexpected conv1.weight" in str(refused.value)

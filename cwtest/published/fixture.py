"""Writes a small CrossedWires dataset root the way the published code wrote the real one, with known weights.

The real archive (340 GB) is not reachable from every machine, so the reader is tested against
files written by the same libraries and calls the published scripts used
(cross_framework_hpo/parameter_sweep.py and its models):

- torch: `torch.save(model.state_dict(), dir + ".pt_model.pt")` of the published torch definitions
  (cwtest.adapters.torch.models), with the storages tagged `cuda:0` as the published runs' were (they
  trained on a GPU), though nothing here needs one: torch records a storage's location as a tag;
- TensorFlow: tf.keras 2 (the `tf_keras` package) with image_data_format `channels_first`,
  `tf.keras.applications.<Model>(weights=None, input_shape=(3, 32, 32), classes=10)`, compiled with
  Adam as trained, `model.save(dir + "tf_model")` (a SavedModel with keras_metadata.pb);
- the search history: `space<i>.csv` (a Ray Tune results table) and `optimizer_result<i>.pkl` (a
  pickled scikit-optimize OptimizeResult from a real, tiny GP run over the subspace's trials);
- `wandb_exports/<arch>_cifar10_wandb_export.csv`: the trials' rows of the real export.

Known weights (cwtest.published.writer, which writes both models): each trial's Keras weights
come from a channels-last Keras 3 twin (written to `--twins`, a `.weights.h5` per trial), so a correct
reader gives back the twin's logits.

    python -m cwtest.published.fixture ROOT [--arch vgg16,resnet50,densenet121] [--twins DIR] [--zip]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import pickle
import shutil
import sys
from pathlib import Path


from cwtest.published.writer import keras_twin, write_keras, write_torch
from cwtest.core.errors import InputError
from cwtest.inputs.trials import ARCHITECTURES, Trial, load_table
from cwtest.published import layout

# The published search space (cross_framework_hpo/parameter_sweep.py), as scikit-optimize dimensions.
SPACE = {"learning_rate": (1e-8, 0.1), "adam_epsilon": (1e-8, 1.0), "batch_size": (10, 1000), "epochs": (1, 50)}
EXPORT_COLUMNS = ("Name", "accuracy_diff", "pt_test_acc", "tf_test_acc", "State", "adam_epsilon", "batch_size",
                  "epochs", "learning_rate")


def _search_history(arch: str, trials: list[Trial], folder: Path, subspace: int) -> None:
    """A Ray Tune results table and a real scikit-optimize GP result over the subspace's trials."""
    import skopt

    dimensions = [skopt.space.Real(*SPACE["learning_rate"], name="learning_rate"),
                  skopt.space.Real(*SPACE["adam_epsilon"], name="adam_epsilon"),
                  skopt.space.Integer(*SPACE["batch_size"], name="batch_size"),
                  skopt.space.Integer(*SPACE["epochs"], name="epochs")]
    optimizer = skopt.Optimizer(dimensions, base_estimator="GP", n_initial_points=len(trials), random_state=0)
    points = [[t.learning_rate, t.adam_epsilon, t.batch_size, t.epochs] for t in trials]
    # HyperSpace minimizes; the search maximized the accuracy difference.
    result = optimizer.tell(points, [-t.accuracy_diff for t in trials])
    with open(folder / f"optimizer_result{subspace}.pkl", "wb") as out:
        pickle.dump(result, out)
    with open(folder / f"space{subspace}.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["pt_test_acc", "tf_test_acc", "accuracy_diff", "training_iteration", "trial_id",
                         "config/learning_rate", "config/adam_epsilon", "config/batch_size", "config/epochs", "done"])
        for number, t in enumerate(trials):
            writer.writerow([t.pt_test_acc, t.tf_test_acc, t.accuracy_diff, 1, f"{number:05d}", t.learning_rate,
                             t.adam_epsilon, t.batch_size, t.epochs, True])


def _export(arch: str, trials: list[Trial], root: Path) -> None:
    path = root / layout.export_file(arch)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for t in trials:
            writer.writerow([t.name, t.accuracy_diff, t.pt_test_acc, t.tf_test_acc, t.state, t.adam_epsilon,
                             t.batch_size, t.epochs, t.learning_rate])


def write_root(root: Path, trials: list[Trial], twins: Path | None = None, seed: int = 0) -> None:
    """Each trial's pair, its architecture's export rows and one subspace's search history under `root`."""
    for arch in ARCHITECTURES:
        chosen = [t for t in trials if t.arch == arch]
        if not chosen:
            continue
        folder = root / layout.architecture_folder(arch)
        weights = folder / "model_weights"
        weights.mkdir(parents=True, exist_ok=True)
        for number, trial in enumerate(chosen):
            twin = keras_twin(arch, seed + number)
            write_keras(arch, trial, twin, weights)
            write_torch(arch, trial, seed + number, weights)
            if twins is not None:
                twins.mkdir(parents=True, exist_ok=True)
                twin.save_weights(str(twins / f"{arch}-{trial.name}.weights.h5"))
        _search_history(arch, chosen, folder, 0)
        _export(arch, chosen, root)


def zip_root(root: Path, archive: Path) -> Path:
    """The root as one archive with a top folder, as the dataset is published."""
    return Path(shutil.make_archive(str(archive.with_suffix("")), "zip", root.parent, root.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cwtest.published.fixture", description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path, help="the folder to write (must not exist)")
    parser.add_argument("--arch", default=",".join(ARCHITECTURES), help="architectures, one trial each")
    parser.add_argument("--trials", default=None, help="a CrossedWires export CSV to take the trials from "
                                                       "(default: the built-in table's first trial per architecture)")
    parser.add_argument("--twins", type=Path, default=None, help="also write each Keras twin's weights here")
    parser.add_argument("--zip", action="store_true", help="also write ROOT.zip")
    args = parser.parse_args(argv)
    try:
        if args.root.exists():
            raise InputError(f"{args.root}: exists; the fixture writer writes a new folder")
        wanted = [a.strip() for a in args.arch.split(",") if a.strip()]
        unknown = [a for a in wanted if a not in ARCHITECTURES]
        if unknown or not wanted:
            raise InputError(f"--arch: unknown architecture {', '.join(unknown) or '(none)'}; known: {', '.join(ARCHITECTURES)}")
        table = load_table(args.trials)
        trials = [next(t for t in table.finished if t.arch == arch) for arch in wanted
                  if any(t.arch == arch for t in table.finished)]
        if len(trials) < len(wanted):
            raise InputError(f"--trials: no finished trial for every architecture of --arch {args.arch}")
        for module, install in (("tf_keras", "--no-deps tf-keras"), ("skopt", "'cwtest[published]'")):
            # found, not imported: TensorFlow must come after torch's stack (cwtest.frameworks.imports)
            if importlib.util.find_spec(module) is None:
                raise InputError(f"writing a root the published way needs {module}: pip install {install} "
                                 f"-c constraints.txt (pyproject.toml's `published` extra says why)")
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    staging = args.root.with_name(args.root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    write_root(staging, trials, args.twins)
    staging.rename(args.root)  # nothing half-written under the name asked for
    if args.zip:
        zip_root(args.root, args.root.with_suffix(".zip"))
    print(f"wrote {args.root}: {', '.join(t.id for t in trials)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

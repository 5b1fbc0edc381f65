"""Paired training of the selected CrossedWires trials, under both protocols.

harmonized: every knob of cwtest.registries.knobs on (shared initial weights, matched structure,
dropout, loss, BatchNorm and Adam semantics, deterministic kernels); the two sides' per-step
losses must stay within the round-off noise floor of the trajectory (cwtest.training.protocol), judged
over the first steps until that floor shows the trajectory decorrelated from itself.

published: as the trials were run (plus the knobs --crossedwires-harmonize names). At the full
budget the observed accuracy difference is held against the table's: a trial recorded as
divergent is an xfail (a release that fixes it shows as XPASS), a trial recorded as equal that
diverges fails. With --crossedwires-baseline, a divergence that grew beyond tolerance fails.
"""

import logging
import math

import pytest

from cwtest.analysis.equivalence import equivalence
from cwtest.frameworks import TRAINABLE, trainable
from cwtest.inputs.trials import DIVERGENT
from cwtest.models import checkpoints
from cwtest.registries.architectures import REGISTRY
from cwtest.report.reader import baseline_value
from cwtest.session import live
from cwtest.registries.knobs import ALL, KNOBS
from cwtest.training.paired import decompose, noise_floor, starts_fresh, train_pair
from cwtest.training.protocol import PARITY_STEPS, plan_for, step_differences, step_parity

pytestmark = pytest.mark.crossedwires_trains  # run before the other suites' tests (cwtest.session.plugin)
log = logging.getLogger("cwtest.training.protocol")
# How much a trial's accuracy difference may grow over the baseline report's before the gate
# fails: five test images at the smoke budget (250 images). Measured: two runs of
# vgg16-dual_train_5e67eae2 at the smoke budget with the same thread count gave the same
# accuracy difference to the last digit (0.072 both); the same trial with one thread per
# process (-n 2 on two cores) instead of two gave 0.024: fp32 summation order changes with the
# thread count and training amplifies it. So a baseline is only comparable from a run with the
# same threads per process, which each row records (torch_threads) and the gate checks.
BASELINE_GROWTH = 0.02


@pytest.fixture(autouse=True)
def trainable_pair(crossedwires_settings) -> None:
    """Skips where a side cannot train: the transfer suite compares such a pair (onnxruntime), this one cannot."""
    for side in (crossedwires_settings.pair.left, crossedwires_settings.pair.right):
        if not trainable(side.framework):
            pytest.skip(f"{side}: {side.framework} cannot train; the trial suite needs trainable sides in "
                        f"--crossedwires-pair ({', '.join(TRAINABLE)})")


def _emit(line: str) -> None:
    """A training's epochs: in a failure's captured log, and live with log_cli. The training loop itself
    shows its progress on the terminal, with and without xdist (cwtest.session.live)."""
    log.info(line)


def _result(line: str) -> None:
    """A result a long test reaches along the way (one knob's or one seed's): logged, and on the terminal."""
    _emit(line)
    live.show(line, final=True)


def _record_all(record_metric, metrics: dict, prefix: str = "") -> None:
    for name, value in metrics.items():
        record_metric(prefix + name, value)


def test_harmonized(crossedwires_trial, crossedwires_settings, crossedwires_data, sides, record_metric):
    trial, settings = crossedwires_trial, crossedwires_settings
    plan = plan_for(trial, settings.budget, crossedwires_data)
    trained = train_pair(trial.arch, f"{trial.id} harmonized", plan, crossedwires_data, ALL, settings.pair, _emit)
    # The left side's run is the noise floor's un-nudged one when that side trained from its own build.
    reference = trained.step_losses[0] if starts_fresh(settings.pair, ALL) else None
    noise = noise_floor(trial.arch, plan, crossedwires_data, ALL, settings.pair.left, reference=reference)
    cross = step_differences(*trained.step_losses)
    parity = step_parity(cross, noise)
    first_bad = parity.first_bad
    _record_all(record_metric, trained.metrics)
    record_metric("noise_floor_max", max(noise) if noise else math.nan)
    record_metric("step_parity_ratio", parity.worst)
    record_metric("step_parity_steps_judged", parity.judged)
    record_metric("noise_floor_trainings", 1 if reference is not None else 2)  # each of the first steps only
    assert len(cross) >= min(PARITY_STEPS, plan.epochs * plan.steps_per_epoch), "a side stopped early (non-finite loss)"
    assert first_bad is None, (
        f"step {first_bad}: loss differs by {cross[first_bad - 1]:.3g} (relative) between the sides, more than "
        f"the margin allows over the same-framework noise floor {max(noise[:first_bad]):.3g}; per step: "
        + ", ".join(f"{c:.2g}/{n:.2g}" for c, n in zip(cross, noise)))


def _published(trial, settings, data, plan, knobs, label, reuse=None):
    """(metrics, the sides' runs by name, loaded) for one published-protocol run: loaded from checkpoints
    when present (no runs then). Checkpoints hold runs without knobs: a run with knobs trains, whatever
    the folder holds."""
    if not knobs and checkpoints.present(settings.checkpoints, trial.arch, trial.name):
        return checkpoints.evaluate(settings.checkpoints, trial.arch, trial.name, settings.pair,
                                    data.x_test, data.y_test, plan.batch_size), {}, True
    if checkpoints.published(settings.checkpoints):  # read only: its trials are evaluated, never trained
        pytest.skip(f"{trial.id}: no trained pair of this trial in {settings.checkpoints}; select trials it "
                    f"holds (--crossedwires-select name:...) or drop --crossedwires-checkpoints")
    trained = train_pair(trial.arch, label, plan, data, knobs, settings.pair, _emit, reuse=reuse)
    if settings.checkpoints is not None and not knobs:
        checkpoints.save(settings.checkpoints, trial.name, settings.pair, trained.models)
    return trained.metrics, {run.side: run for run in trained.runs}, False


def _decomposition(trial, settings, data, plan, runs, record_metric) -> None:
    """The published difference split into semantics and kernels (cwtest.training.paired.Decomposition)."""
    found = decompose(trial.arch, f"{trial.id} decompose", plan, data, settings.pair,
                      runs if not settings.knobs else {}, _emit)  # the parts are of the published protocol
    _record_all(record_metric, found.metrics())
    accuracies = ", ".join(f"{side} {acc:.4f}" for side, acc in zip(found.sides, found.accuracies))
    _result(f"{trial.id} decomposed: {accuracies}; semantics {found.semantics:+.4f}, kernels {found.kernels:+.4f}")


def _attribution(trial, settings, data, plan, published_diff, record_metric, reuse) -> None:
    """The accuracy difference with each knob alone and all together, and the share each removes.

    A side that a knob leaves unchanged keeps its published run (`reuse`), so each knob's row
    differs from the published one by that knob alone, and a knob that changes nothing in this
    architecture trains nothing.
    """
    # "none" retrains both sides with no knob: how far a run moves by itself (TensorFlow's
    # multi-threaded CPU reductions are not deterministic) is the yardstick for every knob's effect.
    # deterministic switches TensorFlow op determinism on for good, so it runs after the others.
    variants = [("none", frozenset())] + [(name, frozenset({name})) for name in KNOBS if name != "deterministic"]
    variants += [("deterministic", frozenset({"deterministic"})), ("all", ALL)]
    for name, knobs in variants:
        if name == "init" and REGISTRY[trial.arch].structure_differs:
            continue  # the published ResNet50 pair has no common structure to share weights through
        trained = train_pair(trial.arch, f"{trial.id} +{name}", plan, data, knobs, settings.pair, _emit,
                             reuse=None if name == "none" else reuse)
        diff, metrics = trained.metrics["accuracy_diff"], trained.metrics
        _result(f"{trial.id} +{name}: left {metrics['left_test_acc']:.4f}, right {metrics['right_test_acc']:.4f}, "
                f"accuracy difference {diff:.4f} (published {published_diff:.4f})")
        record_metric(f"attribution_{name}_accuracy_diff", diff)
        for side in ("left", "right"):  # which side a knob moved: a difference also shrinks when the better side worsens
            record_metric(f"attribution_{name}_{side}_test_acc", metrics[f"{side}_test_acc"])
        record_metric(f"attribution_{name}_removed", (published_diff - diff) / published_diff
                      if published_diff else math.nan)


def _repeated(trial, settings, data, plan, record_metric) -> str:
    """Seeds 0..N-1 on both sides: the noise floor of each framework and an equivalence verdict."""
    accuracies = {"left": [], "right": []}
    for seed in range(settings.repeats):
        trained = train_pair(trial.arch, f"{trial.id} seed {seed}", plan, data, settings.knobs, settings.pair,
                             _emit, seed=seed)
        for side in accuracies:
            accuracies[side].append(trained.metrics[f"{side}_test_acc"])
    verdict = equivalence(accuracies["left"], accuracies["right"])
    _record_all(record_metric, verdict.metrics(("left", "right")))
    return verdict.describe()


def test_published(crossedwires_trial, crossedwires_settings, crossedwires_data, sides, record_metric, request):
    trial, settings = crossedwires_trial, crossedwires_settings
    plan = plan_for(trial, settings.budget, crossedwires_data)
    reuse = {} if settings.attribution else None
    metrics, runs, loaded = _published(trial, settings, crossedwires_data, plan, settings.knobs,
                                       f"{trial.id} published", reuse)
    _record_all(record_metric, metrics)
    record_metric("loaded_from_checkpoint", float(loaded))
    record_metric("recorded_accuracy_diff", trial.accuracy_diff)
    record_metric("recorded_pt_test_acc", trial.pt_test_acc)
    record_metric("recorded_tf_test_acc", trial.tf_test_acc)
    observed = metrics["accuracy_diff"]
    if settings.decompose:
        _decomposition(trial, settings, crossedwires_data, plan, runs, record_metric)
    if settings.attribution:
        _attribution(trial, settings, crossedwires_data, plan, observed, record_metric, reuse)
    if settings.repeats > 1:
        _result(f"{trial.id}: {_repeated(trial, settings, crossedwires_data, plan, record_metric)}")
    import torch

    record_metric("torch_threads", torch.get_num_threads())
    if settings.baseline is not None:
        before = baseline_value(settings.baseline, request.node.nodeid, "accuracy_diff")
        threads = baseline_value(settings.baseline, request.node.nodeid, "torch_threads")
        if before is not None:
            assert threads == torch.get_num_threads(), (
                f"the baseline ran with {threads:g} threads per process, this run with {torch.get_num_threads()}: "
                f"training results depend on it; make the baseline with the same -n and thread settings")
            record_metric("baseline_accuracy_diff", before)
            assert observed <= before + BASELINE_GROWTH, (
                f"accuracy difference grew from {before:.4f} (baseline) to {observed:.4f}, "
                f"more than {BASELINE_GROWTH}")
    if settings.budget.name == "full":
        if trial.divergent:
            request.applymarker(pytest.mark.xfail(strict=False, reason=(
                f"recorded as divergent: pt {trial.pt_test_acc:.4f}, tf {trial.tf_test_acc:.4f}, "
                f"accuracy_diff {trial.accuracy_diff:.4f}")))
        # Held against the recorded difference, so measured as the trials measured it (published_accuracy).
        comparable = metrics["published_accuracy_diff"]
        state = "still divergent" if trial.divergent else "recorded as equal but now divergent"
        assert comparable < DIVERGENT, (f"{state}: {comparable:.4f} apart as the trials measured accuracy "
                                        f"(exact: {observed:.4f}; recorded {trial.accuracy_diff:.4f})")

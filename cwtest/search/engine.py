"""The search, run by Ray Tune with Optuna's GP sampler, a subspace at a time.

Why these: Ray Tune ran the published search, and it runs here on a local Ray started for the search with
nothing to set up, or on an existing cluster (`--address`), each trial with its resources (a GPU each
where the pair runs on one). The published searcher, scikit-optimize's GP driven by Ray Tune's SkOpt
searcher, is gone from Ray Tune (2.60 ships none), and scikit-optimize itself is unmaintained; Optuna's
GPSampler is the maintained Gaussian-process searcher that Ray Tune drives (OptunaSearch). Like the
published runs it starts from 10 random points (a seed per subspace: `_seed`) and then proposes one trial
at a time from every result so far, so a subspace runs its trials one after another.

Resuming: the results file is the record. Each subspace's finished rows are handed back to its searcher
(as evaluated points) and only the trials it lacks are run; Ray's own experiment folder is scratch.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

# Ray Tune's console output would interleave with the search's own; the legacy reporter at verbose=0 prints none.
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

import optuna  # noqa: E402
import ray  # noqa: E402
from ray import tune  # noqa: E402
from ray.tune.search.optuna import OptunaSearch  # noqa: E402

from cwtest.frameworks.sides import Pair
from cwtest.inputs.budgets import Budget
from cwtest.inputs.data import Cifar10
from cwtest.report.writer import backends_text
from cwtest.search import results
from cwtest.search.objective import score
from cwtest.search.plan import Search
from cwtest.search.space import Dimension, describe

STARTUP_TRIALS = 10  # random points before the GP proposes, as the published optimizer's n_initial_points
SEEDS_PER_SUBSPACE = 1000  # more than a subspace's trials, so no two samplers share a seed


def _trial(config: dict, *, arch: str, budget: Budget, pair: Pair, objective: str, data: Cifar10) -> None:
    """One trial in a Ray worker: trained, scored, reported to Tune."""
    started = time.perf_counter()
    found = score(arch, config, budget, pair, data, objective)
    tune.report({**found, "seconds": time.perf_counter() - started})


def _distributions(dimensions: tuple[Dimension, ...]) -> dict:
    return {d.name: optuna.distributions.IntDistribution(int(d.low), int(d.high)) if d.integer
            else optuna.distributions.FloatDistribution(d.low, d.high) for d in dimensions}


def run(search: Search, data: Cifar10, show) -> list[dict]:
    """Every subspace's missing trials, each appended to `search.out` as it ends; all the file's rows."""
    space_text = describe(search.space)
    done = results.read(search.out, arch=search.arch, objective=search.objective, budget=search.budget.name,
                        pair=str(search.pair), space=space_text)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    started = time.perf_counter()
    ray.init(address=search.address, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             configure_logging=True)
    show.ray_started(time.perf_counter() - started, done)
    scratch = Path(tempfile.mkdtemp(prefix="cwtest-search-"))
    try:
        cpus = search.cpus_per_trial or int(ray.cluster_resources().get("CPU", 1))
        gpus = 1 if search.pair.left.accelerated or search.pair.right.accelerated else 0
        trainable = tune.with_resources(
            tune.with_parameters(_trial, arch=search.arch, budget=search.budget, pair=search.pair,
                                 objective=search.objective, data=data), {"cpu": cpus, "gpu": gpus})
        backends = backends_text(str(search.pair))
        for index, dimensions in zip(search.indices, search.subspaces):
            earlier = [r for r in done if int(r["subspace"]) == index]
            missing = search.trials - len(earlier)
            if missing <= 0:
                continue
            searcher = OptunaSearch(
                _distributions(dimensions), metric="objective", mode="max",
                sampler=optuna.samplers.GPSampler(seed=_seed(index, len(earlier)), n_startup_trials=STARTUP_TRIALS),
                points_to_evaluate=[{d.name: _typed(d, r[d.name]) for d in dimensions} for r in earlier] or None,
                evaluated_rewards=[float(r["objective_value"]) for r in earlier] or None)
            recorder = _Recorder(search, index, len(earlier), backends, space_text, show, done)
            tuner = tune.Tuner(trainable, tune_config=tune.TuneConfig(
                search_alg=searcher, num_samples=missing, max_concurrent_trials=1, reuse_actors=True),
                run_config=tune.RunConfig(name=f"subspace{index}", storage_path=str(scratch), callbacks=[recorder],
                                          verbose=0))
            grid = tuner.fit()
            failed = [r.error for r in grid if r.error is not None]
            if failed:
                message = str(failed[0]).strip().splitlines()[-1] if str(failed[0]).strip() else type(failed[0]).__name__
                raise TrialFailed(f"subspace {index}: a trial failed in its Ray worker ({message}); the trials before "
                                  f"it are in {search.out}, and the same command resumes")
    finally:
        ray.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    return done


class TrialFailed(Exception):
    """A trial raised in its worker: the search stops there, its finished trials kept."""


def _seed(subspace: int, earlier: int) -> int:
    """The subspace's sampler seed. The published optimizers all had random_state=0, so subspaces that differ in
    one dimension proposed the same values in the others (at a budget that caps epochs, the same trials twice);
    each subspace has its own seed here. A resumed one is seeded past its earlier trials: seeded as at first,
    its random start-up draws would propose the points it already ran again."""
    return SEEDS_PER_SUBSPACE * subspace + earlier


def _typed(dimension: Dimension, text: str):
    return int(float(text)) if dimension.integer else float(text)


class _Recorder(tune.Callback):
    """In the driver: each finished trial appended to the results file, then shown."""

    def __init__(self, search: Search, subspace: int, earlier: int, backends: str, space: str, show, done: list[dict]):
        self.search, self.subspace, self.number = search, subspace, earlier
        self.backends, self.space, self.show, self.done = backends, space, show, done

    def __getstate__(self) -> dict:
        # Tune pickles its callbacks for a restore of its own experiment, which this search does not use (the
        # results file is its record); the live display holds locks and stays out.
        return {k: v for k, v in self.__dict__.items() if k != "show"}

    def on_trial_start(self, iteration, trials, trial, **info):
        self.show.trial_started(self.subspace, self.number + 1, trial.config)

    def on_trial_complete(self, iteration, trials, trial, **info):
        found = trial.last_result
        self.number += 1
        entry = results.row(found, trial.config, arch=self.search.arch, budget=self.search.budget.name,
                            pair=self.search.pair, backends=self.backends, objective=self.search.objective,
                            subspace=self.subspace, number=self.number, space=self.space, seconds=found["seconds"])
        results.append(self.search.out, entry)
        self.done.append({k: str(v) for k, v in entry.items()})
        self.show.trial_ended(entry)

"""One search trial: the pair trained on the hyperparameters the searcher chose, and its score.

Objectives:
- `published`: the accuracy difference under the published protocol, measured as the dataset measured it
  (the torch side's accuracy as a mean of batch accuracies, cwtest.core.accuracy.published_accuracy);
- `unexplained`: the accuracy difference that remains with every harmonization knob on
  (cwtest.registries.knobs.ALL). cwtest's catalogue of semantic differences does not explain it.
"""

from __future__ import annotations

from cwtest.frameworks.sides import Pair
from cwtest.inputs.budgets import Budget
from cwtest.inputs.data import Cifar10
from cwtest.inputs.trials import Trial
from cwtest.registries.knobs import ALL
from cwtest.training.paired import train_pair
from cwtest.training.protocol import plan_for

OBJECTIVES = {"published": frozenset(), "unexplained": ALL}  # objective -> the knobs its trainings run with
# The metric each objective maximizes (cwtest.training.protocol.accuracies).
SCORED = {"published": "published_accuracy_diff", "unexplained": "accuracy_diff"}


def score(arch: str, config: dict, budget: Budget, pair: Pair, data: Cifar10, objective: str) -> dict:
    """Trains the pair on `config`'s hyperparameters at `budget`; the metrics, the loss curves and the score."""
    trial = Trial(arch, "search", "finished", float(config["learning_rate"]), int(config["batch_size"]),
                  int(config["epochs"]), float(config["adam_epsilon"]), 0.0, 0.0, 0.0)
    plan = plan_for(trial, budget, data)
    trained = train_pair(arch, f"{arch} search", plan, data, OBJECTIVES[objective], pair, emit=lambda line: None)
    left, right = trained.runs
    return {**trained.metrics, "objective": trained.metrics[SCORED[objective]],
            "left_epoch_losses": list(left.epoch_losses), "right_epoch_losses": list(right.epoch_losses)}

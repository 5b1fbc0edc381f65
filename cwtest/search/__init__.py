"""Divergence search: new trials found the way the CrossedWires dataset was made (`cwtest search`).

`space.py` (the published search space, its subspaces, a user's space), `plan.py` (a search as its options
describe it), `objective.py` (one trial trained and scored), `results.py` (the living dataset: found trials
appended in the export schema, read back to resume), `engine.py` (Ray Tune with Optuna's GP sampler; the
only module that imports Ray), `progress.py` (the live bar and the summary), `cli.py` (the command).
"""

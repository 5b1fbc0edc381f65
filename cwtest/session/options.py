"""The `crossedwires` options and ini keys, and whether a run gave any of them.

This module is imported in every pytest run of an environment that has cwtest installed (the plugin's
entry point registers the options), so it imports nothing but the standard library: the names its help
texts list are written out here, and tests/test_settings.py checks them against the registries they
come from (architectures, pairs, budgets, flavours, tolerances, harmonization knobs).
"""

from __future__ import annotations

ARCHITECTURES = "vgg16 | resnet50 | densenet121"
ZOO = "mobilenet_v2 | efficientnet_b0 | bert | vit | gpt2"
DEFAULT_PAIR = "torch:cpu,tensorflow:cpu"
BUDGETS = "smoke | reduced | full"
FLAVOURS = "published | matched"
TOLERANCES = "logits_eval, logits_train, gradients, onnxruntime"
KNOBS = "init, architecture, dropout, loss, bn_momentum, bn_epsilon, adam_epsilon, deterministic"
FLAGS = ("attribution", "decompose", "deterministic")  # options without a value: given means true

# name -> (default, help). Each is `--crossedwires-NAME` on the command line, `crossedwires_NAME` in ini.
OPTIONS = {
    "arch": ("all", f"architectures to run (trials, models, and the layer blocks they are made of; all: every block): "
                    f"{ARCHITECTURES} | all (those three) | {ZOO} | zoo (model pairs without trials); a comma list, "
                    "or repeat the option (default: all)"),
    "pair": (DEFAULT_PAIR, f"the two sides compared, framework:device[:precision] each (default: {DEFAULT_PAIR})"),
    "trials": ("", "a CrossedWires export CSV or a folder of them (default: the built-in table "
                   "of the paper's Tables 4-6)"),
    "select": ("all", "trials to run: all | top:N | bottom:N | sample:N[:seed] | name:ID[,ID...] | "
                      "a query such as 'epochs<=3 and batch_size>500' (default: all)"),
    "data": ("", "a CIFAR-10 python-version folder (cifar-10-batches-py or its parent; "
                 "default: built-in synthetic data)"),
    "budget": ("smoke", f"training scale: {BUDGETS} (default: smoke)"),
    "report": ("", "write the CSV report to this path (default: no report)"),
    "flavour": ("all", f"architecture flavours the transfer suite runs: {FLAVOURS} | all (default: all)"),
    "layers": ("", "compare these layers' activations in the transfer suite even when parity holds: "
                   "all, or torch/Keras layer names or name prefixes, comma-separated (default: only "
                   "when parity fails)"),
    "tolerance": ("", f"override named fp32 tolerances for the run, name=value[,name=value]; names: {TOLERANCES} "
                      "(default: none)"),
    "harmonize": ("none", f"knobs the published-protocol trial tests switch on: {KNOBS}, all or none, "
                          "comma-separated (the harmonized tests always use all; default: none)"),
    "attribution": ("false", "also train each trial with each harmonization knob alone and all together, "
                             "and report how much of the accuracy difference each removes"),
    "decompose": ("false", "also train each published trial with Keras on torch, and split the accuracy "
                           "difference of the pair's torch and Keras sides into semantics (torch against "
                           "Keras on torch: one set of kernels, two sets of conventions) and kernels (Keras on "
                           "torch against the pair's Keras backend: one set of conventions)"),
    "deterministic": ("false", "switch deterministic kernels on for every suite, on both sides (torch "
                               "use_deterministic_algorithms in warn-only mode with a fixed cuBLAS workspace, "
                               "TensorFlow op determinism); each report row says what was in force"),
    "repeats": ("1", "train each published trial this many times per side with seeds 0..N-1 and report the "
                      "same-framework spread, a bootstrap interval of the accuracy difference and an "
                      "equivalence verdict (two one-sided tests; default: 1, no repeats)"),
    "baseline": ("", "a previous CSV report: trial tests whose divergence grew beyond tolerance fail"),
    "checkpoints": ("", "a folder of trained pairs (<trial>.pt_model.pt, <trial>tf_model/): pairs found there "
                        "are loaded instead of trained, pairs trained are saved there; or the published "
                        "CrossedWires dataset (its unpacked root or its zip), read only: its trials' pairs "
                        "are evaluated"),
}


def register(parser) -> None:
    group = parser.getgroup("crossedwires", "cwtest: cross-framework equivalence (CrossedWires)")
    for name, (default, help_text) in OPTIONS.items():
        flag = f"--crossedwires-{name}"
        if name == "arch":
            group.addoption(flag, action="append", dest="crossedwires_arch", default=None, help=help_text)
        elif name in FLAGS:
            group.addoption(flag, action="store_const", const="true", dest=f"crossedwires_{name}",
                            default=None, help=help_text)
        else:
            group.addoption(flag, dest=f"crossedwires_{name}", default=None, metavar=name.upper(), help=help_text)
        parser.addini(f"crossedwires_{name}", help_text, default=default)


def spaced(args: list[str]) -> bool:
    """Whether a crossedwires option's value is a separate argument (`--crossedwires-trials DIR`), which pytest
    takes for a test path when it chooses the rootdir (cwtest.session.rootdir)."""
    valued = {f"--crossedwires-{name}" for name in OPTIONS if name not in FLAGS}
    return any(arg in valued for arg in args[:-1])


def given(config) -> str | None:
    """The first crossedwires option on the command line, or ini key set to other than its default; None
    where there is none. (pytest has no public way to tell an ini key set to its default from one not set.)"""
    for name, (default, _) in OPTIONS.items():
        if config.getoption(f"crossedwires_{name}") is not None:
            return f"--crossedwires-{name}"
        if str(config.getini(f"crossedwires_{name}")).strip() != default:
            return f"crossedwires_{name}"
    return None

"""Every adapter implements its roles, parameter for parameter (cwtest's own: every role the suites ask of them);
so does the child-process Keras adapter, which frees the models the parent drops; the example plugin implements
the roles it offers and no more; and only the adapters and the interface import the frameworks they run."""

import gc
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cwtest.frameworks import ADAPTERS, TRAINABLE, child as child_module, determinism, forkserver, trainable
from cwtest.frameworks.child import RemoteCases, RemoteError, RemoteKeras, RemoteModel
from cwtest.frameworks.roles import ROLES, Cases, ReferenceCases, roles_of
from cwtest.frameworks.sides import Side
from cwtest.registries.tolerances import DEFAULTS


def _methods(protocol) -> dict[str, list[str]]:
    """The protocol's functions and their parameters (without self), its bases' included."""
    found = {}
    for klass in reversed(protocol.__mro__):
        for name, member in vars(klass).items():
            if inspect.isfunction(member) and not name.startswith("_"):
                found[name] = list(inspect.signature(member).parameters)[1:]
    return found


def _implements(implementation, protocol, label: str) -> None:
    for name, parameters in _methods(protocol).items():
        function = getattr(implementation, name, None)
        assert callable(function), f"{label} has no {name}()"
        signature = inspect.signature(function)
        taken = list(signature.parameters)[1 if inspect.isclass(implementation) else 0:]
        assert taken[:len(parameters)] == parameters, f"{label}.{name}{signature} does not take {parameters}"


# The roles each of cwtest's own adapters must implement: a trainer every role the suites ask for, ONNX Runtime's
# exported graphs a Runner only; the reference roles are the reference side's (torch's).
REFERENCE_ONLY = ("reference logits", "reference gradients", "reference layers")
EXPECTED = {"torch": tuple(ROLES), "onnxruntime": ("runner",)} | {
    framework: tuple(role for role in ROLES if role not in REFERENCE_ONLY) for framework in TRAINABLE
    if framework != "torch"}


@pytest.mark.parametrize("framework", sorted(ADAPTERS))
def test_adapter_implements_its_roles(framework):
    module = importlib.import_module(f"{ADAPTERS[framework]}.adapter")
    assert roles_of(module) == EXPECTED[framework]
    for role in EXPECTED[framework]:
        _implements(module, ROLES[role], module.__name__)


@pytest.mark.parametrize("api, role", [("torch", ReferenceCases), ("keras", Cases)])
def test_case_runner_implements_its_role(api, role):
    _implements(importlib.import_module(f"cwtest.adapters.{api}.cases"), role, f"cwtest.adapters.{api}.cases")


def test_child_process_keras_implements_the_roles_of_keras_in_a_suite():
    """Every role a suite asks of a Keras side (all but a user's models, which are objects of the user's process), and
    the layer suite's case runner."""
    served = set(EXPECTED["tensorflow"]) - {"user models"}
    assert served <= set(roles_of(RemoteKeras)), roles_of(RemoteKeras)
    for role in served:
        _implements(RemoteKeras, ROLES[role], "RemoteKeras")
    _implements(RemoteCases, Cases, "RemoteCases")
    for name in ("case_on_cpu", "optimizer_on_cpu"):
        assert list(inspect.signature(getattr(RemoteKeras, name)).parameters)[1:] == list(
            inspect.signature(getattr(Cases, name)).parameters)[1:]


def test_the_example_plugin_implements_the_roles_it_offers():
    plugin = pytest.importorskip("cwtest_inductor", reason="the example plugin is not installed: pip install -e "
                                                          "examples/cwtest-inductor")
    assert roles_of(plugin) == ("runner", "weights", "gradients")
    for role in roles_of(plugin):
        _implements(plugin, ROLES[role], "cwtest_inductor")
    assert not trainable("torch-inductor")
    borrowed = {name for name, value in vars(plugin).items()
                if callable(value) and getattr(value, "__module__", "").startswith("cwtest.adapters")}
    assert not borrowed, f"re-exported from cwtest's adapters: {sorted(borrowed)}"


def test_the_child_frees_a_model_whose_handle_the_parent_dropped():
    child = RemoteKeras("jax")
    try:
        model = child.build("vgg16", Side("keras-jax", "cpu"))
        kept = RemoteModel(model.handle)  # the same handle as plain data, without a finalizer of its own
        assert child.weights(kept)
        del model
        gc.collect()
        with pytest.raises(RemoteError, match="KeyError"):
            child.weights(kept)  # the call carried the release, and the child had freed the model
    finally:
        child.close()


def test_a_layer_handle_keeps_its_model_in_the_child():
    """A model's layers read through the child stay usable after the parent drops the model itself (the weight
    distance pairs layers of a model built for that and dropped), and the model goes once they go too."""
    child = RemoteKeras("jax")
    try:
        model = child.build("vgg16", Side("keras-jax", "cpu"))
        handle = model.handle
        layers = child.layers(model).layers
        del model
        gc.collect()
        assert [a.shape for a in child.layer_weights(layers[0].handle)] == [(3, 3, 3, 64), (64,)]
        assert layers[-1].handle.activation is None and layers[0].handle.activation.__name__ == "relu", \
            "the softmax head reads as logits while comparable, as its outputs are read"
        del layers
        gc.collect()
        with pytest.raises(RemoteError, match="KeyError"):
            child.weights(RemoteModel(handle))
    finally:
        child.close()


def test_a_replaced_child_is_forked_from_its_backends_server_and_computes_the_same(monkeypatch):
    """A child grown past RECYCLE_MB is replaced by a fork of the process that has imported Keras
    (cwtest.frameworks.forkserver), which gives the first child's answers; a changed environment (here the run's
    deterministic switch) starts another server, so that each fork runs under the parent's environment, but the
    variable pytest sets for each test does not (it restarted the server at nearly every trial test)."""
    if not forkserver.AVAILABLE:
        pytest.skip("fork servers run on Linux only; elsewhere each child is a started interpreter")
    monkeypatch.setattr(child_module, "RECYCLE_MB", 0.0)  # every call that finds no model held replaces the child,
    monkeypatch.setattr(child_module, "RECYCLE_GROWTH_MB", float("-inf"))  # however little it has grown
    side, images = Side("keras-jax", "cpu"), np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), np.uint8)
    child = RemoteKeras("jax")
    try:
        first = child.build("vgg16", side)
        logits, server, started, pid = child.forward(first, images, side), child._server, child.started, child._process.pid
        del first
        gc.collect()
        monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/test_adapters.py::the_next_test (setup)")
        again = child.build("vgg16", side)
        ppid = int(Path(f"/proc/{child._process.pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        assert child.started == started + 1 and child._process.pid != pid, "the child was replaced"
        assert ppid == server._process.pid, "the new child is a fork of the server"
        np.testing.assert_array_equal(child.forward(again, images, side), logits)
        del again
        gc.collect()
        monkeypatch.setenv(determinism.ENV, "1")
        child.available(side)
        assert child._server is not server and not server.running, "the old server ended, a new one serves"
    finally:
        child.close()


def test_a_child_that_starts_past_the_bound_serves_until_it_grows(monkeypatch):
    """Keras on torch starts at 1.54 GB with its server, past RECYCLE_MB: it is replaced once it has grown by
    RECYCLE_GROWTH_MB, not at every call (which cost each layer-suite case a fork and Keras's first use)."""
    monkeypatch.setattr(child_module, "RECYCLE_MB", 1.0)  # every child starts past it
    params = {"seed": 0, "size": 4, "steps": 2, "grad_scale": 1.0, "lr": 1e-3, "momentum": 0.0, "nesterov": False}
    child = RemoteKeras("jax")
    try:
        child.cases.optimizer_on_cpu("sgd", params, (1, 2))
        pid, started = child._process.pid, child.started
        for _ in range(3):
            child.cases.optimizer_on_cpu("sgd", params, (1, 2))
        assert (child._process.pid, child.started) == (pid, started), "the child was replaced without growing"
    finally:
        child.close()


# Where each framework may be imported: the adapters; the interface, which imports them in a safe order and sets
# their precision and determinism modes; the published dataset's reader and writer of the frameworks' own file
# formats (a tf.keras SavedModel's checkpoint, tf_keras and torch.save); and the catalogued defects' reproducers,
# which are standalone programs for a framework's issue tracker (cwtest.registries.defects), not modules of cwtest.
FRAMEWORKS = ("torch", "torchvision", "tensorflow", "keras", "jax", "onnxruntime", "onnx")
HOMES = ("adapters/", "frameworks/", "published/savedmodel.py", "published/writer.py", "findings/reproducers/")


def _imports(line: str, framework: str) -> bool:
    line = line.strip()
    return (line.startswith((f"import {framework}", f"from {framework} ", f"from {framework}."))
            or f"imports.{framework}()" in line)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_only_the_adapters_and_the_interface_import_the_framework(framework):
    package = Path(__file__).parents[1] / "cwtest"
    found = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                   if any(_imports(line, framework) for line in path.read_text().splitlines()))
    outside = [name for name in found if not name.startswith(HOMES)]
    assert not outside, f"{framework} imported outside the adapters and the interface: {outside}"


def test_the_check_finds_an_import():
    assert _imports("    import torch.nn as nn", "torch") and _imports("from keras import ops", "keras")
    assert _imports("keras = imports.keras()", "keras") and not _imports("from cwtest.adapters.torch import blocks", "torch")


def test_outside_the_adapters_no_framework_name_is_compared():
    package = Path(__file__).parents[1] / "cwtest"
    names = "|".join(f'"{name}"' for name in ("torch", "tensorflow", "keras", "jax", "onnxruntime"))
    comparison = re.compile(rf"(==|!=|\bin)\s*\(?\{{?({names})|({names})\s*(==|!=)")
    found = [f"{path.relative_to(package)}:{number}: {line.strip()}"
             for path in package.rglob("*.py") if not str(path.relative_to(package)).startswith(HOMES)
             for number, line in enumerate(path.read_text().splitlines(), 1) if comparison.search(line)]
    assert not found, "framework names compared outside the adapters and the interface:\n" + "\n".join(found)


def test_a_torch_keras_pair_leaves_no_keras_in_the_test_process():
    """Every Keras side runs in a child (cwtest.frameworks.child): a pair built, its structure compared, its weights
    moved, its logits, gradients and per-layer table read, and this process never imports TensorFlow or Keras."""
    code = """if True:
        import sys
        import numpy as np
        from cwtest.frameworks.sides import Side
        from cwtest.models.localize import layer_errors
        from cwtest.models.parity import gradient_errors, logits
        from cwtest.models.transfer import transferred

        torch_side, keras_side = Side("torch", "cpu"), Side("tensorflow", "cpu")
        pair = transferred("vgg16", "published", "torch->keras", torch_side, keras_side)
        images = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
        assert pair.structure.equivalent
        logits(pair.keras_model, keras_side, images)
        gradient_errors(pair, images, np.zeros(4, np.int64), torch_side, keras_side)
        rows = layer_errors(pair, images, torch_side, keras_side)
        print(len(rows), max(row.errors.max_rel for row in rows))
        print(sorted({"tensorflow", "keras", "jax"} & {name.split(".")[0] for name in sys.modules}))
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    count, worst = out.stdout.splitlines()[-2].split()
    assert int(count) == 16 and float(worst) <= DEFAULTS["logits_eval"], \
        f"every layer of a correct transfer, the softmax head read as logits, within tolerance: {out.stdout}"
    assert out.stdout.splitlines()[-1] == "[]", out.stdout

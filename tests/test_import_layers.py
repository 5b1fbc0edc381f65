"""The package is a stack: each layer imports only itself and the layers below it, its folders import each
other in no cycle, and the framework adapters are leaves that nothing of cwtest imports.

The import graph is read from the source (every `import` and `from ... import`, at module level, inside
functions and under TYPE_CHECKING alike), so a lazy import cannot hide a dependency. The README's layout
table lists the same layers, top to bottom.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "cwtest"
README = Path(__file__).parents[1] / "README.md"

# Top to bottom; a folder of cwtest (or a module at its top) belongs to one layer. "" is cwtest/__init__.py: the
# version, and the public names, which it loads by name when first used.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),  # the `cwtest` command
    ("session", "search"),  # the pytest session; the divergence search
    ("models", "blocks", "training", "report", "analysis", "findings", "published"),  # the suites' harnesses
    ("frameworks",),  # the interface to the frameworks: roles, sides, dispatch, plugins, modes, the child process
    ("registries",),  # what is tested, as data: architectures, blocks, optimizers, differences, knobs, defects
    ("inputs",),  # what a run reads: trial tables, CIFAR-10, budgets
    ("core", ""),  # plain values and maths: numpy and the standard library only; cwtest/__init__.py imports nothing
)
# Beside the interface: each adapter imports the interface and what lies below it, never another adapter, and
# is loaded by name (cwtest.frameworks.ADAPTERS, the cwtest.adapters entry points), never imported.
ADAPTERS = "adapters"
BELOW_THE_ADAPTERS = ("frameworks", "registries", "inputs", "core")
CORE_MAY_IMPORT = ("numpy",)


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = ["cwtest", *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, package: Path = PACKAGE) -> set[str]:
    """Every module the file imports, absolute, relative imports resolved."""
    name = module_name(path, package)
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*here.split(".")[:len(here.split(".")) - node.level + 1], *filter(None, [base])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def folder_of(module: str) -> str:
    """The folder (or top-level module) of cwtest a module is in: cwtest.core.errors -> core, cwtest -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the cwtest modules it imports (each named import resolved to the module that defines it)."""
    files = {module_name(path, package): path for path in package.rglob("*.py")
             if "reproducers" not in path.parts}  # standalone programs, run as subprocesses
    edges = {}
    for module, path in files.items():
        targets = set()
        for imported in imports_of(path, package):
            while imported and imported.startswith("cwtest") and imported not in files:
                imported = imported.rpartition(".")[0]
            if imported.startswith("cwtest") and imported != module:
                targets.add(imported)
        edges[module] = targets
    return edges


def rank(folder: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if folder in layer)


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Every import that goes up the stack, into an adapter, or out of an adapter to what it may not import."""
    found = []
    for module, targets in sorted(edges.items()):
        source = folder_of(module)
        for target in sorted(targets):
            into = folder_of(target)
            if source == into:
                if source == ADAPTERS and module.split(".")[2] != target.split(".")[2]:
                    found.append(f"{module} -> {target}: one adapter imports another")
            elif into == ADAPTERS:
                found.append(f"{module} -> {target}: an adapter is loaded by name, never imported")
            elif source == ADAPTERS:
                if into not in BELOW_THE_ADAPTERS:
                    found.append(f"{module} -> {target}: an adapter imports only {', '.join(BELOW_THE_ADAPTERS)}")
            elif rank(into) < rank(source):
                found.append(f"{module} -> {target}: {source or 'cwtest'} imports up, from {into}")
    return found


def folder_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of the folder graph (each folder's imports of other folders), as lists of folders."""
    folders: dict[str, set[str]] = {}
    for module, targets in edges.items():
        folders.setdefault(folder_of(module), set()).update(folder_of(t) for t in targets)
    cycles, state = [], {}

    def visit(folder: str, trail: list[str]) -> None:
        state[folder] = "open"
        for other in sorted(folders.get(folder, ()) - {folder}):
            if state.get(other) == "open":
                cycles.append(trail[trail.index(other):] + [other])
            elif other not in state:
                visit(other, [*trail, other])
        state[folder] = "done"

    for folder in sorted(folders):
        if folder not in state:
            visit(folder, [folder])
    return cycles


def test_every_folder_has_a_layer():
    folders = {folder_of(module) for module in graph()} - {ADAPTERS}
    placed = {folder for layer in LAYERS for folder in layer}
    assert folders <= placed, f"folders in no layer: {sorted(folders - placed)}"


def test_no_import_goes_up_or_into_an_adapter():
    found = violations(graph())
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_no_cycle_between_folders():
    assert not folder_cycles(graph())


def test_the_core_imports_numpy_and_the_standard_library_only():
    import sys

    found = []
    for path in (PACKAGE / "core").rglob("*.py"):
        for imported in imports_of(path):
            top = imported.split(".")[0]
            if top not in ("cwtest", *CORE_MAY_IMPORT, "__future__") and top not in sys.stdlib_module_names:
                found.append(f"{path.name}: {imported}")
    assert not found, found


def _planted(tmp_path: Path, module: str, line: str) -> dict[str, set[str]]:
    """The package's graph with `line` added to `module`'s source, in a copy."""
    import shutil

    copy = tmp_path / "cwtest"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / (module.removeprefix("cwtest.").replace(".", "/") + ".py")
    target.write_text(target.read_text() + f"\n\ndef planted():\n    {line}\n")
    return graph(copy)


@pytest.mark.parametrize("module, line, expected", [
    ("cwtest.core.metrics", "from cwtest.frameworks import sides", "core imports up, from frameworks"),
    ("cwtest.registries.layers", "from cwtest.blocks import layer_parity", "registries imports up, from blocks"),
    ("cwtest.frameworks.sides", "import cwtest.models.transfer", "frameworks imports up, from models"),
    ("cwtest.models.transfer", "from cwtest.adapters.torch import adapter", "never imported"),
    ("cwtest.adapters.keras.adapter", "from cwtest.adapters.torch import models", "one adapter imports another"),
    ("cwtest.adapters.torch.adapter", "from cwtest.models import structure", "an adapter imports only"),
])
def test_a_planted_upward_import_is_found(tmp_path, module, line, expected):
    found = violations(_planted(tmp_path, module, line))
    assert any(expected in violation for violation in found), found


def test_a_planted_cycle_between_folders_is_found(tmp_path):
    # report imports analysis's folder, analysis imports report (cwtest.analysis.plot_data): a cycle of one layer
    assert folder_cycles(_planted(tmp_path, "cwtest.report.summary", "from cwtest.analysis import plots"))


def test_the_readme_lists_the_layers_top_to_bottom():
    text = README.read_text()
    table = text[text.index("## Layout"):]
    listed = [match.group(1) for match in re.finditer(r"^\| `cwtest/(\w+)/` \|", table, re.MULTILINE)]
    expected = [folder for layer in LAYERS for folder in layer if (PACKAGE / folder).is_dir() and folder]
    expected.insert(expected.index("frameworks") + 1, ADAPTERS)
    assert [f for f in listed if f in expected] == expected, listed

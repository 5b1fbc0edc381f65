"""Every crossedwires option that names a path works with a space or with '=', the path inside the project or
outside it, run from the project or from another folder, and through `cwtest suites`.

pytest chooses the rootdir before it knows plugin options: `--crossedwires-trials DIR` once made DIR a test path
for that choice, so the project's ini file went unread and a conftest below the root that loads plugins failed
(cwtest.session.rootdir). The project here has that shape: its ini names the tests' folder (testpaths) and that
folder's conftest loads cwtest's run plugin, as suites/conftest.py does.
"""

from __future__ import annotations

import argparse
import csv
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cwtest.inputs.trials import load_table
from cwtest.report.reader import HEAD
from cwtest.report.writer import SCHEMA_VERSION
from cwtest.search.cli import prepare, replay_command
from cwtest.session import shipped
from cwtest.session.plugin import SETTINGS
from cwtest.session.run import rerun_command

REPO = Path(__file__).resolve().parent.parent
OPTIONS = ("trials", "data", "report", "baseline", "checkpoints")
FORMS = ("space", "equals")


def _given(option: str, path: Path, form: str) -> list[str]:
    flag = f"--crossedwires-{option}"
    return [flag, str(path)] if form == "space" else [f"{flag}={path}"]


def _seen(settings, option: str) -> str:
    """The path the run made of the option."""
    return str({"trials": settings.table.source, "data": settings.data_path, "report": settings.report_path,
                "baseline": settings.baseline, "checkpoints": settings.checkpoints}[option])


def _make(option: str, folder: Path, cifar10_folder: Path) -> Path:
    """A valid input for the option, in `folder`; one that exists, as an existing path is what misled pytest."""
    folder.mkdir(parents=True, exist_ok=True)
    if option == "trials":
        path = folder / "mine.csv"
        path.write_text("architecture,Name,State,adam_epsilon,batch_size,learning_rate,epochs,pt_test_acc,"
                        "tf_test_acc,accuracy_diff\nvgg16,dual_train_mine,finished,0.1,100,0.001,1,0.5,0.4,0.1\n")
    elif option == "data":
        path = folder / "cifar-10-batches-py"
        shutil.copytree(cifar10_folder, path)
    elif option in ("report", "baseline"):
        path = folder / f"{option}.csv"
        with open(path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=HEAD)
            writer.writeheader()
            writer.writerow({**dict.fromkeys(HEAD, ""), "schema_version": SCHEMA_VERSION,
                             "nodeid": "checks/test_paths.py::test_earlier", "duration_s": "0.1"})
    else:
        path = folder / "pairs"
        path.mkdir()
    return path


class _Kept:
    """A plugin that keeps the run's settings and rootdir."""

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.settings, self.rootpath = session.config.stash[SETTINGS], session.config.rootpath


@pytest.fixture
def project(pytester) -> Path:
    pytester.makeini("[pytest]\ntestpaths = checks\naddopts = -k test_runs\n")
    checks = pytester.mkpydir("checks")
    (checks / "conftest.py").write_text('pytest_plugins = ["cwtest.session.run"]\n')
    (checks / "test_paths.py").write_text("def test_runs(crossedwires_settings):\n    pass\n\n\n"
                                          "def test_left_out_by_addopts():\n    assert False, 'the ini was not read'\n")
    return pytester.path


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("option", OPTIONS)
def test_from_the_project(pytester, project, tmp_path_factory, cifar10_folder, option, form, where):
    base = project / "inputs" if where == "inside" else tmp_path_factory.mktemp("outside")
    path = _make(option, base, cifar10_folder)
    kept = _Kept()
    result = pytester.runpytest(*_given(option, path, form), plugins=[kept])
    result.assert_outcomes(passed=1)
    assert kept.rootpath == project
    assert _seen(kept.settings, option) == str(path)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("option", OPTIONS)
def test_from_another_folder(pytester, project, tmp_path_factory, monkeypatch, cifar10_folder, option, form):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    path = _make(option, elsewhere, cifar10_folder)
    monkeypatch.chdir(elsewhere)
    kept = _Kept()
    result = pytester.runpytest(*_given(option, path.relative_to(elsewhere), form), str(project / "checks"),
                                plugins=[kept])
    result.assert_outcomes(passed=1)
    assert kept.rootpath == project
    assert _seen(kept.settings, option) == str(path)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("option", OPTIONS)
def test_through_cwtest_suites(pytester, tmp_path_factory, monkeypatch, cifar10_folder, option, form):
    """`cwtest suites models ...` from a folder of one's own: the arguments it hands pytest, run in this process
    (the models suite collects a handful of tests, quickly)."""
    elsewhere = tmp_path_factory.mktemp("mine")
    path = _make(option, elsewhere, cifar10_folder)
    monkeypatch.chdir(elsewhere)
    kept = _Kept()
    args = shipped.pytest_args(["models", *_given(option, path.relative_to(elsewhere), form), "--collect-only"],
                               elsewhere)
    result = pytester.runpytest(*args, plugins=[kept])
    assert result.ret == 0, result.stdout.str()
    assert kept.rootpath == shipped.suites_folder().parent
    assert _seen(kept.settings, option) == str(path)


def test_the_published_tables_from_the_checkout(crossedwires_tables):
    """The command the issue names, as a user types it in a checkout: every finished trial is collected."""
    run = subprocess.run([sys.executable, "-m", "pytest", "--crossedwires-trials", str(crossedwires_tables),
                          "--crossedwires-select", "all", "--collect-only", "-q", "-p", "no:cacheprovider"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    finished = {t.id for t in load_table(crossedwires_tables).trials if t.state == "finished"}
    collected = {line.split("[", 1)[1].rstrip("]") for line in run.stdout.splitlines()
                 if "test_recorded_numbers_agree[" in line}
    assert collected == finished


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """A printed command, run as a user runs it, in the folder it was printed for, with this environment's
    `pytest` and `cwtest` (as modules: the scripts of an environment with its own site-packages path may be absent)."""
    program, *words = shlex.split(command)
    words = [sys.executable, "-m", {"pytest": "pytest", "cwtest": "cwtest.cli"}[program], *words]
    return subprocess.run([*words, "-p", "no:cacheprovider"], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_rerun_of_a_crashed_test_runs_it_from_the_project(pytester, project, tmp_path_factory, cifar10_folder):
    trials = _make("trials", tmp_path_factory.mktemp("outside"), cifar10_folder)
    config = pytester.parseconfig("--crossedwires-trials", str(trials), "--crossedwires-report", "r.csv")
    command = rerun_command(config)("checks/test_paths.py::test_runs")
    assert "r.csv" not in command  # the rerun leaves the run's report alone
    run = _run(command, project)
    assert run.returncode == 0 and "1 passed" in run.stdout, command + run.stdout[-2000:]


def test_the_rerun_of_a_crashed_test_runs_it_after_cwtest_suites(pytester, tmp_path_factory, monkeypatch):
    elsewhere = tmp_path_factory.mktemp("mine")
    monkeypatch.chdir(elsewhere)
    config = pytester.parseconfig(*shipped.pytest_args(["models", "--crossedwires-arch", "vgg16"], elsewhere))
    nodeid = "suites/models/test_forward.py::test_forward_statistics[vgg16]"
    run = _run(rerun_command(config)(nodeid) + " --collect-only -q", elsewhere)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    [line] = [line for line in run.stdout.splitlines() if "::" in line]  # its id depends on where pytest roots it
    assert line.endswith("test_forward.py::test_forward_statistics[vgg16]")


def test_the_replay_a_search_prints_collects_its_trials_in_a_folder_of_ones_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = Path("found.csv")
    args = argparse.Namespace(arch="vgg16", pair="torch:cpu,keras-jax:cpu", space="", whole_space=False,
                              subspaces=1, out=str(found), objective="published", budget="smoke", address=None,
                              trials=1, cpus_per_trial=None)
    command = replay_command(prepare(args), None)
    found.write_text("architecture,Name,State,adam_epsilon,batch_size,learning_rate,epochs,pt_test_acc,"
                     "tf_test_acc,accuracy_diff\nvgg16,dual_train_found,finished,0.1,100,0.001,1,0.5,0.4,0.1\n")
    run = _run(command + " --collect-only -q -k test_published", tmp_path)
    assert run.returncode == 0, command + run.stdout[-2000:] + run.stderr[-2000:]
    assert [line for line in run.stdout.splitlines() if "::" in line] == [
        "suites/trials/test_training.py::test_published[vgg16-dual_train_found]"]

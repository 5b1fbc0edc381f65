"""`cwtest trials` on the published exports and on bad input."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cwtest.cli import main


def test_summary_recomputes_the_papers_tables_2_and_3(crossedwires_tables, capsys):
    assert main(["trials", "summary", "--trials", str(crossedwires_tables)]) == 0
    lines = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    assert lines["vgg16"][1:3] == ["400", "0.0000"] and lines["vgg16"][3] == "0.6815"
    assert lines["resnet50"][1] == "399" and lines["resnet50"][3] == "0.4520"
    assert lines["densenet121"][-1] == "52.5%"
    assert lines["all:"] == "all: 1199 finished trials, 52.4% with accuracy_diff >= 0.05".split()


def test_show_top_and_bottom(crossedwires_tables, capsys):
    assert main(["trials", "show", "--trials", str(crossedwires_tables), "--arch", "densenet121",
                 "--top", "3", "--bottom", "3"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [r.split()[1] for r in rows] == ["dual_train_a0e76fd4", "dual_train_b5680f9a", "dual_train_1623a870",
                                            "dual_train_2454a266", "dual_train_cde83690", "dual_train_b46dfe00"]


def test_builtin_table_by_default(capsys):
    assert main(["trials", "show"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 18


@pytest.mark.parametrize(
    "argv, message",
    [
        (["trials", "summary", "--trials", "nowhere.csv"], "cwtest: --trials: no such file or folder: nowhere.csv"),
        (["trials", "summary", "--arch", "lenet"], "cwtest: --arch: unknown architecture lenet"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_console_script_is_installed():
    # pip puts console scripts beside the interpreter that installed the project.
    script = shutil.which("cwtest", path=str(Path(sys.executable).parent))
    assert script, f"no cwtest console script beside {sys.executable}: install the project (pip install -e .)"
    result = subprocess.run([script, "trials", "summary"], capture_output=True, text=True)
    assert result.returncode == 0 and "18 finished trials" in result.stdout
    bad = subprocess.run([script, "trials", "show", "--top", "many"], capture_output=True, text=True)
    assert bad.returncode == 2 and "not a positive whole number" in bad.stderr

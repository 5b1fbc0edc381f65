"""`cwtest search` (a real search on a local Ray, killed mid-trial and resumed, its results replayed as a
trial table), its space and its bad input; `cwtest merge` of pytest-split shards; `cwtest plot search`."""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from fnmatch import fnmatch
from pathlib import Path

import pytest

from cwtest.search.results import COLUMNS
from cwtest.search.space import PUBLISHED, parse_space, subspaces

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
SEARCH_SECONDS = 1800  # a bound on the whole search test, far above its minutes, so a hung Ray fails it


def _cwtest(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cwtest.cli", *args], capture_output=True, text=True, env=ENV,
                          cwd=cwd, timeout=SEARCH_SECONDS)


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_published_space_splits_at_the_recorded_boundaries():
    parts = subspaces(PUBLISHED)
    assert len(parts) == 16
    learning_rate, _, batch_size, epochs = PUBLISHED
    assert learning_rate.halves()[0].high == pytest.approx(0.0625000038, rel=1e-9)  # a recorded boundary
    assert [(half.low, half.high) for half in batch_size.halves()] == [(10, 628), (382, 1000)]  # 382 recorded
    assert [(half.low, half.high) for half in epochs.halves()] == [(1, 31), (20, 50)]
    assert parts[0][0].high == parts[1][0].high and parts[0][3] != parts[1][3]  # the last dimension varies first


def test_a_space_of_ones_own_narrows_the_published_one():
    space = parse_space("learning_rate=1e-4:1e-2,epochs=1:3")
    assert [(d.low, d.high) for d in space] == [(1e-4, 1e-2), (1e-8, 1.0), (10, 1000), (1, 3)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("args, message", [
    (["--arch", "alexnet"], "cwtest: --arch: unknown architecture alexnet (known: *"),
    (["--arch", "vgg16,resnet50"], "cwtest: --arch: one architecture per search, not 'vgg16,resnet50'"),
    (["--arch", "vgg16", "--space", "learning_rate=0.1:0.01"],
     "cwtest: --space: learning_rate range 0.1:0.01 is empty or inverted (low must be below high)"),
    (["--arch", "vgg16", "--space", "epochs=3:3"], "cwtest: --space: epochs range 3:3 is empty or inverted*"),
    (["--arch", "vgg16", "--space", "batch_size=5:20"], "cwtest: --space: batch_size range 5:20 leaves the published*"),
    (["--arch", "vgg16", "--pair", "torch:cpu,onnxruntime:cpu"], "cwtest: --pair: a search trains a torch side*"),
    (["--arch", "vgg16", "--address", "127.0.0.1:{port}"],
     "cwtest: --address 127.0.0.1:{port}: no Ray cluster reachable there*"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, args, message):
    port = str(_free_port())
    out = tmp_path / "found.csv"
    result = _cwtest("search", *[a.replace("{port}", port) for a in args], "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert fnmatch(lines[0], message.replace("{port}", port)), lines[0]
    assert not out.exists()


def test_a_results_file_of_another_search_is_refused_untouched(tmp_path):
    out = tmp_path / "found.csv"
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        writer.writerow({"Name": "search_published_s00_t001", "architecture": "resnet50", "budget": "smoke",
                         "objective": "published", "pair": "torch:cpu->tensorflow:cpu", "subspace": 0,
                         "search_space": "learning_rate 1e-08:0.1, adam_epsilon 1e-08:1, batch_size 10:1000, epochs 1:50"})
    before = out.read_bytes()
    result = _cwtest("search", "--arch", "vgg16", "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"cwtest: --out {out}: holds a search with other settings (architecture "
                                      f"resnet50); name a new file to start another")
    assert out.read_bytes() == before


def _wait_for_rows(path: Path, count: int, process: subprocess.Popen, deadline: float) -> None:
    while not (path.exists() and len(_rows(path)) >= count):
        assert process.poll() is None, f"the search ended early: {process.returncode}"
        assert time.monotonic() < deadline, "no trial finished in time"
        time.sleep(1)


def test_a_search_killed_mid_trial_resumes_and_its_trials_replay(tmp_path, pytester):
    """Two subspaces x three VGG16 trials at the smoke budget on a local Ray: killed (the whole process group,
    as a lost machine) while the second trial trains, then run again; every finished trial kept once."""
    out = tmp_path / "found.csv"
    command = ["search", "--arch", "vgg16", "--budget", "smoke", "--subspaces", "2", "--trials", "3", "--out", str(out)]
    with open(tmp_path / "first.log", "w") as log:
        first = subprocess.Popen([sys.executable, "-m", "cwtest.cli", *command], stdout=log, stderr=log, env=ENV,
                                 start_new_session=True)
        try:
            _wait_for_rows(out, 1, first, time.monotonic() + SEARCH_SECONDS)
            time.sleep(5)  # the next trial is under way
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    kept = out.read_bytes()
    assert 1 <= len(_rows(out)) < 6
    resumed = _cwtest(*command)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert out.read_bytes().startswith(kept)
    rows = _rows(out)
    names = [r["Name"] for r in rows]
    assert len(names) == len(set(names)) == 6
    assert sorted((r["subspace"], r["subspace_trial"]) for r in rows) == [(s, t) for s in "01" for t in "123"]
    assert "trial(s) already in the results file" in resumed.stderr
    # What it tells the user to run next works in any folder (tests/test_path_options.py runs such a line).
    assert f"replay them with cwtest suites trials --crossedwires-trials={out} --crossedwires-arch=vgg16" in resumed.stdout

    from cwtest.inputs.trials import load_table

    table = load_table(out)
    assert len(table.finished) == 6 and {t.arch for t in table.finished} == {"vgg16"}
    for trial in table.finished:
        assert 1e-8 <= trial.learning_rate <= 0.1 and 10 <= trial.batch_size <= 1000

    figure = _cwtest("plot", "search", str(out), "--out", str(tmp_path / "search"))
    assert figure.returncode == 0, figure.stderr
    assert (tmp_path / "search.png").stat().st_size > 0

    replay = pytester.runpytest_subprocess(str(REPO / "suites" / "trials"), "-k", "test_published or test_recorded",
                                           "--crossedwires-trials", str(out), "--crossedwires-select", "top:1",
                                           "-p", "no:cacheprovider")
    replay.assert_outcomes(passed=2)


def test_merge_joins_pytest_split_shards_into_the_unsplit_report(pytester, crossedwires_tables):
    common = [str(REPO / "suites" / "trials" / "test_recorded.py"), "--crossedwires-trials", str(crossedwires_tables),
              "--crossedwires-select", "top:3", "-p", "no:cacheprovider"]
    pytester.runpytest_subprocess(*common, "--crossedwires-report", "whole.csv").assert_outcomes(passed=9)
    for group in (1, 2):
        shard = pytester.runpytest_subprocess(*common, "--splits", "2", "--group", str(group),
                                              "--crossedwires-report", f"shard{group}.csv")
        assert shard.ret == 0
    shards = [str(pytester.path / f"shard{group}.csv") for group in (1, 2)]
    merged = _cwtest("merge", *shards, "--out", str(pytester.path / "merged.csv"))
    assert merged.returncode == 0, merged.stderr
    whole, joined = _rows(pytester.path / "whole.csv"), _rows(pytester.path / "merged.csv")
    assert list(whole[0]) == list(joined[0])
    same = [c for c in whole[0] if c not in ("duration_s", "process_peak_rss_mb", "keras_children_peak_rss_mb")]
    assert [{c: r[c] for c in same} for r in whole] == [{c: r[c] for c in same} for r in joined]

    rows = _rows(pytester.path / "shard2.csv")
    for row in rows:
        row["torch_version"] = "0.0.1"
    with open(pytester.path / "shard2.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    refused = _cwtest("merge", *shards, "--out", str(pytester.path / "other.csv"))
    assert refused.returncode == 2
    assert refused.stderr.strip().startswith(f"cwtest: {shards[1]}: written with torch 0.0.1, {shards[0]} with ")
    assert not (pytester.path / "other.csv").exists()
    assert _cwtest("merge", *shards, "--out", str(pytester.path / "other.csv"), "--allow-versions").returncode == 0

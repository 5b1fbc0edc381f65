"""The plugin in real pytest sessions: options, header, ids, bad input and the CSV report."""

import csv
import shutil

import pytest

from cwtest.report.writer import CHILDREN_PEAK_RSS, PEAK_RSS, SCHEMA_VERSION, backends_text

# A test file exercising every outcome and recording metrics, used by the report tests.
OUTCOMES = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("setup fails")

def test_metrics(crossedwires_arch, record_metric):
    record_metric("answer", 42)
    record_metric("arch_length", len(crossedwires_arch))

def test_trial(crossedwires_trial, record_metric):
    record_metric("recorded_diff", crossedwires_trial.accuracy_diff)

def test_fails():
    assert 1 == 2

def test_skips():
    pytest.skip("not today")

@pytest.mark.xfail(reason="known")
def test_xfails():
    assert False

@pytest.mark.xfail(reason="known")
def test_xpasses():
    pass

def test_errors(broken):
    pass
"""


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _without_timing(rows):
    """Rows without what measures the process rather than the test (time, memory)."""
    return [{k: v for k, v in row.items() if k not in ("duration_s", PEAK_RSS, CHILDREN_PEAK_RSS)} for row in rows]


def test_help_lists_the_options(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*cwtest: cross-framework equivalence*"])
    for name in ("arch", "pair", "trials", "select", "data", "budget", "report"):
        result.stdout.fnmatch_lines([f"*--crossedwires-{name}*", f"*crossedwires_{name} *"])


def test_header_and_ids(pytester):
    pytester.makepyfile(test_x="def test_t(crossedwires_trial): pass")
    result = pytester.runpytest("--collect-only", "-q", "--crossedwires-arch", "vgg16")
    result.stdout.fnmatch_lines(["test_x.py::test_t[vgg16-dual_train_5e67eae2]", "*6 tests collected*"])
    header = pytester.runpytest("--collect-only", "--crossedwires-arch=densenet121,resnet50", "--crossedwires-select=top:1")
    header.stdout.fnmatch_lines([
        "cwtest *: torch *, torchvision *, tensorflow *, keras *, onnxruntime *",
        "crossedwires trials: built-in (paper Tables 4-6): 2 selected for resnet50, densenet121; 0 not finished, excluded",
        "crossedwires data: synthetic CIFAR-shaped data (5000 train, 1000 test images)",
        "crossedwires budget: smoke (500 train / 250 test images, at most 1 epoch(s)); pair: torch:cpu->tensorflow:cpu",
    ])


def test_arch_option_repeats_and_ini(pytester):
    pytester.makepyfile(test_x="def test_a(crossedwires_arch): pass")
    result = pytester.runpytest("--collect-only", "-q", "--crossedwires-arch", "vgg16", "--crossedwires-arch", "resnet50")
    result.stdout.fnmatch_lines(["test_x.py::test_a[vgg16]", "test_x.py::test_a[resnet50]", "*2 tests collected*"])
    pytester.makeini("[pytest]\ncrossedwires_arch = densenet121\ncrossedwires_budget = reduced\n")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_x.py::test_a[densenet121]", "*1 test collected*"])
    result = pytester.runpytest("--collect-only", "--crossedwires-budget", "full")  # the command line wins
    result.stdout.fnmatch_lines(["crossedwires budget: full (all images and epochs)*"])


def test_collecting_every_published_trial_imports_no_framework(pytester, crossedwires_tables):
    pytester.makeconftest("""
import sys
def pytest_collection_finish(session):
    loaded = sorted(m for m in ("torch", "tensorflow", "keras", "onnxruntime") if m in sys.modules)
    print("frameworks imported during collection:", loaded or "none")
""")
    pytester.makepyfile(test_x="def test_t(crossedwires_trial): pass")
    result = pytester.runpytest_subprocess("--collect-only", "-q", "-s", "--crossedwires-trials",
                                           str(crossedwires_tables), "--crossedwires-select", "all")
    result.stdout.fnmatch_lines(["frameworks imported during collection: none", "*1199 tests collected*"])
    result.stdout.no_fnmatch_line("*dual_train_3450eb44*")  # the one unfinished ResNet50 trial


def _bad_csv(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--crossedwires-arch", "alexnet"], "--crossedwires-arch: unknown architecture alexnet*"),
        (["--crossedwires-pair", "jax:cpu,torch:cpu"], "--crossedwires-pair: unknown framework 'jax'*"),
        (["--crossedwires-pair", "torch:tpu,tensorflow:cpu"], "--crossedwires-pair: unknown device 'tpu' for torch*"),
        (["--crossedwires-budget", "huge"], "--crossedwires-budget: unknown budget 'huge'*"),
        (["--crossedwires-trials", "missing.csv"], "--crossedwires-trials: no such file or folder: *missing.csv"),
        (["--crossedwires-trials", "CSV:Name,State\nx,finished\n"], "*vgg_export.csv: missing column(s) learning_rate*"),
        (["--crossedwires-trials", "CSV:" + "Name,State,learning_rate,batch_size,epochs,adam_epsilon,pt_test_acc,"
          "tf_test_acc,accuracy_diff\nt1,finished,0.01,ten,2,0.1,0.5,0.5,0\n"],
         "*trial t1: batch_size is not a number: 'ten'"),
        (["--crossedwires-trials", "CSV:" + "Name,State,learning_rate,batch_size,epochs,adam_epsilon,pt_test_acc,"
          "tf_test_acc,accuracy_diff\nt1,finished,0.01,10,99,0.1,0.5,0.5,0\n"],
         "*trial t1: epochs=99 is outside the search range [[]1, 50]"),
        (["--crossedwires-select", "epochs > 50"], "--crossedwires-select: 'epochs > 50' matches no trial"),
        (["--crossedwires-data", "."], "--crossedwires-data: * is not a CIFAR-10 python-version folder (missing data_batch_1*"),
        (["--crossedwires-report", "no/such/folder/r.csv"], "--crossedwires-report: cannot write *: folder * does not exist"),
        (["--crossedwires-report", "."], "--crossedwires-report: * is a folder, not a file"),
        (["--crossedwires-harmonize", "adam_epsilon,magic"], "--crossedwires-harmonize: unknown knob magic*"),
        (["--crossedwires-repeats", "0"], "--crossedwires-repeats: '0' is not a positive whole number"),
        (["--crossedwires-baseline", "old.csv"], "--crossedwires-baseline: no such file: *old.csv"),
        (["--crossedwires-baseline", "CSV:a,b\n1,2\n"], "--crossedwires-baseline *vgg_export.csv: not a cwtest report*"),
        (["--crossedwires-pair", "torch:cpu,tensorflow:cpu:fp16"],
         "--crossedwires-pair: 'tensorflow:cpu:fp16': fp16 is a torch autocast mode; tensorflow sides take fp32 or tf32"),
        (["--crossedwires-pair", "torch:cpu,onnxruntime:cpu", "--crossedwires-attribution"],
         "--crossedwires-attribution: only the trial suite reads it, and it cannot train onnxruntime:cpu *"),
        (["--crossedwires-harmonize", "init"], "--crossedwires-harmonize: init cannot copy torch's resnet50 weights *"),
    ],
    ids=["arch", "framework", "device", "budget", "missing-file", "missing-columns", "non-numeric",
         "out-of-range", "empty-selection", "data-folder", "report-folder-missing", "report-is-folder",
         "knob", "repeats", "baseline-missing", "baseline-not-a-report", "keras-fp16", "onnx-attribution",
         "resnet50-init"],
)
def test_bad_input_is_one_clear_line(pytester, args, message):
    if args[1].startswith("CSV:"):
        args = [args[0], _bad_csv(pytester.path / "vgg_export.csv", args[1][4:])]
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert len([line for line in result.stderr.lines if line.strip()]) == 1
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_unwritable_report_stops_a_parallel_run_before_any_test(pytester):
    ran = pytester.path / "test-ran"
    pytester.makepyfile(test_x=f"def test_t(): open({str(ran)!r}, 'w').close()")
    result = pytester.runpytest("-n", "2", "--crossedwires-report", "no/such/folder/r.csv")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        f"ERROR: --crossedwires-report: cannot write {pytester.path / 'no/such/folder/r.csv'}: "
        f"folder {pytester.path / 'no/such/folder'} does not exist"]
    assert not ran.exists()
    pytester.runpytest("-n", "2").assert_outcomes(passed=1)  # the same run with a usable path runs the test
    assert ran.exists()


def test_truncated_data_file_is_a_usage_error(pytester, cifar10_folder):
    folder = pytester.path / "cifar-10-batches-py"
    shutil.copytree(cifar10_folder, folder)
    raw = (folder / "test_batch").read_bytes()
    (folder / "test_batch").write_bytes(raw[:1000])
    result = pytester.runpytest("--crossedwires-data", str(pytester.path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --crossedwires-data: *test_batch is truncated or not a CIFAR-10 pickle"])


def test_report_rows_and_outcomes(pytester):
    pytester.makepyfile(test_outcomes=OUTCOMES)
    result = pytester.runpytest("--crossedwires-arch", "vgg16", "--crossedwires-select", "top:1",
                                "--crossedwires-report", "r.csv")
    result.stdout.fnmatch_lines(["cwtest: wrote 7 rows to *r.csv"])
    rows = {row["nodeid"].split("::")[1]: row for row in _rows(pytester.path / "r.csv")}
    assert {name: row["outcome"] for name, row in rows.items()} == {
        "test_metrics[vgg16]": "passed", "test_trial[vgg16-dual_train_5e67eae2]": "passed",
        "test_fails": "failed", "test_skips": "skipped", "test_xfails": "xfailed",
        "test_xpasses": "xpassed", "test_errors": "error",
    }
    metrics = rows["test_metrics[vgg16]"]
    assert (metrics["answer"], metrics["arch_length"], metrics["arch"]) == ("42.0", "5.0", "vgg16")
    trial = rows["test_trial[vgg16-dual_train_5e67eae2]"]
    assert (trial["trial"], trial["recorded_diff"], trial["budget"]) == ("dual_train_5e67eae2", "0.68152", "smoke")
    assert trial["pair"] == "torch:cpu->tensorflow:cpu" and trial["device"] == "cpu"
    assert trial["backends"].startswith("torch:cpu: torch 2.") and "; tensorflow:cpu: keras 3." in trial["backends"]
    assert trial["schema_version"] == str(SCHEMA_VERSION) and trial["torch_version"] and trial["tensorflow_version"]
    assert not [p for p in pytester.path.iterdir() if p.name.endswith(".tmp")]


def test_a_pair_that_is_not_two_sides_gets_an_empty_backends_cell():
    # A user's own test may record any text as its pair; the report must still be written.
    assert backends_text("my-model->my-other-model") == ""
    assert backends_text("") == ""
    assert backends_text("torch:cpu->keras-jax:cpu").startswith("torch:cpu: torch ")


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_rows_and_summary_carry_each_process_peak_memory(pytester, workers):
    pytester.makepyfile(test_memory="def test_holds():\n    block = b'x' * (800 * 2**20)\n    assert block[-1:] == b'x'\n")
    result = pytester.runpytest_subprocess(*workers, "--crossedwires-report", "r.csv")
    [row] = _rows(pytester.path / "r.csv")
    assert float(row[PEAK_RSS]) >= 800  # the 800 MB the test wrote, and the interpreter around it
    # Either worker may be the one that runs the single test.
    result.stdout.fnmatch_lines([f"cwtest: peak resident memory: {'gw[01]' if workers else 'this process'} *.* GB"])


def test_same_rows_with_and_without_xdist(pytester):
    pytester.makepyfile(test_outcomes=OUTCOMES)
    common = ["--crossedwires-arch", "vgg16,densenet121", "-p", "no:randomly"]
    pytester.runpytest(*common, "--crossedwires-report", "serial.csv")
    pytester.runpytest(*common, "-n", "2", "--crossedwires-report", "parallel.csv")
    serial, parallel = _rows(pytester.path / "serial.csv"), _rows(pytester.path / "parallel.csv")
    assert len(serial) == 2 + 12 + 5
    assert _without_timing(serial) == _without_timing(parallel)


def test_junit_properties(pytester):
    pytester.makepyfile(test_outcomes=OUTCOMES)
    pytester.runpytest("-n", "2", "--crossedwires-arch", "vgg16", "--junitxml", "j.xml")
    xml = (pytester.path / "j.xml").read_text()
    assert '<property name="metric:answer" value="42.0" />' in xml
    assert '<property name="cw:arch" value="vgg16" />' in xml


def test_interrupted_run_still_writes_the_report(pytester):
    pytester.makepyfile(test_stop="""
def test_first(record_metric):
    record_metric("done", 1)

def test_second():
    raise KeyboardInterrupt

def test_never_reached():
    pass
""")
    (pytester.path / "r.csv").write_text("an old report\n")
    result = pytester.runpytest("--crossedwires-report", "r.csv", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    rows = _rows(pytester.path / "r.csv")
    assert [(r["nodeid"], r["outcome"]) for r in rows] == [("test_stop.py::test_first", "passed"),
                                                           ("test_stop.py::test_second", "interrupted")]
    assert rows[0]["done"] == "1.0"


def test_crashed_worker_is_a_row(pytester):
    pytester.makepyfile(test_crash="""
import os

def test_crashes():
    os._exit(3)

def test_survives(record_metric):
    record_metric("fine", 1)
""")
    result = pytester.runpytest("-n", "2", "--crossedwires-report", "r.csv")
    result.stdout.fnmatch_lines(["*worker 'gw*' crashed while running*test_crashes*"])
    rows = {r["nodeid"]: r["outcome"] for r in _rows(pytester.path / "r.csv")}
    assert rows == {"test_crash.py::test_crashes": "crashed", "test_crash.py::test_survives": "passed"}

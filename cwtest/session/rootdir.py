"""The run's rootdir and ini file chosen again once the crossedwires options are known.

pytest chooses the rootdir and the ini file in `Config.parse`, from the command-line arguments that look like
paths, before it loads the plugins of installed packages (cwtest is one, by its pytest11 entry point). At that
point `--crossedwires-trials /data/exports` is an unknown option followed by a positional argument, so
/data/exports counts as a test path: the rootdir becomes /data/exports or a folder above it, the checkout's
pyproject.toml is not read (no testpaths), and suites/conftest.py fails ("Defining 'pytest_plugins' in a
non-top-level conftest"). `--crossedwires-trials=/data/exports` is one argument that starts with '-', which
pytest skips. pytest offers no hook before that choice to a plugin loaded by entry point, so once the options
are known (pytest_load_initial_conftests, before any conftest is read and before the test paths are decided)
this module makes the choice again, with pytest's own function, from the arguments that really are test
paths, and puts the result where pytest keeps it. The attributes set here are pytest's own, of `Config.parse`
(pytest 8 and 9); tests/test_path_options.py runs real sessions against the pinned pytest.
"""

from __future__ import annotations

import copy
import inspect

import pytest


def choose_again(config: pytest.Config, args: list[str]) -> None:
    """Sets the rootdir and ini file that pytest chooses when it knows the crossedwires options; `args` is the
    run's argument list, which pytest parses again after this hook (the ini's addopts go in front of it)."""
    from _pytest.config.findpaths import determine_setup

    known = config.known_args_namespace  # parsed with the plugins' options: the real test paths
    given = {"inifile": known.inifilename, "override_ini": known.override_ini, "args": known.file_or_dir,
             "rootdir_cmd_arg": known.rootdir or None, "invocation_dir": config.invocation_params.dir}
    accepted = inspect.signature(determine_setup).parameters  # older pytest releases take fewer
    rootpath, inipath, inicfg, *ignored = determine_setup(**{k: v for k, v in given.items() if k in accepted})
    if (rootpath, inipath) == (config.rootpath, config.inipath):
        return
    old_addopts = list(config.getini("addopts"))
    config._unconfigure_python_path()  # the wrong ini's `pythonpath`, if it had one
    config._rootpath, config._inipath, config._inicfg = rootpath, inipath, inicfg
    if ignored:
        config._ignored_config_files = ignored[0]
    config._inicache.clear()
    config._parser.extra_info.update(rootdir=str(rootpath), inifile=str(inipath))
    # The wrong ini's addopts were put in front of the arguments; the right one's go there instead.
    if args[:len(old_addopts)] == old_addopts:
        del args[:len(old_addopts)]
    args[:0] = config.getini("addopts")
    config.known_args_namespace = known = config._parser.parse_known_args(args, namespace=copy.copy(config.option))
    if known.confcutdir is None:  # pytest's default, from the ini file or the rootdir
        known.confcutdir = str(inipath.parent if inipath else rootpath)
    config._checkversion()
    config._configure_python_path()
    config._validate_plugins()

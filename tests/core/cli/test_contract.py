"""The CLI contract every system keeps: shared verbs and options, and one error path for bad paths.

Both tests walk the systems registered through the ``ennead.systems`` entry points, so a new
system is checked as soon as it is registered.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ennead.core.cli.app import app as root_app
from ennead.core.cli.common import DIR, FILE, FILES, run_app
from ennead.core.registry import load_target
from ennead.core.systems import get_system, systems

SHARED_VERBS = {"demo", "evaluate", "report", "check", "config"}
# the verb that plays ``train`` where a system has none by that name (docs/howto/extend.md)
TRAIN_EQUIVALENT = {"sqe": "optimize", "cuge": "predict"}
SYSTEMS = systems.names()


def _commands(name: str) -> dict[str, Any]:
    group = typer.main.get_command(load_target(get_system(name).cli))
    return dict(group.commands)  # type: ignore[attr-defined]


def _options(cmd: Any) -> set[str]:
    return {opt for p in cmd.params for opt in p.opts}


@pytest.mark.parametrize("name", SYSTEMS)
def test_every_system_has_the_shared_verbs_and_options(name):
    cmds = _commands(name)
    train = TRAIN_EQUIVALENT.get(name, "train")
    assert SHARED_VERBS | {train} <= set(cmds), sorted(SHARED_VERBS | {train} - set(cmds))
    for verb in ("config", "check", "evaluate", train):
        assert "--set" in _options(cmds[verb]), f"{name} {verb} has no --set"
    for verb in ("check", "evaluate", train):
        assert "--json" in _options(cmds[verb]), f"{name} {verb} has no --json"


def test_root_has_verbose_version_and_no_bool_hint():
    root = typer.main.get_command(root_app)
    assert {"--verbose", "--version"} <= _options(root)
    res = CliRunner().invoke(root_app, ["--help"], env={"COLUMNS": "120"})
    assert res.exit_code == 0 and "--verbose" in res.output
    assert "<bool>" not in res.output


def test_version_flag(capsys):
    from ennead import __version__

    assert run_app(root_app, ["--version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def _path_params(cmd: Any) -> list[Any]:
    out = []
    for p in cmd.params:
        meta = (p.metavar or "").strip("[].")
        if meta in (FILE, FILES, DIR, "CONFIG") or p.name == "config":
            out.append(p)
    return out


def _cases(tmp_path: Path, suffix: str) -> list[tuple[Path, str]]:
    folder = tmp_path / "a folder"
    folder.mkdir(parents=True)
    empty = tmp_path / f"empty{suffix}"
    empty.write_text("")
    return [(folder, "a folder"), (tmp_path / f"missing{suffix}", "missing"), (empty, "empty")]


def _argv(name: str, verb: str, cmd: Any, tested: Any, bad: Path, tmp: Path):
    """Arguments giving ``tested`` the bad value and every other required parameter a fine one."""
    fine_file = tmp / "fine.txt"
    fine_file.write_text("x\n")
    args: list[str] = []
    for p in cmd.params:
        if p is tested:
            value = str(bad)
        elif p.required or (p.default is not None and p.metavar == FILE):
            meta = (p.metavar or "").strip("[].")
            value = str(tmp if meta == DIR else fine_file if meta in (FILE, FILES) else tmp / "o")
        else:
            continue
        if p.param_type_name == "option":
            args += [p.opts[0], value]
        else:
            args.append(value)
    return [name, verb, *args]


def _walk() -> list[tuple[str, str]]:
    return [
        (name, verb)
        for name in SYSTEMS
        for verb, cmd in sorted(_commands(name).items())
        if _path_params(cmd)
    ]


class _TooSlow(Exception):
    pass


def _run_briefly(argv: list[str], seconds: int = 60) -> int:
    """run_app, failing (not hanging) when a verb starts real work instead of refusing its input."""
    import signal

    def stop(*_: Any) -> None:
        raise _TooSlow(f"{' '.join(argv)} still running after {seconds} s: input not checked first")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        return run_app(root_app, argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize(("name", "verb"), _walk())
def test_bad_paths_are_one_line_errors(name, verb, tmp_path, capsys):
    cmd = _commands(name)[verb]
    for param in _path_params(cmd):
        meta = (param.metavar or "").strip("[].")
        suffix = ".yaml" if param.name == "config" else ".txt"
        for bad, label in _cases(tmp_path / f"{param.name}", suffix):
            if meta == DIR and label == "a folder":
                continue  # a folder is what DIR wants; the empty file stands for "not a folder"
            argv = _argv(name, verb, cmd, param, bad, tmp_path)
            code = _run_briefly(argv)
            out, err = capsys.readouterr()
            where = f"{' '.join(argv)} ({label} as {param.name})"
            assert code == 2, f"{where}: exit {code}\n{err}"
            if verb == "check":  # bad input is what check reports: `file: problem` on stdout
                assert not err and f"{bad}: " in out, f"{where}:\n{out}{err}"
                continue
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), f"{where}:\n{err}"
            assert str(bad) in lines[0], f"{where}: path not named: {lines[0]}"


def test_long_error_is_not_wrapped_when_stderr_is_not_a_terminal(tmp_path):
    missing = (
        tmp_path / ("a-rather-long-folder-name-" * 4) / "tracker-output-that-does-not-exist.txt"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "ennead", "sqe", "score", str(missing)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "80"},
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) > 120, proc.stderr
    assert lines[0] == f"error: input file not found ({missing})"
    assert "Traceback" not in proc.stderr


def test_verbose_shows_the_traceback(tmp_path, capsys):
    code = run_app(root_app, ["--verbose", "sqe", "config", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("error: config file is a folder")

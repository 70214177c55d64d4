"""What every system's CLI shares: arguments, config loading, input checks, output, one error path.

A system's ``cli.py`` builds its Typer app from these pieces so that every system reads the same:
``ennead <system> <verb> [CONFIG] [--set key=value ...] [--run-dir DIR] [--json]``. Verbs call the
system's facade; errors are raised, never printed, and :func:`run_app` turns them into one line.

Path parameters carry a metavar that says what they are (``FILE``, ``DIR``, ``OUT``), so the help
reads well and the CLI tests can find every input path and try it with bad values.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ennead.core.checks import input_dir, input_file, strip_place
from ennead.core.errors import DataError, EnneadError

C = TypeVar("C")

# metavars of path parameters: inputs are checked before the verb runs
FILE, FILES, DIR, OUT = "FILE", "FILES", "DIR", "OUT"

# -- shared arguments and options ------------------------------------------------------------------

ConfigArg = Annotated[
    str | None,
    typer.Argument(
        help="Preset name (tiny, default, paper, ...) or a YAML file.",
        metavar="[CONFIG]",
        show_default=False,
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override a config key (repeatable): key.sub=value.", metavar="KEY=VALUE"
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ConfigOpt = Annotated[
    str | None,
    typer.Option("--config", "-c", help="Preset name or a YAML file.", show_default=False),
]
RunDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--run-dir",
        "--out",
        "-o",
        help="Run folder (default runs/<system>-<time>; rerun it to resume).",
        metavar=OUT,
    ),
]


def system_app(help: str) -> typer.Typer:
    """A system's sub-app, configured like every other one."""
    return typer.Typer(help=help, no_args_is_help=True, pretty_exceptions_enable=False)


# -- input paths -------------------------------------------------------------------------------


def _file_check(text: bool) -> Callable[[Any], Any]:
    def callback(value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, (list, tuple)):
            return [input_file(v, text=text) for v in value]
        return input_file(value, text=text)

    return callback


def _dir_check(value: Any) -> Any:
    return None if value is None else input_dir(value)


def file_arg(help: str, *, many: bool = False, text: bool = True) -> Any:
    """``typer.Argument`` for input file(s), checked before the verb runs."""
    return typer.Argument(help=help, metavar=FILES if many else FILE, callback=_file_check(text))


def file_opt(*names: str, help: str, text: bool = True) -> Any:
    """``typer.Option`` for an input file (``text=False``: binary), checked before the verb runs."""
    return typer.Option(*names, help=help, metavar=FILE, callback=_file_check(text))


def dir_arg(help: str) -> Any:
    """``typer.Argument`` for an existing input folder (a run folder, a data folder)."""
    return typer.Argument(help=help, metavar=DIR, callback=_dir_check)


def dir_opt(*names: str, help: str) -> Any:
    return typer.Option(*names, help=help, metavar=DIR, callback=_dir_check)


def out_opt(*names: str, help: str) -> Any:
    """``typer.Option`` for something the verb writes (not checked: it may not exist yet)."""
    return typer.Option(*names, help=help, metavar=OUT)


# -- configs -----------------------------------------------------------------------------------


def _is_config_file(config: str) -> bool:
    return config.endswith((".yaml", ".yml")) or os.sep in config or Path(config).exists()


def load_system_config(
    cls: type[C],
    config: str | None,
    overrides: Sequence[str] | None,
    *,
    package: str,
    default: str | None = "default",
) -> C:
    """The system's config from a preset name or a YAML file, then ``--set`` overrides."""
    from ennead.core.config import load_config

    if config is not None and _is_config_file(config):
        input_file(config, "config file")
    name = config if config is not None else default
    return load_config(cls, name, overrides or (), package=package)  # type: ignore[type-var,return-value]


def check_config(
    cls: type[C],
    config: str | None,
    overrides: Sequence[str] | None,
    *,
    package: str,
    default: str | None = "default",
) -> tuple[C | None, list[Any]]:
    """Like :func:`load_system_config`, but a problem is returned as a ``CheckIssue``."""
    from ennead.core.results import CheckIssue

    try:
        return load_system_config(cls, config, overrides, package=package, default=default), []
    except DataError as exc:
        return None, [CheckIssue(path=exc.path or str(config), line=exc.line, message=exc.message)]
    except EnneadError as exc:
        where = str(config or default)
        return None, [CheckIssue(path=where, message=strip_place(str(exc), where))]


# -- output ------------------------------------------------------------------------------------


def result_json(result: Any) -> str:
    """``--json`` text of a typed result (``RunResult.summary()`` where the result has one)."""
    if hasattr(result, "summary") and callable(result.summary):
        data = result.summary()
    elif hasattr(result, "model_dump"):
        data = result.model_dump(mode="json")
    else:
        data = result
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def emit(result: C, as_json: bool, show: Callable[[C], None]) -> C:
    """Print ``result`` as JSON (``--json``) or with the verb's human printer ``show``."""
    if as_json:
        print(result_json(result))
    else:
        show(result)
    return result


def show_metrics(result: Any, fmt: str = ".3g") -> None:
    """The plain printer of a ``RunResult``: its headline metrics, then its run folder."""
    text = ", ".join(f"{k} {v:{fmt}}" for k, v in result.metrics.items())
    print(f"{text}  run: {result.run_dir}")


def finish_check(result: Any, as_json: bool = False) -> None:
    """Print a ``CheckResult``: one ``file:line: message`` per problem (exit 2), or ``ok``."""
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        for issue in result.issues:
            print(str(issue))
        if result.ok:
            print("ok")
    if not result.ok:
        raise typer.Exit(2)


def add_check_verb(
    app: typer.Typer, facade: str, config_cls: str, files: str, default: str | None = "default"
) -> None:
    """Add the shared ``check [FILES]... [-c CONFIG] [--set ...] [--json]`` verb to ``app``.

    ``facade`` and ``config_cls`` are ``"module:attr"`` strings, imported when the verb runs (so the
    CLI module stays light); presets come from the config's package. The facade's
    ``check(paths) -> CheckResult`` validates the files (described by ``files``, e.g. "Question
    files (JSONL)"); the config's problems come first; the files are checked even when the config
    is not valid. ``default`` is the preset used without ``-c`` (None: the config's defaults).
    """
    package = config_cls.partition(":")[0].rpartition(".")[0]

    def check(
        paths: list[Path] | None = None,
        config: str | None = None,
        overrides: list[str] | None = None,
        as_json: bool = False,
    ) -> None:
        from ennead.core.registry import load_target

        cls = load_target(config_cls)
        cfg, issues = check_config(cls, config, overrides, package=package, default=default)
        result = load_target(facade)(cfg).check(paths or [])
        result.issues[:0] = issues
        finish_check(result, as_json)

    # real objects, not strings: Typer reads each parameter's help from these
    check.__annotations__ = {
        "paths": Annotated[list[Path] | None, typer.Argument(help=f"{files}.", metavar=FILES)],
        "config": ConfigOpt,
        "overrides": SetOpt,
        "as_json": JsonOpt,
        "return": None,
    }
    check.__doc__ = (
        f"Validate {files[:1].lower() + files[1:]} and the config without running anything; "
        "print each problem as file:line."
    )
    app.command("check")(check)


def add_report_verb(app: typer.Typer, facade: str, runs: str) -> None:
    """Add the shared ``report RUN`` verb: the facade's ``report(run)`` (re)writes the report.

    ``runs`` says which run folders it takes (e.g. "A train or demo run folder").
    """

    def report(run: Path) -> None:
        from ennead.core.registry import load_target

        res = load_target(facade)().report(run)  # a RunResult: name the HTML report it wrote
        print(f"report: {res.artifacts.get('report_html') or res.run_dir}")

    report.__annotations__ = {"run": Annotated[Path, dir_arg(f"{runs}.")], "return": None}
    report.__doc__ = "(Re)write the report (Markdown + HTML with plots) of a run folder."
    app.command("report")(report)


# -- the one error path ------------------------------------------------------------------------

# errors that are the user's (bad config, bad input, missing file), not the program's
HANDLED: tuple[type[BaseException], ...] = (EnneadError, OSError, UnicodeDecodeError)


def error_line(exc: BaseException) -> str:
    """``<what> (<file>[:line])`` on one line, for any handled error."""
    if isinstance(exc, DataError) and exc.path is not None:
        where = exc.path + (f":{exc.line}" if exc.line is not None else "")
        text = f"{exc.message} ({where})"
    elif isinstance(exc, UnicodeDecodeError):
        text = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    elif isinstance(exc, OSError) and exc.strerror:
        what = exc.strerror[:1].lower() + exc.strerror[1:]
        text = f"{what} ({exc.filename})" if exc.filename is not None else what
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def print_error(exc: BaseException, *, verbose: bool = False) -> None:
    """Write ``error: ...`` as one unwrapped line on stderr (the traceback first with --verbose)."""
    from rich.console import Console
    from rich.text import Text

    if verbose:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    # soft_wrap: a log gets the whole line however narrow the (absent) terminal is; Text, not
    # markup, because messages quote user input that may contain [brackets].
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    console.print(Text("error: ", style="bold red") + Text(error_line(exc)))


class _State:
    verbose = False


state = _State()


def run_app(app: typer.Typer, argv: Sequence[str] | None = None, prog: str = "ennead") -> int:
    """Run ``app`` and return its exit code; handled errors become one ``error:`` line, code 2."""
    state.verbose = False
    try:
        app(args=list(argv) if argv is not None else None, prog_name=prog)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except HANDLED as exc:
        print_error(exc, verbose=state.verbose)
        return 2
    return 0


def hide_flag_types() -> None:
    """Typer 0.29 shows ``<bool>`` after every flag in --help; a flag takes no value: show none."""
    try:
        from typer.core import TyperOption
    except ImportError:  # pragma: no cover - other Typer versions
        return
    if getattr(TyperOption, "_ennead_flags_plain", False):
        return
    original = TyperOption.display_type_rich

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if self.is_flag and self.metavar is None:
            return None
        return original(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
    TyperOption._ennead_flags_plain = True  # type: ignore[attr-defined]

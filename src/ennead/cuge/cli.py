"""``cuge demo | predict | evaluate | board | report | check | config | ls | prepare | serve``

CUGE is a benchmark: ``predict`` (run a model, write a submission) is its ``train``. The verbs that
read submissions (``evaluate``, ``board``, ``report``, ``check``) take several files as positional
arguments and the config as ``--config/-c``; for compatibility, a positional argument that names a
preset (``tiny``, ``default``, ``paper``) or ends in ``.yaml``/``.yml`` is taken as the config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ennead.core.cli.common import (
    FILES,
    ConfigArg,
    ConfigOpt,
    JsonOpt,
    SetOpt,
    add_check_verb,
    emit,
    load_system_config,
    out_opt,
    system_app,
)

app = system_app("CUGE hierarchical benchmark and leaderboard.")

SubmissionsArg = Annotated[
    list[str],
    typer.Argument(
        help="Submission JSON files (a preset name or .yaml here is taken as the config).",
        metavar=FILES,
        show_default=False,
    ),
]
PRESETS = ("tiny", "default", "paper")


def _cuge(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.cuge.api import CUGE
    from ennead.cuge.config import CUGEConfig

    cfg = load_system_config(CUGEConfig, config, overrides, package="ennead.cuge", default=None)
    return CUGE(cfg)


def _split(args: list[str], config: str | None) -> tuple[list[Path], str | None]:
    """Submission files and the config among positional arguments (see the module doc)."""
    from ennead.core.checks import input_file
    from ennead.core.errors import ConfigError

    files: list[Path] = []
    for arg in args:
        is_config = arg.endswith((".yaml", ".yml")) or (arg in PRESETS and not Path(arg).exists())
        if not is_config:
            files.append(input_file(arg, "submission"))
        elif config is not None and config != arg:
            raise ConfigError(f"two configs given: {config!r} and {arg!r}; pass one with --config")
        else:
            config = arg
    if not files:
        raise ConfigError("no submission file given; pass one or more JSON files")
    return files, config


@app.command("ls")
def list_registry(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Show the benchmark hierarchy: capability -> task -> dataset, metrics, lite flag."""
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    bench = _cuge(config, overrides).benchmark()
    counts = bench.counts()
    tree = Tree(f"[bold]{bench.name}[/bold] {bench.version}: {counts}")
    for cap in bench.capabilities:
        c = tree.add(f"[bold]{cap.id}[/bold] {cap.name}")
        for task in cap.tasks:
            t = c.add(f"{task.id}")
            for d in task.datasets:
                metrics = ", ".join(m.key for m in d.metrics)
                t.add(escape(f"{d.id} [{d.format}] {metrics}") + ("  (lite)" if d.lite else ""))
    Console().print(tree)


@app.command()
def prepare(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Build the offline stand-in suite and score the rule baseline on it."""
    result = _cuge(config, overrides).prepare()
    print(f"data: {result.data_dir} ({result.seconds} s)")
    for d, scores in result.baseline.items():
        print(f"  {d}: " + ", ".join(f"{k}={v:.2f}" for k, v in scores.items()))


@app.command()
def predict(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: Annotated[Path | None, out_opt("--out", "-o", help="Submission file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """CUGE's train: run the configured runner (rule or an LM) and write a submission file."""
    result = _cuge(config, overrides).predict(out)
    emit(
        result,
        as_json,
        lambda r: print(f"submission: {r.submission} ({r.model}, {r.seconds} s)"),
    )


def _show_evaluate(result: Any) -> None:
    print(
        f"{result.model}: index {result.index:.2f}"
        if result.index is not None
        else f"{result.model}: not on this board"
    )
    for d, scores in result.raw.items():
        print(f"  {d}: " + ", ".join(f"{k}={v:.2f}" for k, v in scores.items()))
    if result.missing:
        print("  missing: " + ", ".join(result.missing))


@app.command()
def evaluate(
    submissions: SubmissionsArg,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate and score submissions against the local test labels, one by one."""
    files, config = _split(submissions, config)
    cuge = _cuge(config, overrides)
    results = [cuge.evaluate(f) for f in files]
    if as_json and len(results) > 1:
        from ennead.core.cli.common import result_json

        print("[" + ",\n".join(result_json(r) for r in results) + "]")
        return
    for r in results:
        emit(r, as_json, _show_evaluate)


@app.command()
def board(
    submissions: SubmissionsArg,
    config: ConfigOpt = None,
    overrides: SetOpt = None,
    spec: Annotated[
        str | None, typer.Option("--board", "-b", help="full, lite, a dataset id or a YAML spec.")
    ] = None,
    out: Annotated[Path, out_opt("--out", "-o", help="Folder for md/html/csv.")] = Path(
        "runs/cuge-board"
    ),
) -> None:
    """Rank submission files on a board; write Markdown, HTML and CSV (CUGE's report)."""
    from ennead.core.checks import input_file
    from ennead.core.eval.report import markdown_table
    from ennead.cuge.boards import dataset_board, load_board_spec

    files, config = _split(submissions, config)
    cuge = _cuge(config, overrides)
    entries = [cuge.score_file(p) for p in files]
    if spec and spec in cuge.benchmark().dataset_ids():
        print(markdown_table(dataset_board(cuge.benchmark(), entries, spec)))
        return
    if spec and spec.endswith((".yaml", ".yml")):
        input_file(spec, "board spec")
    result = cuge.leaderboard(entries, load_board_spec(spec) if spec else None)
    paths = result.write(out)
    print(markdown_table(result.display_rows()))
    print("written: " + ", ".join(paths.values()))


app.command(
    "report", help="Same as board: rank submissions; write the Markdown, HTML and CSV report."
)(board)


add_check_verb(
    app, "ennead.cuge.api:CUGE", "ennead.cuge.config:CUGEConfig", "Submission files", None
)


@app.command()
def serve(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Start the leaderboard service (FastAPI + SQLite) on the configured host and port."""
    _cuge(config, overrides).serve()


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    print(_cuge(config, overrides).config.to_yaml(), end="")


@app.command()
def demo(
    out: Annotated[Path, out_opt("--run-dir", "--out", "-o", help="Run folder.")] = Path(
        "runs/cuge-demo"
    ),
) -> None:
    """The tour demo: stand-in suite, rule baseline and a trivial runner on one board."""
    from ennead.core.runs import RunDir
    from ennead.cuge.api import tour_demo

    run = RunDir.create(out, {"system": "cuge", "demo": True}, system="cuge")
    section = tour_demo(run)
    print(section["summary"])
    print(section["tables"][0])

"""``ennead cuge ls | prepare | predict | evaluate | board | serve | config | demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="CUGE hierarchical benchmark and leaderboard.", no_args_is_help=True)

ConfigArg = Annotated[
    str | None, typer.Argument(help="Preset (tiny, default, paper) or a YAML file.")
]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Override a config key: key.sub=value.")
]


def _cuge(config: str | None, overrides: list[str] | None):  # type: ignore[no-untyped-def]
    from ennead.core.config import load_config
    from ennead.cuge.api import CUGE
    from ennead.cuge.config import CUGEConfig

    cfg = load_config(CUGEConfig, config, overrides or (), package="ennead.cuge")
    return CUGE(cfg)


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
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Submission file.")] = None,
) -> None:
    """Run the configured runner (rule or an LM backend) and write a submission file."""
    result = _cuge(config, overrides).predict(out)
    print(f"submission: {result.submission} ({result.model}, {result.seconds} s)")


@app.command()
def evaluate(
    submission: Annotated[Path, typer.Argument(help="Submission JSON file.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
) -> None:
    """Validate and score one submission against the local test labels."""
    result = _cuge(config, overrides).evaluate(submission)
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
def board(
    submissions: Annotated[list[Path], typer.Argument(help="Submission JSON files.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    spec: Annotated[
        str | None, typer.Option("--board", "-b", help="full, lite, a dataset id or a YAML spec.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for md/html/csv.")] = Path(
        "runs/cuge-board"
    ),
) -> None:
    """Rank submission files on a board; write Markdown, HTML and CSV."""
    from ennead.cuge.boards import dataset_board, load_board_spec

    cuge = _cuge(config, overrides)
    entries = [cuge.score_file(p) for p in submissions]
    if spec and spec in cuge.benchmark().dataset_ids():
        from ennead.core.eval.report import markdown_table

        print(markdown_table(dataset_board(cuge.benchmark(), entries, spec)))
        return
    result = cuge.leaderboard(entries, load_board_spec(spec) if spec else None)
    paths = result.write(out)
    from ennead.core.eval.report import markdown_table

    print(markdown_table(result.display_rows()))
    print("written: " + ", ".join(paths.values()))


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
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder.")] = Path("runs/cuge-demo"),
) -> None:
    """The tour demo: stand-in suite, rule baseline and a trivial runner on one board."""
    from ennead.core.runs import RunDir
    from ennead.cuge.api import tour_demo

    run = RunDir.create(out, {"system": "cuge", "demo": True}, system="cuge")
    section = tour_demo(run)
    print(section["summary"])
    print(section["tables"][0])

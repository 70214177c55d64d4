"""``ennead objexist train | evaluate | render | demo | config``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="ObjExist: robotic object existence prediction with occlusion reasoning.",
    no_args_is_help=True,
)
ConfigArg = Annotated[
    str | None, typer.Argument(help="Preset (tiny, tiny_rgb, default, paper) or a YAML file.")
]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override: key.sub=value.")]
RunOpt = Annotated[Path | None, typer.Option("--run", "-r", help="Run folder.")]


def _config(config: str | None, overrides: list[str] | None):  # type: ignore[no-untyped-def]
    from ennead.core.config import load_config
    from ennead.objexist.config import ObjExistConfig

    return load_config(
        ObjExistConfig, config or "default", overrides or (), package="ennead.objexist"
    )


def _print_results(table: str, gate: dict) -> None:  # type: ignore[type-arg]
    from rich.console import Console

    console = Console()
    console.print(table)
    console.print("acceptance: " + json.dumps(gate))


@app.command()
def config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    print(_config(config, overrides).to_yaml(), end="")


@app.command()
def train(config: ConfigArg = None, overrides: SetOpt = None, run: RunOpt = None) -> None:
    """Train the agent (curriculum) and the baselines, then evaluate; resumes an existing --run."""
    from ennead.objexist.api import ObjExist

    res = ObjExist(_config(config, overrides)).train(run)
    _print_results(res.table, res.acceptance)
    print("train seconds: " + json.dumps(res.train_seconds))
    print(f"run: {res.run_dir}")


@app.command()
def evaluate(
    run: Annotated[Path, typer.Option("--run", "-r", help="A trained run folder.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
) -> None:
    """Score a trained run's models on test scenes (accuracy, moves, per cell, held-out pairs)."""
    from ennead.objexist.api import ObjExist

    res = ObjExist(_config(config, overrides)).evaluate(run)
    _print_results(res.table, res.acceptance)


@app.command()
def render(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    run: RunOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("objexist-img"),
    policy: Annotated[str, typer.Option(help="learned, exhaustive, passive, random, oracle")] = (
        "oracle"
    ),
    level: Annotated[str, typer.Option(help="one_object, two_visible, two_occluded, mixed")] = (
        "two_occluded"
    ),
    n: Annotated[int, typer.Option(help="Episodes to draw.")] = 4,
    seed: Annotated[int, typer.Option(help="Scene seed.")] = 0,
) -> None:
    """Draw episodes as a PNG strip and GIFs (views, actions, answer)."""
    from ennead.objexist.api import ObjExist

    res = ObjExist(_config(config, overrides)).render(
        out, run_dir=run, policy=policy, level=level, n=n, seed=seed
    )
    print(
        f"strip: {res.strip}\ngifs: {len(res.gifs)}  accuracy {res.accuracy:.3f}  "
        f"moves {res.moves:.2f}"
    )


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder.")] = None,
) -> None:
    """The tour demo: a one-minute training run with baselines and pictures."""
    from ennead.core.runs import RunDir, default_run_path
    from ennead.objexist.api import tour_demo

    run = RunDir.create(
        out or default_run_path("objexist-demo"), {"demo": "objexist"}, system="objexist"
    )
    section = tour_demo(run)
    print(section["summary"])
    print(section["tables"][0])
    print(f"run: {run.path}")

"""``ennead objexist demo | train | evaluate | report | render | check | config | seeds``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ennead.core.cli.common import (
    ConfigArg,
    JsonOpt,
    SetOpt,
    add_check_verb,
    add_report_verb,
    dir_opt,
    emit,
    load_system_config,
    out_opt,
    system_app,
)

app = system_app("ObjExist: robotic object existence prediction with occlusion reasoning.")
RunOpt = Annotated[
    Path | None,
    out_opt("--run-dir", "--run", "-r", help="Run folder (rerun it to resume)."),
]


def _config(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.objexist.config import ObjExistConfig

    return load_system_config(ObjExistConfig, config, overrides, package="ennead.objexist")


def _print_results(table: str, gate: dict) -> None:  # type: ignore[type-arg]
    from rich.console import Console

    console = Console()
    console.print(table)
    console.print("acceptance: " + json.dumps(gate))


@app.command()
def config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    print(_config(config, overrides).to_yaml(), end="")


def _show_train(res: Any) -> None:
    _print_results(res.table, res.acceptance)
    print("train seconds: " + json.dumps(res.train_seconds))
    print(f"run: {res.run_dir}")


@app.command()
def train(
    config: ConfigArg = None, overrides: SetOpt = None, run: RunOpt = None, as_json: JsonOpt = False
) -> None:
    """Train the agent (curriculum) and the baselines, then evaluate; resumes an existing --run."""
    from ennead.objexist.api import ObjExist

    emit(ObjExist(_config(config, overrides)).train(run), as_json, _show_train)


@app.command()
def evaluate(
    run: Annotated[Path, dir_opt("--run-dir", "--run", "-r", help="A trained run folder.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a trained run's models on test scenes (accuracy, moves, per cell, held-out pairs)."""
    from ennead.objexist.api import ObjExist

    res = ObjExist(_config(config, overrides)).evaluate(run)
    emit(res, as_json, lambda r: _print_results(r.table, r.acceptance))


add_report_verb(app, "ennead.objexist.api:ObjExist", "A trained run folder")


add_check_verb(
    app, "ennead.objexist.api:ObjExist", "ennead.objexist.config:ObjExistConfig", "Config files"
)


@app.command()
def render(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    run: Annotated[
        Path | None, dir_opt("--run-dir", "--run", "-r", help="A trained run folder.")
    ] = None,
    out: Annotated[Path, out_opt("--out", "-o", help="Output folder.")] = Path("objexist-img"),
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
    out: Annotated[Path | None, out_opt("--run-dir", "--out", "-o", help="Run folder.")] = None,
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


@app.command()
def seeds(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    run: Annotated[
        Path, out_opt("--run-dir", "--run", "-r", help="Run folder (rerun it to resume).")
    ] = Path("runs/objexist-seeds"),
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="Training seed (repeat; default 0 1 2).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Training processes at a time.")] = 2,
    per_seed_baselines: Annotated[
        bool,
        typer.Option(
            help="Train the baselines again for every seed (default: once, in the first seed's "
            "folder, shared by all)."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The acceptance gate over training seeds: every seed, the mean and 95% intervals."""
    from ennead.objexist.seeds import GATE_SEEDS, seed_gate

    _config(config or "tiny", overrides)  # a bad config is one error line before any process starts
    res = seed_gate(
        run,
        seed or GATE_SEEDS,
        preset=config or "tiny",
        overrides=overrides or (),
        workers=workers,
        shared_baselines=not per_seed_baselines,
    )
    emit(res, as_json, lambda r: print(f"{r.table}\ngate: {json.dumps(r.gate)}\nrun: {r.run_dir}"))

"""``ennead sqe demo | score | optimize | evaluate | simulate | report | check | config``.

``optimize`` is SQE's ``train``: it fits the tracker's parameters per sequence (no ground truth).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ennead.core.cli.common import (
    ConfigArg,
    JsonOpt,
    RunDirOpt,
    SetOpt,
    add_check_verb,
    add_report_verb,
    emit,
    file_arg,
    file_opt,
    load_system_config,
    out_opt,
    system_app,
)

app = system_app("SQE: tracker quality without ground truth.")


def _sqe(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.sqe.api import SQE
    from ennead.sqe.config import SQEConfig

    return SQE(load_system_config(SQEConfig, config, overrides, package="ennead.sqe", default=None))


def _choices_table(title: str, choices: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col in ("sequence", "chosen", "SQE", "IDF1 chosen", "IDF1 best", "Spearman", "Kendall"):
        table.add_column(col)
    for c in choices:
        f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        table.add_row(
            c.sequence,
            ", ".join(f"{k}={v:g}" for k, v in c.params.items()),
            f"{c.sqe:.3f}",
            f(c.idf1),
            f(c.best_idf1),
            f(c.spearman_idf1),
            f(c.kendall_idf1),
        )
    Console().print(table)


@app.command()
def score(
    tracks: Annotated[Path, file_arg("Tracker output, MOTChallenge text file.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    features: Annotated[
        Path | None,
        file_opt("--features", help="Features .npy (default: beside tracks).", text=False),
    ] = None,
    detections: Annotated[
        Path | None, file_opt("--detections", help="det.txt (+ det.npy) to fix thresholds.")
    ] = None,
    plot: Annotated[
        Path | None, out_opt("--plot", help="Write distance histograms (PNG) here.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score one tracker output without ground truth; list suspected tracks."""
    res = _sqe(config, overrides).score(tracks, features, detections, plot)
    emit(res, as_json, _show_score)


def _show_score(res: Any) -> None:
    print(f"SQE {res.sqe:.4f}  n={res.n} L={res.L:.1f} fp={res.fp} dif={res.dif} sim={res.sim}")
    for t in res.suspects:
        print(f"  track {t.id}: " + "; ".join(t.reasons))
    for p in res.pairs:
        print(f"  tracks {p.a} & {p.b}: {p.reason}")


def _show_optimize(res: Any) -> None:
    _choices_table("SQE self-optimisation", res.sequences)
    print(f"run: {res.run}\nreport: {res.report}")


@app.command()
def optimize(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """SQE's train: choose tracker parameters per sequence by maximising SQE (resumable)."""
    emit(_sqe(config, overrides).optimize(out), as_json, _show_optimize)


@app.command()
def evaluate(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sweep parameters on sequences with GT; correlate SQE with IDF1 and MOTA."""
    emit(_sqe(config, overrides).evaluate(out), as_json, _show_evaluate)


def _show_evaluate(res: Any) -> None:
    _choices_table("SQE vs ground truth", res.sequences)
    print(
        f"median Spearman(SQE, IDF1) {res.median_spearman_idf1:.3f}, median Kendall "
        f"{res.median_kendall_idf1:.3f}, worst IDF1 shortfall {res.max_idf1_shortfall:.2f} pts"
    )
    print(f"run: {res.run}\nreport: {res.report}")


@app.command()
def simulate(
    out: Annotated[Path, out_opt("--out", "-o", help="Folder for the sequences.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    seeds: Annotated[list[int] | None, typer.Option("--seed", help="Seeds (repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write simulated MOTChallenge sequences (det.txt + det.npy features, gt.txt)."""
    emit(_sqe(config, overrides).simulate(out, seeds), as_json, _show_simulate)


def _show_simulate(res: Any) -> None:
    for folder, n in zip(res.folders, res.boxes):
        print(f"{folder}: {n} detections")


add_report_verb(app, "ennead.sqe.api:SQE", "An optimize or evaluate run folder")


add_check_verb(app, "ennead.sqe.api:SQE", "ennead.sqe.config:SQEConfig", "Tracker outputs", None)


@app.command()
def demo(out: RunDirOpt = None) -> None:
    """The tour demo: SQE vs IDF1 on two short simulated sequences and TUD-Campus."""
    from ennead.core.runs import RunDir, default_run_path
    from ennead.sqe.api import tour_demo

    run = RunDir.create(out or default_run_path("sqe-demo"), {"demo": "sqe"}, system="sqe")
    section = tour_demo(run)
    print(section["summary"])
    print(section["tables"][0])
    print(f"run: {run.path}")


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    print(_sqe(config, overrides).config.to_yaml(), end="")


@app.command("tune-study")
def tune_study(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Per-sequence SQE tuning vs default, leave-one-out global and GT-best (with ablations)."""
    emit(_sqe(config, overrides).tune_study(out), as_json, _show_study)


def _show_study(res: Any) -> None:
    from ennead.sqe.study import study_table

    for row in study_table(res):
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    print(f"run: {res.run_dir}\nreport: {res.artifacts.get('report')}")

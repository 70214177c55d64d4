"""``ennead sqe score | optimize | evaluate | simulate | report | config``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="SQE: tracker quality without ground truth.", no_args_is_help=True)

ConfigArg = Annotated[
    str | None, typer.Argument(help="Preset (tiny, default, paper) or a YAML file.")
]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="Override a config key: key.sub=value.")
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Run folder.")]


def _sqe(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.core.config import load_config
    from ennead.sqe.api import SQE
    from ennead.sqe.config import SQEConfig

    return SQE(load_config(SQEConfig, config, overrides or (), package="ennead.sqe"))


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
    tracks: Annotated[Path, typer.Argument(help="Tracker output, MOTChallenge text file.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    features: Annotated[
        Path | None, typer.Option(help="Features .npy (default: beside tracks).")
    ] = None,
    detections: Annotated[
        Path | None, typer.Option(help="det.txt (+ det.npy) to fix thresholds.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write distance histograms (PNG) here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score one tracker output without ground truth; list suspected tracks."""
    res = _sqe(config, overrides).score(tracks, features, detections, plot)
    if as_json:
        print(res.model_dump_json(indent=2))
        return
    print(f"SQE {res.sqe:.4f}  n={res.n} L={res.L:.1f} fp={res.fp} dif={res.dif} sim={res.sim}")
    for t in res.suspects:
        print(f"  track {t['id']}: " + "; ".join(t["reasons"]))
    for p in res.pairs:
        print(f"  tracks {p['a']} & {p['b']}: {p['reason']}")


@app.command()
def optimize(config: ConfigArg = None, overrides: SetOpt = None, out: OutOpt = None) -> None:
    """Choose tracker parameters per sequence by maximising SQE (resumable)."""
    res = _sqe(config, overrides).optimize(out)
    _choices_table("SQE self-optimisation", res.sequences)
    print(f"run: {res.run}\nreport: {res.report}")


@app.command()
def evaluate(config: ConfigArg = None, overrides: SetOpt = None, out: OutOpt = None) -> None:
    """Sweep parameters on sequences with GT; correlate SQE with IDF1 and MOTA."""
    res = _sqe(config, overrides).evaluate(out)
    _choices_table("SQE vs ground truth", res.sequences)
    print(
        f"median Spearman(SQE, IDF1) {res.median_spearman_idf1:.3f}, median Kendall "
        f"{res.median_kendall_idf1:.3f}, worst IDF1 shortfall {res.max_idf1_shortfall:.2f} pts"
    )
    print(f"run: {res.run}\nreport: {res.report}")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the sequences.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    seeds: Annotated[list[int] | None, typer.Option("--seed", help="Seeds (repeatable).")] = None,
) -> None:
    """Write simulated MOTChallenge sequences (det.txt + det.npy features, gt.txt)."""
    res = _sqe(config, overrides).simulate(out, seeds)
    for folder, n in zip(res.folders, res.boxes):
        print(f"{folder}: {n} detections")


@app.command()
def report(run: Annotated[Path, typer.Argument(help="An optimize/evaluate run folder.")]) -> None:
    """(Re)write the HTML report of a run folder."""
    from ennead.sqe.api import SQE

    print(f"report: {SQE().report(run)}")


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    print(_sqe(config, overrides).config.to_yaml(), end="")

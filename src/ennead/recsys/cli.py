"""``ennead recsys data | train | pretrain | transfer | evaluate | grid | report | demo | check |
config``.

``train`` is ``pretrain`` + ``transfer`` in one run; ``grid`` runs the paper's table."""

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
    dir_arg,
    dir_opt,
    emit,
    load_system_config,
    show_metrics,
    system_app,
)

app = system_app("Recsys: source-domain pre-training transferred to cold-start users.")

FACADE = "ennead.recsys.api:Recsys"


def _recsys(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.recsys.api import Recsys
    from ennead.recsys.config import RecsysConfig

    return Recsys(load_system_config(RecsysConfig, config, overrides, package="ennead.recsys"))


def _show(result: Any) -> None:
    show_metrics(result, ".4g")


def _show_grid(result: Any) -> None:
    cols = ("model", "meta", "mode", "users", "NDCG@10", "HR@10", "gain [95% CI]")
    print("  ".join(cols))
    for r in result.rows:
        print("  ".join(str(r.get(c, "")) for c in cols))
    print(
        f"{result.units} units, {result.wall_seconds:.0f} s; report: {result.run_dir}/report.html"
    )


@app.command()
def demo(out: RunDirOpt = None, as_json: JsonOpt = False) -> None:
    """Tiny grid on ML-100K: BERT4Rec none/shallow/deep, NDCG@10 of cold and warm users."""
    emit(_recsys("tiny", None).demo(out), as_json, _show_grid)


@app.command()
def data(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    root: Annotated[Path | None, dir_opt("--root", help="data folder (data.root)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Load the data, split the domains and print their sizes and exclusions."""
    extra = [f"data.root={root}"] if root else []
    emit(_recsys(config, [*(overrides or []), *extra]).data(), as_json, _show)


@app.command()
def train(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pre-train (when `mode` needs it) and transfer in one resumable run; cold/warm metrics."""
    emit(_recsys(config, overrides).train(out), as_json, _show)


@app.command()
def pretrain(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pre-train the model on the source domain (resumable: checkpoints per epoch)."""
    emit(_recsys(config, overrides).pretrain(out), as_json, _show)


@app.command()
def transfer(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    source: Annotated[
        Path | None, dir_opt("--from", help="a pretrain run folder (needed by shallow/deep)")
    ] = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fine-tune on the target domain with transfer mode `mode` (none, shallow, deep, kg_init)."""
    emit(_recsys(config, overrides).transfer(source, out), as_json, _show)


@app.command()
def evaluate(
    run: Annotated[Path, dir_arg("A transfer run folder.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """HR/NDCG@1/5/10 (100 sampled negatives and full ranking), cold and warm users apart."""
    emit(_recsys(config, overrides).evaluate(run), as_json, _show)


@app.command()
def grid(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    workers: Annotated[int | None, typer.Option(help="local processes (grid.workers)")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="one Ray task per unit (grid.ray)")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The paper's table: models x transfer modes x meta x seeds, one report (table + plots)."""
    extra = [f"grid.workers={workers}"] if workers else []
    extra += ["grid.ray=true"] if ray else []
    emit(_recsys(config, [*(overrides or []), *extra]).grid(out), as_json, _show_grid)


add_report_verb(app, FACADE, "A grid, demo or transfer run folder")
add_check_verb(
    app, FACADE, "ennead.recsys.config:RecsysConfig", "Data folders (atomic or ml1m layout)"
)


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.recsys.config import RecsysConfig

    cfg = load_system_config(RecsysConfig, config, overrides, package="ennead.recsys")
    print(cfg.to_yaml(), end="")

"""``ennead conpet demo | stream | train | real | evaluate | report | check | config``."""

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
    emit,
    file_opt,
    load_system_config,
    out_opt,
    show_metrics,
    system_app,
)

app = system_app("ConPET: continual parameter-efficient tuning of a frozen LM.")


def _facade(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.conpet.api import ConPET
    from ennead.conpet.config import ConPETConfig

    return ConPET(load_system_config(ConPETConfig, config, overrides, package="ennead.conpet"))


def _show(result: Any) -> None:
    show_metrics(result)


def _show_methods(result: Any) -> None:
    from ennead.conpet.api import _markdown, method_rows

    print(_markdown(method_rows(result.methods)), end="")
    print(f"run: {result.run_dir}")


@app.command()
def demo(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The controlled stream: Static/Dynamic ConPET against the baselines, then the report."""
    emit(_facade(config or "tiny", overrides).demo(out), as_json, _show_methods)


@app.command()
def stream(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    output: Annotated[Path, out_opt("--output", "-o", help="stream JSON to write")] = Path(
        "stream.json"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Build the configured stream (stream.kind) and save it as JSON."""
    emit(_facade(config, overrides).stream(output), as_json, _show)


@app.command()
def train(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    stream_file: Annotated[
        Path | None, file_opt("--stream", "-s", help="a stream saved by `conpet stream`")
    ] = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train every configured method task by task (resumable: rerun with the same folder)."""
    emit(_facade(config, overrides).train(out, stream_file), as_json, _show_methods)


@app.command()
def real(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="only these seeds (default: claim.seeds)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Real text over the preset's seeds (default preset: clothing): every method, mean and 95%
    interval per method, and the paper's '+5 over sequential LoRA' verdict. Resumable."""

    def show(result: Any) -> None:
        from ennead.conpet.real import real_markdown

        print(real_markdown({"rows": result.rows, "checks": result.checks}), end="")
        print(f"run: {result.run_dir}")

    emit(_facade(config or "clothing", overrides).real(out, seed), as_json, show)


@app.command()
def evaluate(
    run: Annotated[Path, dir_arg("A trained run folder.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The metrics of a trained run: macro/micro, forgetting, BWT, selector, cost ratios."""
    emit(_facade(config, overrides).evaluate(run), as_json, _show_methods)


add_report_verb(app, "ennead.conpet.api:ConPET", "A train or demo run folder")
add_check_verb(
    app, "ennead.conpet.api:ConPET", "ennead.conpet.config:ConPETConfig", "Saved streams (JSON)"
)


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.conpet.config import ConPETConfig

    cfg = load_system_config(ConPETConfig, config, overrides, package="ennead.conpet")
    print(cfg.to_yaml(), end="")

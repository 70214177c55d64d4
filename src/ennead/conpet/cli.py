"""``ennead conpet demo | stream | train | evaluate | report | check | config``."""

from __future__ import annotations

from typing import Any

from ennead.core.cli.common import (
    ConfigArg,
    JsonOpt,
    RunDirOpt,
    SetOpt,
    emit,
    load_system_config,
    system_app,
)

app = system_app("ConPET: continual parameter-efficient tuning of a frozen LM.")


def _facade(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.conpet.api import ConPET
    from ennead.conpet.config import ConPETConfig

    return ConPET(load_system_config(ConPETConfig, config, overrides, package="ennead.conpet"))


def _show(result: Any) -> None:
    print(", ".join(f"{k} {v:.3g}" for k, v in result.metrics.items()) + f"  run: {result.run_dir}")


@app.command()
def demo(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The controlled stream: Static/Dynamic ConPET against the baselines on the tiny backbone."""
    emit(_facade(config or "tiny", overrides).demo(out), as_json, _show)


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.conpet.config import ConPETConfig

    cfg = load_system_config(ConPETConfig, config, overrides, package="ennead.conpet")
    print(cfg.to_yaml(), end="")

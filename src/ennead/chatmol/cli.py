"""``ennead chatmol demo | data | pretrain | train | evaluate | chat | report | check | config``."""

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

app = system_app("ChatMol: conversational molecule design checked by RDKit.")


def _facade(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.chatmol.api import ChatMol
    from ennead.chatmol.config import ChatMolConfig

    return ChatMol(load_system_config(ChatMolConfig, config, overrides, package="ennead.chatmol"))


def _show(result: Any) -> None:
    print(", ".join(f"{k} {v:.3g}" for k, v in result.metrics.items()) + f"  run: {result.run_dir}")


@app.command()
def demo(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate dialogues, train the tiny T5, evaluate against the baselines."""
    emit(_facade(config or "tiny", overrides).demo(out), as_json, _show)


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.chatmol.config import ChatMolConfig

    cfg = load_system_config(ChatMolConfig, config, overrides, package="ennead.chatmol")
    print(cfg.to_yaml(), end="")

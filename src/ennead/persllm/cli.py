"""``ennead persllm demo | build | train | evaluate | chat | dialogue | report | check``."""

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

app = system_app("PersLLM: a persona trained into a chat model's weights.")


def _facade(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.persllm.api import PersLLM
    from ennead.persllm.config import PersLLMConfig

    return PersLLM(load_system_config(PersLLMConfig, config, overrides, package="ennead.persllm"))


def _show(result: Any) -> None:
    print(", ".join(f"{k} {v:.3g}" for k, v in result.metrics.items()) + f"  run: {result.run_dir}")


@app.command()
def demo(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The controlled world end to end: B0, B1, PersLLM SFT and SFT+DPO on the tiny model."""
    emit(_facade(config or "tiny", overrides).demo(out), as_json, _show)


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.persllm.config import PersLLMConfig

    cfg = load_system_config(PersLLMConfig, config, overrides, package="ennead.persllm")
    print(cfg.to_yaml(), end="")

"""``ennead chatmol demo | data | pretrain | train | evaluate | chat | report | check | config``.

``train`` is dialogue fine-tuning (after ``pretrain``, the knowledge pre-training, when it ran).
"""

from __future__ import annotations

import sys
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
    show_metrics,
    system_app,
)

app = system_app("ChatMol: conversational molecule design checked by RDKit.")


def _facade(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.chatmol.api import ChatMol
    from ennead.chatmol.config import ChatMolConfig

    return ChatMol(load_system_config(ChatMolConfig, config, overrides, package="ennead.chatmol"))


def _show(result: Any) -> None:
    show_metrics(result)


def _show_eval(result: Any) -> None:
    for arm, m in result.table.items():
        print(f"{arm:>10}: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))
    print(f"invalid SMILES among ChatMol's final answers: {result.invalid}  run: {result.run_dir}")


@app.command()
def demo(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate dialogues, pre-train and fine-tune the tiny T5, evaluate against the baselines."""
    emit(_facade(config or "tiny", overrides).demo(out), as_json, _show_eval)


@app.command()
def data(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate the seeded design dialogues from the molecule pool (with split statistics)."""
    emit(_facade(config, overrides).data(out), as_json, _show)


@app.command()
def pretrain(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Knowledge pre-training: property text, text->SMILES, 2-D spatial task, span masking."""
    emit(_facade(config, overrides).pretrain(out), as_json, _show)


@app.command()
def train(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Dialogue fine-tuning (starts from the pre-trained model when `pretrain` ran)."""
    emit(_facade(config, overrides).train(out), as_json, _show)


@app.command()
def evaluate(
    run: Annotated[Path, dir_arg("A trained run folder.")],
    data: Annotated[
        Path | None, file_opt("--data", "-d", help="Dialogues (JSONL or ChEBI-dia *_inp.txt).")
    ] = None,
    config: ConfigArg = None,
    overrides: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Self-fed multi-turn decoding, MolT5 metrics and satisfaction, against the baselines."""
    emit(_facade(config, overrides).evaluate(run, data), as_json, _show_eval)


@app.command()
def chat(
    run: Annotated[
        Path | None, typer.Argument(help="A trained run folder (none: the constraint filter).")
    ] = None,
    config: ConfigArg = None,
    overrides: SetOpt = None,
) -> None:
    """Design a molecule turn by turn: type requirements; pick N, describe, edit SMILES, quit."""
    session = _facade(config, overrides).session(run)
    print("ChatMol. Type a requirement (e.g. 'It has a nitro group.'), 'help' or 'quit'.")
    while True:
        print("> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line or line.strip().lower() in {"quit", "exit"}:
            print()
            break
        reply = session.handle(line)
        if reply:
            print(reply)


add_report_verb(app, "ennead.chatmol.api:ChatMol", "A run folder")
add_check_verb(
    app,
    "ennead.chatmol.api:ChatMol",
    "ennead.chatmol.config:ChatMolConfig",
    "Dialogue JSONL, ChEBI-dia *_inp.txt, ChEBI-20 TSV or SMILES files",
)


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.chatmol.config import ChatMolConfig

    cfg = load_system_config(ChatMolConfig, config, overrides, package="ennead.chatmol")
    print(cfg.to_yaml(), end="")

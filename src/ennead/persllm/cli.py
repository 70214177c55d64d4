"""``ennead persllm demo | build | train | evaluate | judge | chat | dialogue | report | check``."""

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
    dir_opt,
    emit,
    load_system_config,
    show_metrics,
    system_app,
)

app = system_app("PersLLM: a persona trained into a chat model's weights.")

PersonasOpt = Annotated[
    Path | None,
    dir_opt(
        "--personas",
        "-p",
        help="Persona folder, or a folder of them (default: the config's, the controlled world "
        "for tiny, else the shipped personas).",
    ),
]


def _facade(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.persllm.api import PersLLM
    from ennead.persllm.config import PersLLMConfig

    return PersLLM(load_system_config(PersLLMConfig, config, overrides, package="ennead.persllm"))


def _show(result: Any) -> None:
    show_metrics(result)


@app.command()
def demo(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The controlled world end to end: B0, B1, PersLLM SFT and SFT+DPO (tiny model)."""
    emit(_facade(config or "tiny", overrides).demo(out), as_json, _show)


@app.command()
def build(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    personas: PersonasOpt = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write personified data with the teacher (resumable), dedup, split 80/20."""
    emit(_facade(config, overrides).build(personas, out), as_json, _show)


@app.command()
def train(
    run: Annotated[Path, dir_arg("A run folder with built data.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    personas: PersonasOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """SFT with stage tokens, then automatic DPO; one model per persona."""
    emit(_facade(config, overrides).train(run, personas), as_json, _show)


@app.command()
def evaluate(
    run: Annotated[Path, dir_arg("A trained run folder.")],
    config: ConfigArg = None,
    overrides: SetOpt = None,
    personas: PersonasOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stance consistency, induction resistance, stage sensitivity, facts, BLEU: B0 vs PersLLM."""
    emit(_facade(config, overrides).evaluate(run, personas), as_json, _show)


@app.command()
def chat(
    run: Annotated[Path, dir_arg("A trained run folder.")],
    persona: Annotated[str, typer.Argument(help="Persona key (its folder name).")],
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Life stage (I, II).")] = None,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Preset or YAML.")] = None,
    overrides: SetOpt = None,
) -> None:
    """Talk to a persona (one line a turn; an empty line or EOF ends)."""
    reply = _facade(config, overrides).chat_session(run, persona, stage)
    print(f"talking to {persona}" + (f" at stage {stage}" if stage else "") + "; empty line ends")
    for line in sys.stdin:
        if not line.strip():
            break
        print(f"{persona}> {reply(line)}")


@app.command()
def dialogue(
    run: Annotated[Path, dir_arg("A trained run folder.")],
    a: Annotated[str, typer.Argument(help="First persona key.")],
    b: Annotated[str, typer.Argument(help="Second persona key.")],
    turns: Annotated[int, typer.Option("--turns", "-n", min=1, help="Turns in all.")] = 4,
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Life stage.")] = None,
    opening: Annotated[str | None, typer.Option("--opening", help="First line said.")] = None,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Preset or YAML.")] = None,
    overrides: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Two personified models talk; the transcript is saved as Markdown in the run."""
    res = _facade(config, overrides).dialogue(run, a, b, turns, stage, opening)

    def show(r: Any) -> None:
        for t in r.turns:
            print(f"{t['speaker']}: {t['said']}")
        print(f"transcript: {r.artifacts['transcript']}")

    emit(res, as_json, show)


add_report_verb(app, "ennead.persllm.api:PersLLM", "A run folder")
add_check_verb(
    app, "ennead.persllm.api:PersLLM", "ennead.persllm.config:PersLLMConfig", "persona.yaml files"
)


@app.command()
def judge(
    run: Annotated[Path, dir_arg("A run folder with answers-<system>.jsonl (after evaluate).")],
    backend: Annotated[
        str,
        typer.Option("--backend", "-b", help="Judge model: a core backend (smollm2, tiny, ...)."),
    ] = "smollm2",
    method: Annotated[
        str,
        typer.Option(
            help="generate: read A/B/tie from the reply; loglikelihood: compare logL of A and B "
            "(local backends)."
        ),
    ] = "generate",
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="Question kinds (repeat).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Questions at most (seeded sample).")] = 200,
    seed: Annotated[int, typer.Option(help="Sample and pair-order seed.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Rank every system's anonymised answers with an LLM judge (both orders asked)."""
    from ennead.core.backends import load_backend
    from ennead.persllm.judge import judge_run

    res = judge_run(
        run,
        load_backend(backend),
        metrics=metric or ("stance", "induction", "fact"),
        limit=limit,
        method=method,
        seed=seed,
    )
    emit(res, as_json, lambda r: print(r.artifacts["judge_md"].read_text(encoding="utf-8")))


@app.command("config")
def show_config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    from ennead.persllm.config import PersLLMConfig

    cfg = load_system_config(PersLLMConfig, config, overrides, package="ennead.persllm")
    print(cfg.to_yaml(), end="")

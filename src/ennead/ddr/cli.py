"""``ennead ddr demo | train | evaluate | report | predict | check | config | wordnet``."""

from __future__ import annotations

import json
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
    dir_opt,
    file_opt,
    load_system_config,
    out_opt,
    result_json,
    system_app,
)

app = system_app("DDR: RAG trained end to end with Differentiable Data Rewards.")


def _config(config: str | None, overrides: list[str] | None) -> Any:
    from ennead.ddr.api import is_run_folder, run_config
    from ennead.ddr.config import DDRConfig

    if is_run_folder(config):  # a train run folder: its config with the trained modules
        return run_config(str(config), overrides or [])
    return load_system_config(DDRConfig, config, overrides, package="ennead.ddr")


@app.command()
def config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    print(_config(config, overrides).to_yaml(), end="")


@app.command()
def predict(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    input: Annotated[
        Path | None, file_opt("--input", "-i", help="JSONL questions (default: stdin)")
    ] = None,
    output: Annotated[
        Path | None, out_opt("--output", "-o", help="JSONL predictions (default: stdout)")
    ] = None,
) -> None:
    """Answer questions (JSONL: question, optional answers and passages) with the pipeline.

    CONFIG may be a `ddr train` run folder: its config with the trained modules."""
    from ennead.core.io import write_jsonl
    from ennead.ddr.api import DDR
    from ennead.ddr.data import load_records, parse_record

    cfg = _config(config, overrides)
    if input is not None:
        records = load_records(input, need_answers=False)
    else:
        from ennead.core.errors import DataError

        records = []
        for i, line in enumerate(sys.stdin):
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"invalid JSON ({exc.msg})", "<stdin>", i + 1) from None
                records.append(parse_record(row, i, "<stdin>", need_answers=False))
    preds = DDR(cfg).predict(records)
    rows = [p.model_dump() for p in preds]
    if output is not None:
        write_jsonl(output, rows)
    else:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    scored = [p.score for p in preds if p.score is not None]
    if scored:
        print(
            f"score ({cfg.data_type}): {sum(scored) / len(scored):.3f} over {len(scored)}",
            file=sys.stderr,
        )


@app.command()
def train(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    data: Annotated[
        Path | None, file_opt("--data", "-d", help="training JSONL (default: train.data)")
    ] = None,
    out: RunDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the DDR stages (Gen rollouts -> pairs -> DPO, then KR); resumable."""
    from ennead.core.checks import input_file
    from ennead.core.errors import ConfigError
    from ennead.core.runs import RunDir, default_run_path
    from ennead.ddr.api import DDR
    from ennead.ddr.data import load_records

    cfg = _config(config, overrides)
    path = data or (Path(cfg.train.data) if cfg.train.data else None)
    if path is None and cfg.train.mixture:  # the paper's mixture: one reward per data_type
        from ennead.ddr.data import load_mixture

        records = load_mixture(input_file(Path(f), "training data") for f in cfg.train.mixture)
    elif path is None:
        raise ConfigError("no training data: pass --data FILE or set train.data (or train.mixture)")
    else:
        records = load_records(input_file(path, "training data"), data_type=cfg.data_type)
    run = RunDir.create(out or default_run_path("ddr"), cfg, seed=cfg.seed, system="ddr")
    summary = DDR(cfg).train(records, run)
    text = result_json(summary)  # a typed result or, from older facades, a dict
    run.finish(summary=json.loads(text))
    print(text)
    if not as_json:
        print(f"run folder: {run.path}", file=sys.stderr)
        print(f"predict with it: ennead ddr predict {run.path} -i QUESTIONS.jsonl", file=sys.stderr)


@app.command()
def evaluate(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    data: Annotated[Path, file_opt("--data", "-d", help="test JSONL with answers")] = Path(
        "test.jsonl"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Score the pipeline on questions with gold answers (per scenario when given).

    CONFIG may be a `ddr train` run folder: its config with the trained modules."""
    from ennead.ddr.api import DDR
    from ennead.ddr.data import load_records

    cfg = _config(config, overrides)
    res = DDR(cfg).evaluate(load_records(data, data_type=cfg.data_type))
    print(result_json(res))  # JSON either way: the result is a small table of scores


@app.command()
def demo(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    world_seed: Annotated[
        int | None, typer.Option(help="world, pre-training and DDR seed (seed, world.seed)")
    ] = None,
    entities: Annotated[
        int | None, typer.Option(help="entities, 3 facts each (synthetic.world.n_entities)")
    ] = None,
    known_fraction: Annotated[
        float | None,
        typer.Option(help="share of entities the model knows (synthetic.world.known_fraction)"),
    ] = None,
    train_questions: Annotated[
        int | None, typer.Option(help="cap on training questions (synthetic.train_questions)")
    ] = None,
    test_questions: Annotated[
        int | None, typer.Option(help="cap on test questions (synthetic.test_questions)")
    ] = None,
) -> None:
    """Synthetic world: vanilla / SFT / DDR-Gen / DDR-all per scenario; table + reward PNG.

    More world settings: --set synthetic.world.KEY=VALUE (n_values, n_passages, reading_examples,
    both_scenarios, train_fraction); `ennead ddr config tiny` lists them all."""
    from rich.console import Console
    from rich.table import Table

    from ennead.core.runs import RunDir, default_run_path
    from ennead.ddr.synthetic import run_synthetic
    from ennead.ddr.world import SCENARIOS

    # The shortcuts become config keys, so the run folder records them and a resume checks them.
    shortcuts = {
        "seed": world_seed,
        "synthetic.world.seed": world_seed,
        "synthetic.world.n_entities": entities,
        "synthetic.world.known_fraction": known_fraction,
        "synthetic.train_questions": train_questions,
        "synthetic.test_questions": test_questions,
    }
    extra = [f"{k}={v}" for k, v in shortcuts.items() if v is not None]
    cfg = _config(config or "tiny", [*(overrides or []), *extra])
    run = RunDir.create(out or default_run_path("ddr-demo"), cfg, seed=cfg.seed, system="ddr")
    res = run_synthetic(cfg, run)
    run.finish(summary=res["table"])
    table = Table(title="DDR on the synthetic world: test accuracy (%)")
    cols = [*SCENARIOS, "overall"]
    table.add_column("method")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    for method, row in res["table"].items():
        table.add_row(method, *(f"{row[c]:.1f}" for c in cols))
    console = Console()
    console.print(table)
    console.print(f"table: {run.path / 'table.md'}  plot: {res.get('plot', '-')}")


@app.command()
def wordnet(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    out: RunDirOpt = None,
    train_questions: Annotated[
        int | None, typer.Option(help="DDR training questions (= --set wordnet.train_questions)")
    ] = None,
    test_questions: Annotated[
        int | None, typer.Option(help="held-out test questions (wordnet.test_questions)")
    ] = None,
    corpus_size: Annotated[
        int | None, typer.Option(help="passages in the corpus (wordnet.corpus_size)")
    ] = None,
    data_seed: Annotated[
        int | None, typer.Option(help="question and corpus sampling seed (wordnet.seed)")
    ] = None,
    wordnet_dir: Annotated[
        Path | None,
        dir_opt(
            "--wordnet-dir",
            help="WordNet data folder (wordnet.root; Debian: apt-get install wordnet-base)",
        ),
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch threads")] = None,
) -> None:
    """WordNet reverse dictionary with SmolLM2 (preset smollm2): vanilla RAG vs DDR."""
    from rich.console import Console
    from rich.table import Table

    from ennead.core.runs import RunDir, default_run_path
    from ennead.ddr.wordnet import run_wordnet

    # The shortcuts become config keys, so the run folder records them and a resume checks them.
    shortcuts = {
        "train_questions": train_questions,
        "test_questions": test_questions,
        "corpus_size": corpus_size,
        "seed": data_seed,
        "root": str(wordnet_dir) if wordnet_dir else None,
    }
    extra = [f"wordnet.{k}={v}" for k, v in shortcuts.items() if v is not None]
    cfg = _config(config or "smollm2", [*(overrides or []), *extra])
    run = RunDir.create(out or default_run_path("ddr-wordnet"), cfg, seed=cfg.seed, system="ddr")
    res = run_wordnet(cfg, run, threads=threads)
    run.finish(summary=res["table"])
    table = Table(title="DDR on WordNet reverse-dictionary questions (test, %)")
    for c in ("method", "accuracy", "first word exact", "gold in context", "gold first"):
        table.add_column(c, justify="left" if c == "method" else "right")
    for method, row in res["table"].items():
        cells = [row.get(k) for k in ("accuracy", "first_word", "gold_in_context", "gold_first")]
        table.add_row(method, *(f"{v:.1f}" if v is not None else "-" for v in cells))
    console = Console()
    console.print(table)
    console.print(
        "seconds per stage: " + ", ".join(f"{k} {v:.0f}" for k, v in res["times"].items())
    )
    console.print(f"table: {run.path / 'table.md'}  results: {run.path / 'results.json'}")


add_report_verb(app, "ennead.ddr.api:DDR", "A train, demo or wordnet run folder")


add_check_verb(app, "ennead.ddr.api:DDR", "ennead.ddr.config:DDRConfig", "Question files (JSONL)")

"""``ennead ddr predict | config``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="DDR: RAG trained end to end with Differentiable Data Rewards.",
                  no_args_is_help=True)  # fmt: skip
ConfigArg = Annotated[
    str | None, typer.Argument(help="Preset (tiny, default, paper) or a YAML file.")
]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override: key.sub=value.")]


def _config(config: str | None, overrides: list[str] | None):  # type: ignore[no-untyped-def]
    from ennead.core.config import load_config
    from ennead.ddr.config import DDRConfig

    return load_config(DDRConfig, config or "default", overrides or (), package="ennead.ddr")


@app.command()
def config(config: ConfigArg = None, overrides: SetOpt = None) -> None:
    """Print the resolved config as YAML."""
    print(_config(config, overrides).to_yaml(), end="")


@app.command()
def predict(
    config: ConfigArg = None,
    overrides: SetOpt = None,
    input: Annotated[
        Path | None, typer.Option("--input", "-i", help="JSONL questions (default: stdin)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL predictions (default: stdout)")
    ] = None,
) -> None:
    """Answer questions (JSONL: question, optional answers and passages) with the pipeline."""
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
        print(f"score ({cfg.data_type}): {sum(scored) / len(scored):.3f} over {len(scored)}",
              file=sys.stderr)  # fmt: skip

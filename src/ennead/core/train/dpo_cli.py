"""DPO on a pairs JSONL file: the script that ``accelerate launch`` runs on every process.

    accelerate launch --config_file <cpu_multi.yaml> -m ennead.core.train.dpo_cli \\
        --pairs pairs.jsonl --out runs/dpo [--model LOCAL_HF_FOLDER] [--set max_steps=2 ...]

Without ``--model`` a tiny Llama is built from the pairs' own words (seeded, so every process
builds the same one). Each process writes ``<out>/result-rank<i>.json`` (rank, world size, steps,
losses, a parameter checksum); rank 0 also writes ``train/`` (checkpoints, the final adapter or
model) and ``run/`` (config, metrics.jsonl).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ennead.core.config import load_config
from ennead.core.io import atomic_write_json, read_jsonl
from ennead.core.train.config import DPOConfig


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m ennead.core.train.dpo_cli", description=__doc__)
    ap.add_argument("--pairs", required=True, help="JSONL with prompt, chosen, rejected per line")
    ap.add_argument("--out", required=True, help="output folder (checkpoints, final model)")
    ap.add_argument("--model", help="local transformers folder (default: a tiny Llama)")
    ap.add_argument("--config", help="DPOConfig YAML file")
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="DPOConfig override"
    )
    ap.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import accelerate

    from ennead.core.runs import RunDir
    from ennead.core.train.trainer import train_dpo

    out = Path(args.out)
    pairs = read_jsonl(args.pairs)
    cfg = load_config(DPOConfig, args.config, [*args.set, f"output_dir={out / 'train'}"])
    if args.model:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(args.model)
        model = AutoModelForCausalLM.from_pretrained(args.model)
    else:
        from ennead.core.backends.tiny_model import build_tiny_lm

        texts = [p.get(k, "") for p in pairs for k in ("prompt", "chosen", "rejected")]
        model, tokenizer = build_tiny_lm(
            texts, seed=cfg.seed, hidden_size=32, num_layers=1, num_heads=2
        )
    import torch

    from ennead.core.train.trainer import _has_gpu

    # Before anything asks for the rank: CPU-only workers must join a gloo group.
    state = accelerate.PartialState(cpu=cfg.use_cpu or not _has_gpu(torch))
    # Only rank 0 writes the run folder; the others still compute and join every collective.
    run = RunDir.create(out / "run", cfg, seed=cfg.seed) if state.is_main_process else None
    result = train_dpo(model, tokenizer, pairs, cfg, run_dir=run, resume=args.resume)
    # equal on every rank when gradients were synchronised
    checksum = sum(float(p.detach().double().sum()) for p in result.model.parameters())
    record = {
        "rank": state.process_index,
        "world": state.num_processes,
        "param_checksum": checksum,
        **result.model_dump(),
    }
    atomic_write_json(out / f"result-rank{state.process_index}.json", record)
    if run is not None:
        run.finish(steps=result.steps, final_loss=result.final_loss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

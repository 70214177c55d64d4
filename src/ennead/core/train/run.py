"""Train a model on a pairs JSONL file; the script ``accelerate launch`` runs.

    accelerate launch --config_file <cpu_multi.yaml> -m ennead.core.train.run \\
        --pairs pairs.jsonl --out runs/dpo [--model PATH | --tiny] [--set max_steps=2 ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ennead.core.config import load_config
from ennead.core.io import atomic_write_json, read_jsonl
from ennead.core.train.config import DPOConfig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pairs", required=True, help="JSONL with prompt, chosen, rejected")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--model", help="local transformers folder (default: the tiny model)")
    ap.add_argument("--set", action="append", default=[], help="DPOConfig override key=value")
    args = ap.parse_args(argv)

    import torch

    from ennead.core.train.trainer import train_dpo

    pairs = read_jsonl(args.pairs)
    cfg = load_config(DPOConfig, None, [*args.set, f"output_dir={args.out}"])
    if args.model:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(args.model)
        model = AutoModelForCausalLM.from_pretrained(args.model)
    else:
        from ennead.core.backends.tiny_model import build_tiny_lm

        texts = [p[k] for p in pairs for k in ("prompt", "chosen", "rejected")]
        model, tok = build_tiny_lm(texts, seed=cfg.seed, hidden_size=32, num_layers=1, num_heads=2)
    torch.manual_seed(cfg.seed)
    result = train_dpo(model, tok, pairs, cfg)
    import accelerate

    state = accelerate.PartialState()
    record = {"rank": state.process_index, "world": state.num_processes, **result.model_dump()}
    atomic_write_json(Path(args.out) / f"result-rank{state.process_index}.json", record)
    print(json.dumps({"rank": state.process_index, "final_loss": result.final_loss}))  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

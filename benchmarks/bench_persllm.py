"""PersLLM speed: the data build with batched teacher calls against one call at a time (the
teacher is the tiny in-process model, so each call is real generation), and SFT / DPO steps/s
on the tiny model, in one run.

    .venv/bin/python benchmarks/bench_persllm.py      # writes benchmarks/results/persllm.json
"""

from __future__ import annotations

import copy
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

from ennead.core.backends.hf import HFBackend
from ennead.core.backends.tiny_model import build_tiny_model, build_tiny_tokenizer
from ennead.core.retrieval.embedders import get_embedder
from ennead.core.train import DPOConfig, LoraSettings, SFTConfig
from ennead.persllm import build as B
from ennead.persllm import train as T
from ennead.persllm import world as W
from ennead.persllm.config import BuildSettings
from ennead.persllm.materials import load_personas
from ennead.persllm.teacher import BackendTeacher, TemplateTeacher


def main() -> None:
    import torch

    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp())
    ps = load_personas(W.write_personas(W.make_personas(0, 2, 6), tmp / "personas"))
    emb = get_embedder("hashing", dim=256)
    tok = build_tiny_tokenizer(W.vocabulary_texts())
    model = build_tiny_model(tok, hidden_size=64, num_layers=2)
    cfg = BuildSettings(embedder="hashing", variants=1, stage_negatives=False, seeds_per_stage=6)
    numbers: dict[str, float] = {}
    for bs in (1, 16):
        teacher = BackendTeacher(HFBackend.from_model(model, tok, batch_size=bs), 16, 0.7)
        t = time.perf_counter()
        counts = B.build(ps, cfg, teacher, tmp / f"build-{bs}", emb, batch_size=bs)
        dt = time.perf_counter() - t
        done = counts["written"] + counts["skipped"]
        numbers[f"build_items_per_min_batch_{bs}"] = 60 * done / dt
    numbers["build_batched_speedup"] = (
        numbers["build_items_per_min_batch_16"] / numbers["build_items_per_min_batch_1"]
    )
    t = time.perf_counter()
    B.build(ps, BuildSettings(embedder="hashing"), TemplateTeacher(), tmp / "tpl", emb)
    stats = B.finish(tmp / "tpl", BuildSettings(embedder="hashing"), emb, 0)
    numbers["template_build_items_per_min"] = 60 * stats["raw"] / (time.perf_counter() - t)

    items = B.load_split(tmp / "tpl", "train")
    ptok = copy.deepcopy(tok)
    T.add_stage_tokens(model, ptok, ["I", "II"])
    rows = T.sft_rows(ptok, items, W.general_items(0)[:50], "persllm", 1, 0)
    lora = LoraSettings(enabled=False)
    sft = SFTConfig(
        lr=1e-3, max_steps=30, batch_size=32, max_length=64, max_prompt_length=48, lora=lora
    )
    t = time.perf_counter()
    trained, _ = T.train_sft_model(model, ptok, rows, sft, tmp / "sft")
    numbers["sft_steps_per_s"] = 30 / (time.perf_counter() - t)
    pairs = T.dpo_pairs(ptok, items, emb)
    dpo = DPOConfig(
        lr=1e-4, max_steps=30, batch_size=16, max_length=64, max_prompt_length=48, lora=lora
    )
    t = time.perf_counter()
    T.train_dpo_model(trained, ptok, pairs, dpo, tmp / "dpo")
    numbers["dpo_steps_per_s"] = 30 / (time.perf_counter() - t)
    numbers["dpo_step_cost_vs_sft"] = numbers["sft_steps_per_s"] / numbers["dpo_steps_per_s"]
    write_result("persllm", numbers)


if __name__ == "__main__":
    main()

"""The controlled-world experiment: B0, B1, PersLLM SFT and SFT+DPO on one world seed.

Each finished seed writes ``seed-<n>/result.json`` and is read back on a rerun (resume).
"""

from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path
from typing import Any

from ennead.core.io import atomic_write_json, write_jsonl
from ennead.persllm.config import PersLLMConfig

SYSTEMS = ("B0", "B1", "SFT", "SFT+DPO")


def run_world(cfg: PersLLMConfig, seed: int, out: Path) -> dict[str, Any]:
    """Run (or read back) one seed; returns ``{"metrics": {system: {...}}, "seconds": ...}``."""
    out = Path(out)
    done = out / "result.json"
    if done.is_file():
        return dict(json.loads(done.read_text(encoding="utf-8")))
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a shared 2-core machine one thread is several times faster
    try:
        return _run_world(cfg, seed, out, done)
    finally:
        torch.set_num_threads(threads)


def pretrain_base(cfg: PersLLMConfig, out: Path) -> tuple[Any, Any]:
    """The world's base model, pre-trained on general data only; cached in ``out``."""
    from ennead.core.backends.tiny_model import build_tiny_model, build_tiny_tokenizer
    from ennead.persllm import train as T
    from ennead.persllm import world as W

    folder = out / "model"
    if (folder / "config.json").is_file():
        return T.load_model(folder)
    wcfg = cfg.world
    tok = build_tiny_tokenizer(W.vocabulary_texts())
    base = build_tiny_model(
        tok,
        hidden_size=cfg.model.hidden_size,
        num_layers=cfg.model.num_layers,
        tie_word_embeddings=False,
        seed=cfg.seed,
    )
    general = W.general_items(cfg.seed)
    reading = W.reading_items(cfg.seed, wcfg.reading_items, wcfg.n_topics)
    rows = [{"prompt": T.general_prompt(tok, g), "completion": g["answer"]} for g in general * 3]
    rows += [{"prompt": T.general_prompt(tok, g), "completion": g["answer"]} for g in reading]
    closed = (
        W.closed_book_items(cfg.seed, wcfg.closed_book_copies) if wcfg.closed_book_copies else []
    )
    rows += [{"prompt": T.general_prompt(tok, g), "completion": g["answer"]} for g in closed]
    random.Random(cfg.seed).shuffle(rows)
    pre = wcfg.pretrain.model_copy(update={"seed": cfg.seed})
    base, _ = T.train_sft_model(base, tok, rows, pre, out / "train")
    T.save_model(base, tok, folder)
    return base, tok


def _run_world(cfg: PersLLMConfig, seed: int, out: Path, done: Path) -> dict[str, Any]:
    from ennead.core.backends.sampling import sampling_backend
    from ennead.core.retrieval.embedders import get_embedder
    from ennead.persllm import build as B
    from ennead.persllm import train as T
    from ennead.persllm import world as W
    from ennead.persllm.evaluate import backend_generate, evaluate_model
    from ennead.persllm.materials import load_personas
    from ennead.persllm.teacher import TemplateTeacher

    t0 = time.perf_counter()
    times: dict[str, float] = {}
    wcfg = cfg.world
    wp = W.make_personas(seed, wcfg.n_personas, wcfg.n_topics, wcfg.flip_share)
    personas = load_personas(W.write_personas(wp, out / "personas"))
    base, tok = pretrain_base(cfg, out.parent / "base")
    times["pretrain"] = time.perf_counter() - t0
    general = W.general_items(cfg.seed)
    reading = W.reading_items(cfg.seed, wcfg.reading_items, wcfg.n_topics)

    emb = (
        get_embedder(cfg.build.embedder)
        if cfg.build.embedder != "hashing"
        else get_embedder("hashing", dim=256)
    )
    t = time.perf_counter()
    B.build(personas, cfg.build, TemplateTeacher(), out / "data", emb)
    stats = B.finish(out / "data", cfg.build, emb, seed)
    train_items = B.load_split(out / "data", "train")
    times["build"] = time.perf_counter() - t
    rng = random.Random(seed + 1)
    # all general items (sums, plain and false-premise) plus description-reading chats
    mix = general + rng.sample(reading, min(cfg.mix.general, len(reading)))

    ev = cfg.eval

    def gen_for(model: Any, tokenizer: Any) -> Any:
        lm = sampling_backend(model, tokenizer, ev.sampler, out / "sampler", ev.batch_size)
        return backend_generate(lm, ev.max_new_tokens, seed)

    def score(gen: Any, tokenizer: Any, mode: str, name: str) -> dict[str, float]:
        m, rows = evaluate_model(
            gen, tokenizer, personas, mode, None, ev.bleu_prompts, ev.temperature, seed
        )
        write_jsonl(out / f"answers-{name}.jsonl", rows)
        return m

    metrics: dict[str, dict[str, float]] = {}
    t = time.perf_counter()
    metrics["B0"] = score(gen_for(base, tok), tok, "b0", "B0")
    times["eval_b0"] = time.perf_counter() - t

    sft_cfg = cfg.sft.model_copy(update={"seed": seed})
    stages = sorted({s for p in personas for s in p.stages})
    b1_gens: dict[str, Any] = {}
    sft_gens: dict[str, Any] = {}
    dpo_gens: dict[str, Any] = {}
    ptok = copy.deepcopy(tok)
    T.add_stage_tokens(copy.deepcopy(base), ptok, stages)
    n_pairs = 0
    for k in ("b1", "sft", "dpo"):
        times[k] = 0.0
    # one model per persona, as the paper trains them
    for p in personas:
        mine = [it for it in train_items if it["persona"] == p.key]
        t = time.perf_counter()
        b1_rows = T.sft_rows(tok, mine, mix, "b1", cfg.mix.repeat, seed)
        b1, _ = T.train_sft_model(copy.deepcopy(base), tok, b1_rows, sft_cfg, out / p.key / "b1")
        b1_gens[p.key] = gen_for(b1, tok)
        times["b1"] += time.perf_counter() - t

        t = time.perf_counter()
        pmodel = copy.deepcopy(base)
        T.add_stage_tokens(pmodel, copy.deepcopy(tok), stages)
        p_rows = T.sft_rows(ptok, mine, mix, "persllm", cfg.mix.repeat, seed)
        sft, _ = T.train_sft_model(pmodel, ptok, p_rows, sft_cfg, out / p.key / "sft")
        sft_gens[p.key] = gen_for(sft, ptok)
        times["sft"] += time.perf_counter() - t
        if cfg.dpo.enabled:
            t = time.perf_counter()
            d = cfg.dpo
            pairs = T.dpo_pairs(
                ptok, train_items, emb, d.skip_top, d.cross_persona, d.cross_stage, only=p.key
            )
            n_pairs += len(pairs)
            dpo_cfg = d.train.model_copy(update={"seed": seed})
            dpo, _ = T.train_dpo_model(
                copy.deepcopy(sft), ptok, pairs, dpo_cfg, out / p.key / "dpo"
            )
            dpo_gens[p.key] = gen_for(dpo, ptok)
            times["dpo"] += time.perf_counter() - t
    t = time.perf_counter()
    metrics["B1"] = score(b1_gens, tok, "b1", "B1")
    metrics["SFT"] = score(sft_gens, ptok, "persllm", "SFT")
    if dpo_gens:
        metrics["SFT+DPO"] = score(dpo_gens, ptok, "persllm", "SFT+DPO")
    times["eval"] = time.perf_counter() - t
    result = {
        "seed": seed,
        "metrics": metrics,
        "data": stats,
        "dpo_pairs": n_pairs,
        "seconds": time.perf_counter() - t0,
        "times": times,
    }
    atomic_write_json(done, result)
    return result


def run_claim(cfg: PersLLMConfig, root: Path, seeds: list[int]) -> dict[int, dict[str, Any]]:
    """Every seed of the claim (finished seeds are read back), sharing one base model."""
    return {s: run_world(cfg, s, Path(root) / f"seed-{s}") for s in seeds}

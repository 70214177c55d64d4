"""The controlled experiment behind the claims: per seed, generated dialogues on the NCI pool, the
baselines, and the tiny T5 with and without knowledge pre-training (same fine-tuning steps).

Seeds and thresholds live in the config (``claim``), fixed before any run. Jobs (seed x arm) run in
separate processes, one torch thread each, so two cores train two models at once.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ennead.chatmol.config import ChatMolConfig
from ennead.chatmol.data import (
    Dialogue,
    Pool,
    build_pool,
    fact_weights,
    make_dialogues,
    split_pool,
    split_stats,
)

ARMS = ("pretrained", "scratch")


@lru_cache(maxsize=2)
def cached_pool(
    path: str | None, max_heavy_atoms: int, max_tokens: int, limit: int | None = None
) -> Pool:
    return build_pool(path, max_heavy_atoms, max_tokens, limit)


@dataclass
class SeedData:
    seed: int
    pool: Pool
    split: dict[str, list[int]]
    train: list[Dialogue]
    test: list[Dialogue]
    stats: dict[str, Any] = field(default_factory=dict)


def make_data(cfg: ChatMolConfig, seed: int) -> SeedData:
    d = cfg.data
    pool = cached_pool(d.pool, d.max_heavy_atoms, d.max_tokens, d.pool_limit)
    split = split_pool(len(pool.smiles), d.n_test, d.n_val, seed)
    weights = fact_weights(pool)
    train_idx = split["train"][: d.n_train] if d.n_train else split["train"]
    train = make_dialogues(pool, train_idx, split["train"], seed + 1, "train", weights)
    test = make_dialogues(pool, split["test"], split["train"], seed + 2, "test", weights)
    stats = {
        "pool": len(pool.smiles),
        "pool_invalid_smiles": pool.invalid,
        "pool_filtered": pool.filtered,
        "train": split_stats(train),
        "test": split_stats(test),
    }
    return SeedData(seed, pool, split, train, test, stats)


def baseline_metrics(cfg: ChatMolConfig, data: SeedData) -> dict[str, dict[str, Any]]:
    from ennead.chatmol.baselines import Retrieval, constraint_filter, random_baseline
    from ennead.chatmol.metrics import evaluate_candidates

    k = cfg.model.beams
    tr = data.split["train"]
    return {
        "random": evaluate_candidates(
            data.test, random_baseline(data.test, data.pool, tr, k, data.seed)
        ),
        "retrieval": evaluate_candidates(data.test, Retrieval(data.train).candidates(data.test, k)),
        "oracle": evaluate_candidates(
            data.test, constraint_filter(data.test, data.pool, tr, k, data.seed)
        ),
    }


def train_arm(
    cfg: ChatMolConfig,
    data: SeedData,
    arm: str,
    out: Path | None = None,
    start: Path | None = None,
    finetune: bool = True,
) -> tuple[Any, Any, dict[str, Any]]:
    """Train one arm; returns (model, tokenizer, info with the loss logs and seconds).

    ``start``: a saved (pre-trained) model and tokenizer to fine-tune instead of a fresh model;
    ``finetune=False`` stops after pre-training.
    """
    import torch

    from ennead.chatmol import model as M

    torch.set_num_threads(cfg.train.threads)
    t0 = time.perf_counter()
    out_fmt = cfg.model.output
    pre = M.pretraining_examples(data.pool, data.split["train"], data.seed, out_fmt)
    ft = M.dialogue_examples(data.train, cfg.train.history, out_fmt)
    # one vocabulary for both arms: the same model size, only the training differs
    if start is not None:
        model, tok = M.load(start)
    else:
        tok = M.build_tokenizer([a + " " + b for a, b in pre + ft])
        torch.manual_seed(data.seed)
        model = M.build_model(tok, cfg.model)
    info: dict[str, Any] = {"pretrain_log": [], "finetune_log": []}
    dev = cfg.train.device
    if arm == "pretrained" and cfg.train.pretrain_steps:
        M.train_steps(
            model,
            tok,
            pre,
            cfg.train.pretrain_steps,
            cfg.model,
            data.seed,
            info["pretrain_log"],
            dev,
        )
    M.train_steps(
        model,
        tok,
        ft,
        cfg.train.finetune_steps,
        cfg.model,
        data.seed + 1,
        info["finetune_log"],
        dev,
    )
    info["train_seconds"] = time.perf_counter() - t0
    info["parameters"] = sum(p.numel() for p in model.parameters())
    if out is not None:
        M.save(model, tok, out)
    return model, tok, info


def run_arm(cfg: ChatMolConfig, data: SeedData, arm: str, out: Path | None) -> dict[str, Any]:
    from ennead.chatmol import model as M
    from ennead.chatmol.metrics import evaluate_candidates

    model, tok, info = train_arm(cfg, data, arm, out)
    t0 = time.perf_counter()
    cands = M.self_fed_decode(model, tok, data.test, cfg.model, cfg.train.history, cfg.train.device)
    metrics = evaluate_candidates(data.test, cands)
    info["decode_seconds"] = time.perf_counter() - t0
    metrics.update(info)
    metrics["examples"] = [
        {"turns": d.turns, "target": d.targets[-1], "candidates": c[-1][:3]}
        for d, c in zip(data.test[:8], cands[:8], strict=True)
    ]
    return metrics


def _job(args: tuple[dict[str, Any], int, str, str | None]) -> tuple[int, str, dict[str, Any]]:
    cfg_d, seed, arm, out = args
    cfg = ChatMolConfig.model_validate(cfg_d)
    data = make_data(cfg, seed)
    if arm == "baselines":
        res: dict[str, Any] = {"baselines": baseline_metrics(cfg, data), "stats": data.stats}
        return seed, arm, res
    return seed, arm, run_arm(cfg, data, arm, Path(out) if out else None)


def run_seeds(
    cfg: ChatMolConfig,
    seeds: list[int],
    folder: Path,
    workers: int = 2,
    arms: tuple[str, ...] = ARMS,
) -> dict[int, dict[str, Any]]:
    """Baselines and both arms for every seed; results also written to ``folder/seed-N.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(cfg.model_dump(), s, a, None) for s in seeds for a in arms]
    jobs += [(cfg.model_dump(), s, "baselines", None) for s in seeds]
    results: dict[int, dict[str, Any]] = {s: {} for s in seeds}
    if workers <= 1:
        done = [_job(j) for j in jobs]
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as ex:
            done = list(ex.map(_job, jobs))
    for seed, arm, res in done:
        if arm == "baselines":
            results[seed].update(res["baselines"])
            results[seed]["stats"] = res["stats"]
        else:
            results[seed][arm] = res
    for s in seeds:
        (folder / f"seed-{s}.json").write_text(
            json.dumps(results[s], indent=1, default=str), encoding="utf-8"
        )
    return results


@dataclass
class ClaimResult:
    """Per-seed headline numbers of the gate and whether each gate condition held on the mean."""

    seeds: list[int]
    per_seed: dict[int, dict[str, float]]
    seconds: float
    min_validity: float
    sat_margin: float

    def values(self, key: str) -> list[float]:
        return [self.per_seed[s][key] for s in self.seeds]

    def mean(self, key: str) -> float:
        v = self.values(key)
        return sum(v) / len(v)

    @property
    def gates(self) -> dict[str, bool]:
        return {
            "validity": self.mean("validity") >= self.min_validity,
            "satisfaction_vs_random": self.mean("sat_gain_vs_random") >= self.sat_margin,
            "pretraining": self.mean("pretrain_gain") >= 0.0,
        }


def headline(res: dict[str, Any]) -> dict[str, float]:
    """The numbers one seed contributes to the claims."""
    pre, scr, rnd, ret, ora = (
        res["pretrained"],
        res["scratch"],
        res["random"],
        res["retrieval"],
        res["oracle"],
    )
    return {
        "validity": pre["validity"],
        "satisfaction": pre["satisfaction"],
        "sat@5": pre["sat@5"],
        "hit@3": pre["hit@3"],
        "morgan": pre["morgan"],
        "scratch_validity": scr["validity"],
        "scratch_satisfaction": scr["satisfaction"],
        "random_satisfaction": rnd["satisfaction"],
        "retrieval_satisfaction": ret["satisfaction"],
        "oracle_satisfaction": ora["satisfaction"],
        "retrieval_morgan": ret["morgan"],
        "random_morgan": rnd["morgan"],
        "sat_gain_vs_random": pre["satisfaction"] - rnd["satisfaction"],
        "pretrain_gain": pre["satisfaction"] - scr["satisfaction"],
        "morgan_gain_vs_retrieval": pre["morgan"] - ret["morgan"],
        "invalid": float(pre["invalid"]),
        "train_seconds": pre["train_seconds"] + scr["train_seconds"],
    }


def run_claim(cfg: ChatMolConfig, seeds: list[int], folder: Path, workers: int = 2) -> ClaimResult:
    t0 = time.perf_counter()
    results = run_seeds(cfg, seeds, folder, workers)
    return ClaimResult(
        seeds=list(seeds),
        per_seed={s: headline(results[s]) for s in seeds},
        seconds=time.perf_counter() - t0,
        min_validity=cfg.claim.min_validity,
        sat_margin=cfg.claim.sat_margin,
    )

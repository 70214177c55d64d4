"""Pre-train on the source domain, transfer to the target domain, evaluate cold and warm users.

A *unit* is one (model, meta, seed): it pre-trains once on the source domain (when a mode needs
it) and fine-tunes every requested transfer mode from the same seeded initialisation, so the
conditions of a unit are paired. The grid runs units serially, in local processes or as Ray
tasks; results are per-user arrays, so a paired bootstrap over users compares any two modes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.errors import ConfigError
from ennead.recsys.config import RecsysConfig
from ennead.recsys.data import Dataset, Split, load_dataset, split_domains

GROUPS = ("cold", "warm")


@lru_cache(maxsize=4)
def _context(data_json: str) -> tuple[Dataset, Split]:
    from ennead.recsys.config import DataSettings

    cfg = DataSettings.model_validate_json(data_json)
    ds = load_dataset(cfg)
    return ds, split_domains(ds, cfg)


def context(cfg: RecsysConfig) -> tuple[Dataset, Split]:
    return _context(cfg.data.model_dump_json())


def _model(cfg: RecsysConfig, ds: Dataset, meta: bool) -> Any:
    from ennead.recsys.models import build_model

    if meta and not (ds.meta[:, 0] > 0).any():
        raise ConfigError("meta=true needs a knowledge graph (<name>.kg + .link in data.root)")
    return build_model(
        cfg.model,
        ds.n_users,
        ds.n_items,
        cfg.data.max_len,
        ds.meta if meta else None,
        ds.n_directors,
        ds.n_actors,
    )


def _threads(cfg: RecsysConfig) -> None:
    import torch

    if cfg.train.threads:
        torch.set_num_threads(cfg.train.threads)


def _fit(
    model: Any,
    seqs: dict[int, list[int]],
    items: np.ndarray,
    cfg: RecsysConfig,
    epochs: int,
    seed: int,
    checkpoint: Path | None,
) -> dict[str, Any]:
    """:func:`ennead.recsys.train.fit`, or its DDP form inside an accelerate-launched process."""
    from ennead.recsys.distributed import fit_ddp, in_worker
    from ennead.recsys.train import fit

    args = (model, seqs, items, cfg.model, cfg.train, epochs, seed, cfg.data.max_len)
    if in_worker():
        return fit_ddp(*args)
    return fit(*args, checkpoint)


def pretrain(
    cfg: RecsysConfig, meta: bool, seed: int, checkpoint: Path | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the model on every user's source-domain sequence; returns (state, info)."""
    import torch

    if cfg.train.processes > 1:
        from ennead.recsys.distributed import run_launched

        return run_launched(cfg, "pretrain", meta, seed)
    _threads(cfg)
    ds, sp = context(cfg)
    torch.manual_seed(seed)
    model = _model(cfg, ds, meta)
    source_items = np.setdiff1d(np.arange(1, ds.n_items + 1), sp.target_items)
    info = _fit(
        model,
        sp.source,
        source_items,
        cfg,
        cfg.train.pretrain_epochs,
        seed,
        checkpoint,
    )
    return model.state_dict(), info


@lru_cache(maxsize=2)
def _transe(data_json: str, transe_json: str, seed: int) -> np.ndarray:
    from ennead.recsys.config import TransESettings
    from ennead.recsys.train import train_transe

    ds, _ = _context(data_json)
    tcfg = TransESettings.model_validate_json(transe_json)
    return train_transe(ds.triples, ds.n_entities, ds.n_relations, tcfg, seed)


def finetune(
    cfg: RecsysConfig,
    mode: str,
    meta: bool,
    seed: int,
    source_state: dict[str, Any] | None,
    checkpoint: Path | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune on the target domain's training items with transfer ``mode``."""
    import torch

    from ennead.recsys.train import kg_init, transfer_weights

    _threads(cfg)
    ds, sp = context(cfg)
    torch.manual_seed(seed)
    model = _model(cfg, ds, meta)
    if cfg.train.processes > 1:
        from ennead.recsys.distributed import run_launched

        if mode in ("shallow", "deep") and source_state is None:
            raise ConfigError(f"mode {mode} needs a pre-trained model (`recsys pretrain`)")
        state, info = run_launched(cfg, "finetune", meta, seed, mode, source_state)
        model.load_state_dict(state)
        model.eval()
        return model, info
    copied: list[str] = []
    if mode in ("shallow", "deep"):
        if source_state is None:
            raise ConfigError(f"mode {mode} needs a pre-trained model (`recsys pretrain`)")
        copied = transfer_weights(model, source_state, mode)
    elif mode == "kg_init":
        ent = _transe(cfg.data.model_dump_json(), cfg.transe.model_dump_json(), seed)
        kg_init(model, ent, ds.item_entity, seed)
    info = _fit(
        model,
        sp.target_train,
        sp.target_items,
        cfg,
        cfg.train.finetune_epochs,
        seed,
        checkpoint,
    )
    info["copied"] = copied
    return model, info


def evaluate(model: Any, cfg: RecsysConfig) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Per-user metrics: {group: {protocol: {metric: array}}} for cold and warm users."""
    import torch

    from ennead.recsys import metrics
    from ennead.recsys.train import left_pad

    _, sp = context(cfg)
    out: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    model.eval()
    for group, users in (("cold", sp.cold), ("warm", sp.warm)):
        if not users:
            continue
        hist = [sp.target_train[u] for u in users]
        with torch.no_grad():
            scores = model.score(
                torch.as_tensor(users), torch.as_tensor(left_pad(hist, cfg.data.max_len))
            )
        rng = np.random.default_rng([cfg.data.split_seed, 1 if group == "cold" else 2])
        test = [sp.test[u] for u in users]
        out[group] = {
            "sampled": metrics.sampled(scores, test, [sp.negatives[u] for u in users], rng),
            "full": metrics.full(scores, test, hist, sp.target_items),
        }
    return out


@dataclass
class UnitResult:
    model: str
    meta: bool
    seed: int
    # mode -> group -> protocol -> metric -> per-user values
    per_user: dict[str, dict[str, dict[str, dict[str, list[float]]]]]
    seconds: dict[str, float]
    epochs_per_s: dict[str, float | None]

    def mean(
        self, mode: str, group: str, metric: str = "ndcg@10", protocol: str = "sampled"
    ) -> float:
        return float(np.mean(self.per_user[mode][group][protocol][metric]))


def run_unit(
    cfg: RecsysConfig, model: str, meta: bool, seed: int, modes: list[str], out: Path | None = None
) -> UnitResult:
    """Pre-train once (if needed) and fine-tune every mode; results and checkpoints under out."""
    cfg = cfg.model_copy(deep=True)
    cfg.model.name = model  # type: ignore[assignment]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        done = out / "unit.json"
        if done.is_file():
            return UnitResult(**json.loads(done.read_text(encoding="utf-8")))
    seconds: dict[str, float] = {}
    eps: dict[str, float | None] = {}
    state = None
    if any(m in ("shallow", "deep") for m in modes):
        t0 = time.perf_counter()
        state, info = pretrain(cfg, meta, seed, out / "pretrain.pt" if out else None)
        seconds["pretrain"] = time.perf_counter() - t0
        eps["pretrain"] = info["epochs_per_s"]
    per_user: dict[str, Any] = {}
    for mode in modes:
        t0 = time.perf_counter()
        net, info = finetune(cfg, mode, meta, seed, state, out / f"{mode}.pt" if out else None)
        res = evaluate(net, cfg)
        seconds[mode] = time.perf_counter() - t0
        eps[mode] = info["epochs_per_s"]
        per_user[mode] = {
            g: {p: {k: v.tolist() for k, v in d.items()} for p, d in by.items()}
            for g, by in res.items()
        }
    unit = UnitResult(model, meta, seed, per_user, seconds, eps)
    if out is not None:
        from ennead.core.io import atomic_write_json

        atomic_write_json(out / "unit.json", unit.__dict__)
    return unit

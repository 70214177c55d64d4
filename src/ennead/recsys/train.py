"""Training examples per model, one training loop with per-epoch checkpoints, transfer, TransE.

The loop is small and local rather than :class:`ennead.core.train.Trainer`, which is built
around tokenised language-model batches; the recommenders here train in seconds per epoch on a
CPU. Each epoch draws its examples from ``default_rng([seed, epoch])`` and a checkpoint holds
the torch RNG state, so a resumed run continues exactly where it stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ennead.core.errors import ConfigError
from ennead.recsys.config import ModelSettings, TrainSettings, TransESettings
from ennead.recsys.models import Recommender, TransE

Batch = dict[str, torch.Tensor]


def left_pad(rows: list[list[int]], length: int) -> np.ndarray:
    out = np.zeros((len(rows), length), dtype=np.int64)
    for r, s in enumerate(rows):
        s = s[-length:]
        if s:
            out[r, length - len(s) :] = s
    return out


def examples(
    seqs: dict[int, list[int]],
    cfg: ModelSettings,
    max_len: int,
    rng: np.random.Generator,
    items: np.ndarray,
    mask_id: int,
) -> dict[str, np.ndarray]:
    """One epoch of training examples for ``cfg.name`` (arrays of equal first dimension)."""
    users = [u for u, s in seqs.items() if s]
    if cfg.name == "mf":
        pairs = np.array([(u, i) for u in users for i in seqs[u]], dtype=np.int64)
        neg = rng.choice(items, size=(len(pairs), cfg.mf_negatives))
        return {"users": pairs[:, 0], "pos": pairs[:, 1], "neg": neg}
    if cfg.name == "caser":
        rows, us, tgt = [], [], []
        for u in users:
            s = seqs[u]
            for t in range(len(s)):  # t = 0: the user embedding alone predicts the first item
                rows.append(s[max(0, t - cfg.caser_l) : t])
                us.append(u)
                tgt.append(s[t])
        return {
            "users": np.array(us, dtype=np.int64),
            "seq": left_pad(rows, cfg.caser_l),
            "target": np.array(tgt, dtype=np.int64),
        }
    if cfg.name == "sasrec":
        rows, labels = [], []
        for u in users:
            w = seqs[u][-(max_len + 1) :]
            # the first position sees only itself; prepend padding so it is a label too
            rows.append([0, *w[:-1]][-max_len:])
            labels.append(w[-max_len:])
        return {
            "users": np.array(users, dtype=np.int64),
            "seq": left_pad(rows, max_len),
            "labels": left_pad(labels, max_len),
        }
    if cfg.objective == "mlm":
        rows, labels, us = [], [], []
        for u in users:
            w = list(seqs[u][-max_len:])
            lab = [0] * len(w)
            hit = rng.random(len(w)) < 0.15
            hit[-1] = hit[-1] or not hit.any()  # at least one prediction per sequence
            for j in np.flatnonzero(hit):
                lab[j] = w[j]
                p = rng.random()
                w[j] = mask_id if p < 0.8 else int(rng.choice(items)) if p < 0.9 else w[j]
            rows.append(w)
            labels.append(lab)
            us.append(u)
        return {
            "users": np.array(us, dtype=np.int64),
            "seq": left_pad(rows, max_len),
            "labels": left_pad(labels, max_len),
        }
    # random cut: the item at position k (1 <= k <= len) is masked and predicted from its prefix;
    # the paper cuts from k = 3, the short prefixes are kept here because cold users have K = 5
    rows, labels, us = [], [], []
    for u in users:
        s = seqs[u]
        for k in rng.integers(1, len(s) + 1, size=cfg.cuts_per_user):
            w = s[max(0, k - max_len) : k]
            rows.append([*w[:-1], mask_id])
            labels.append([0] * (len(w) - 1) + [w[-1]])
            us.append(u)
    return {
        "users": np.array(us, dtype=np.int64),
        "seq": left_pad(rows, max_len),
        "labels": left_pad(labels, max_len),
    }


def batches(ex: dict[str, np.ndarray], size: int, rng: np.random.Generator) -> Iterator[Batch]:
    n = len(ex["users"])
    order = rng.permutation(n)
    for start in range(0, n, size):
        idx = order[start : start + size]
        yield {k: torch.as_tensor(v[idx]) for k, v in ex.items()}


def _save(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def fit(
    model: Recommender,
    seqs: dict[int, list[int]],
    items: np.ndarray,
    mcfg: ModelSettings,
    tcfg: TrainSettings,
    epochs: int,
    seed: int,
    max_len: int,
    checkpoint: Path | None = None,
) -> dict[str, Any]:
    """Train ``model`` on ``seqs``; with ``checkpoint`` saved each epoch and resumed from."""
    tcfg = tcfg.for_model(mcfg.name)
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    history: list[dict[str, float]] = []
    start = 0
    if checkpoint is not None and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        torch.set_rng_state(state["torch_rng"])
        start, history = state["epoch"], state["history"]
    model.train()
    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([seed, epoch])
        ex = examples(seqs, mcfg, max_len, rng, items, model.mask_id)
        total, n = 0.0, 0
        for batch in batches(ex, tcfg.batch_size, rng):
            loss = model.loss(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch["users"])
            n += len(batch["users"])
        history.append(
            {"epoch": epoch + 1, "loss": total / max(n, 1), "seconds": time.perf_counter() - t0}
        )
        if checkpoint is not None:
            _save(
                checkpoint,
                {
                    "model": model.state_dict(),
                    "opt": opt.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "epoch": epoch + 1,
                    "history": history,
                },
            )
    model.eval()
    secs = [h["seconds"] for h in history[start:]]
    return {
        "history": history,
        "epochs_per_s": len(secs) / sum(secs) if secs and sum(secs) > 0 else None,
    }


SHALLOW = ("user_emb.", "dir_emb.", "act_emb.")


def transfer_weights(model: Recommender, source: dict[str, torch.Tensor], mode: str) -> list[str]:
    """Copy pre-trained parameters: shallow = user (+ meta) tables; deep = all but the output."""
    if mode not in ("shallow", "deep"):
        return []
    own = model.state_dict()
    keys = [
        k
        for k in source
        if k in own
        and (
            k.startswith(SHALLOW) if mode == "shallow" else not k.startswith(model.output_prefixes)
        )
    ]
    for k in keys:
        if own[k].shape != source[k].shape:
            raise ConfigError(
                f"cannot transfer {k}: source shape {tuple(source[k].shape)} != "
                f"{tuple(own[k].shape)} (pre-train and transfer with the same model.*, meta "
                "and data settings)"
            )
    model.load_state_dict({k: source[k] for k in keys}, strict=False)
    return keys


def train_transe(
    triples: np.ndarray, n_entities: int, n_relations: int, cfg: TransESettings, seed: int
) -> np.ndarray:
    """Entity vectors of a TransE trained on the KG (margin loss, one corrupted side)."""
    torch.manual_seed(seed)
    model = TransE(n_entities, n_relations, cfg.dim)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    t = torch.as_tensor(triples)
    for epoch in range(cfg.epochs):
        rng = np.random.default_rng([seed, epoch])
        for idx in np.array_split(rng.permutation(len(t)), max(1, len(t) // cfg.batch_size)):
            h, r, tl = t[idx, 0], t[idx, 1], t[idx, 2]
            corrupt = torch.as_tensor(rng.integers(0, n_entities, len(idx)))
            head = torch.as_tensor(rng.random(len(idx)) < 0.5)
            h2, t2 = torch.where(head, corrupt, h), torch.where(head, tl, corrupt)
            loss = torch.relu(cfg.margin + model.distance(h, r, tl) - model.distance(h2, r, t2))
            opt.zero_grad()
            loss.mean().backward()
            opt.step()
            with torch.no_grad():
                w = model.ent.weight
                w.div_(w.norm(dim=1, keepdim=True).clamp_min(1.0))
    return model.ent.weight.detach().numpy()


def kg_init(model: Recommender, entity: np.ndarray, item_entity: np.ndarray, seed: int) -> int:
    """Item embeddings from TransE vectors through a fixed random projection; returns items set."""
    rows = np.flatnonzero(item_entity >= 0)
    if len(rows) == 0:
        raise ConfigError("mode kg_init needs a knowledge graph (<name>.kg + .link in data.root)")
    g = torch.Generator().manual_seed(seed)
    w = model.item_emb.weight
    proj = torch.randn(entity.shape[1], w.shape[1], generator=g)
    vec = torch.as_tensor(entity[item_entity[rows]], dtype=proj.dtype) @ proj
    vec = vec * (w.detach().std() / vec.std().clamp_min(1e-8))  # keep the init scale
    with torch.no_grad():
        w[torch.as_tensor(rows)] = vec.to(w.dtype)
    return len(rows)

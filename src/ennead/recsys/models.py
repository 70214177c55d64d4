"""BERT4Rec, SASRec, Caser, BPR-MF and TransE at CPU size, with the paper's inputs.

The sequential models read per position the item embedding concatenated with the user embedding
and, with meta knowledge, a director and actor embeddings (metaBERT4Rec's design). Every model
names its tables alike (``item_emb``, ``user_emb``, ``dir_emb``, ``act_emb``, ``out``), so one
transfer function serves them all (:mod:`ennead.recsys.train`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ennead.core.errors import ConfigError
from ennead.recsys.config import ModelSettings


class Recommender(nn.Module):
    """Shared tables; subclasses define ``score`` (next-item logits) and ``loss``."""

    #: parameter-name prefixes of the output layer, which deep transfer leaves fresh
    output_prefixes: tuple[str, ...] = ("out.",)

    def __init__(
        self,
        n_users: int,
        n_items: int,
        cfg: ModelSettings,
        meta: np.ndarray | None,
        n_directors: int,
        n_actors: int,
        user_dim: int | None = None,
    ):
        super().__init__()
        self.cfg, self.n_items = cfg, n_items
        self.mask_id = n_items + 1  # the [MASK] token; never a candidate
        self.item_emb = nn.Embedding(n_items + 2, cfg.hidden, padding_idx=0)
        self.user_emb = nn.Embedding(n_users + 1, user_dim or cfg.user_dim)
        self.use_meta = meta is not None
        self.meta_width = 0
        if meta is not None:
            rows = np.zeros((n_items + 2, meta.shape[1]), dtype=np.int64)
            rows[: meta.shape[0]] = meta
            self.register_buffer("meta", torch.as_tensor(rows), persistent=False)
            self.dir_emb = nn.Embedding(n_directors, cfg.meta_dim, padding_idx=0)
            self.act_emb = nn.Embedding(n_actors, cfg.meta_dim, padding_idx=0)
            self.meta_width = cfg.meta_dim * meta.shape[1]
        for emb in (self.item_emb, self.user_emb):
            nn.init.normal_(emb.weight, std=0.02)

    def item_features(self, items: torch.Tensor) -> torch.Tensor:
        """Item embedding, with the director and actor embeddings when meta is on."""
        x = self.item_emb(items)
        if self.use_meta:
            m = self.meta[items]  # type: ignore[index]
            parts = [x, self.dir_emb(m[..., 0]), self.act_emb(m[..., 1:]).flatten(-2)]
            x = torch.cat(parts, dim=-1)
        return x

    def score(self, users: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The training loss: DDP synchronises gradients only through ``forward``."""
        return self.loss(batch)


class _Transformer(Recommender):
    causal = False

    def __init__(self, n_users: int, n_items: int, cfg: ModelSettings, max_len: int, **kw: Any):
        super().__init__(n_users, n_items, cfg, **kw)
        width = cfg.hidden + cfg.user_dim + self.meta_width
        if width % cfg.heads:
            raise ConfigError(
                f"model.heads={cfg.heads} must divide the per-position width {width} "
                "(hidden + user_dim + meta widths)"
            )
        self.max_len = max_len
        self.pos_emb = nn.Embedding(max_len, width)
        layer = nn.TransformerEncoderLayer(
            width, cfg.heads, 4 * width, cfg.dropout, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(width, n_items + 1)

    def encode(self, users: torch.Tensor, seq: torch.Tensor) -> torch.Tensor:
        b, n = seq.shape
        u = self.user_emb(users)[:, None, :].expand(b, n, -1)
        x = torch.cat([self.item_features(seq), u], dim=-1)
        x = self.drop(self.norm(x + self.pos_emb.weight[None, -n:]))
        pad = seq == 0
        if self.causal:
            # Left padding: a padded query would see no key at all (NaN in eval's fast path,
            # which spreads through the values of the next block); it sees itself instead.
            eye = torch.eye(n, dtype=torch.bool, device=seq.device)
            later = torch.triu(torch.ones(n, n, dtype=torch.bool, device=seq.device), 1)
            hidden = later[None] | (pad[:, None, :] & ~eye[None])  # [B, query, key]
            mask = hidden.repeat_interleave(self.cfg.heads, dim=0)
            return self.encoder(x, mask=mask)
        # a row of only padding would give NaN; keep its last position visible
        pad = pad.clone()
        pad[:, -1] = False
        return self.encoder(x, src_key_padding_mask=pad)


class BERT4Rec(_Transformer):
    """Bidirectional encoder; predicts the item at a [MASK] (random cut or 15% masking)."""

    def score(self, users: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        seq = torch.cat([hist[:, 1:], torch.full_like(hist[:, :1], self.mask_id)], dim=1)
        return self.out(self.encode(users, seq)[:, -1])

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        h = self.encode(batch["users"], batch["seq"])
        labels = batch["labels"]  # 0 where nothing is predicted
        sel = labels > 0
        return F.cross_entropy(self.out(h[sel]), labels[sel])


class SASRec(_Transformer):
    """Causal self-attention; next item at every position (full softmax)."""

    causal = True

    def score(self, users: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        return self.out(self.encode(users, hist)[:, -1])

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        h = self.encode(batch["users"], batch["seq"])
        labels = batch["labels"]
        sel = labels > 0
        return F.cross_entropy(self.out(h[sel]), labels[sel])


class Caser(Recommender):
    """Convolutional sequence embedding over the last L items, user embedding at the top."""

    def __init__(self, n_users: int, n_items: int, cfg: ModelSettings, max_len: int, **kw: Any):
        super().__init__(n_users, n_items, cfg, **kw)
        d, L = cfg.hidden + self.meta_width, cfg.caser_l
        self.L = L
        self.vert = nn.Conv2d(1, cfg.caser_v, (L, 1))
        self.horiz = nn.ModuleList(nn.Conv2d(1, cfg.caser_h, (h, d)) for h in range(1, L + 1))
        self.fc = nn.Linear(cfg.caser_v * d + cfg.caser_h * L, cfg.hidden)
        self.drop = nn.Dropout(max(cfg.dropout, 0.0))
        self.out = nn.Linear(cfg.hidden + cfg.user_dim, n_items + 1)

    def _z(self, users: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        # The convolutions as matrix products over the same Conv2d weights: the same function,
        # about twice as fast forward + backward on a CPU as conv2d with a (h, d) kernel.
        x = self.item_features(hist[:, -self.L :])  # [B, L, d]
        L, d = x.shape[1:]
        wv = self.vert.weight[:, 0, :, 0]  # [nv, L]
        bv: torch.Tensor = self.vert.bias  # type: ignore[assignment]
        v = (x.transpose(1, 2) @ wv.T).transpose(1, 2) + bv[None, :, None]
        hs = []
        for h, conv in enumerate(self.horiz, 1):
            n = L - h + 1  # windows of h items, flattened item-major like the kernel (h, d)
            win = torch.cat([x[:, j : j + n] for j in range(h)], dim=-1)
            assert isinstance(conv, nn.Conv2d)
            w = conv.weight.reshape(conv.out_channels, h * d)
            c = F.relu(F.linear(win, w, conv.bias))
            hs.append(c.amax(1))  # max over positions: [B, nh]
        z = F.relu(self.fc(self.drop(torch.cat([v.flatten(1), *hs], dim=1))))
        return torch.cat([z, self.user_emb(users)], dim=1)

    def score(self, users: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        return self.out(self._z(users, hist))

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = self.out(self._z(batch["users"], batch["seq"]))
        return F.cross_entropy(logits, batch["target"])


class BPRMF(Recommender):
    """Matrix factorisation with the BPR loss; meta knowledge adds a projection to each item."""

    # the item table is MF's output layer: deep transfer copies users, meta and the projection
    output_prefixes = ("item_emb.", "item_bias.")

    def __init__(self, n_users: int, n_items: int, cfg: ModelSettings, max_len: int, **kw: Any):
        super().__init__(n_users, n_items, cfg, user_dim=cfg.hidden, **kw)
        self.item_bias = nn.Embedding(n_items + 2, 1)
        nn.init.zeros_(self.item_bias.weight)
        if self.use_meta:
            self.meta_proj = nn.Linear(self.meta_width, cfg.hidden, bias=False)

    def _items(self, items: torch.Tensor) -> torch.Tensor:
        q = self.item_emb(items)
        if self.use_meta:
            q = q + self.meta_proj(self.item_features(items)[..., self.cfg.hidden :])
        return q

    def score(self, users: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
        items = torch.arange(self.n_items + 1, device=users.device)
        q = self._items(items)
        return self.user_emb(users) @ q.T + self.item_bias.weight[: self.n_items + 1, 0]

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        p = self.user_emb(batch["users"])[:, None, :]
        pos, neg = batch["pos"], batch["neg"]  # [B], [B, n]
        s_pos = (p[:, 0] * self._items(pos)).sum(-1) + self.item_bias(pos)[:, 0]
        s_neg = (p * self._items(neg)).sum(-1) + self.item_bias(neg)[..., 0]
        return -F.logsigmoid(s_pos[:, None] - s_neg).mean()


MODELS: dict[str, type[Recommender]] = {
    "bert4rec": BERT4Rec,
    "sasrec": SASRec,
    "caser": Caser,
    "mf": BPRMF,
}


def build_model(
    cfg: ModelSettings,
    n_users: int,
    n_items: int,
    max_len: int,
    meta: np.ndarray | None,
    n_directors: int = 1,
    n_actors: int = 1,
) -> Recommender:
    cls: Any = MODELS[cfg.name]  # every subclass takes max_len after cfg
    model: Recommender = cls(
        n_users, n_items, cfg, max_len, meta=meta, n_directors=n_directors, n_actors=n_actors
    )
    return model


class TransE(nn.Module):
    """TransE (h + r ~ t), L2 distance and a margin; entity vectors initialise item embeddings."""

    def __init__(self, n_entities: int, n_relations: int, dim: int):
        super().__init__()
        self.ent = nn.Embedding(n_entities, dim)
        self.rel = nn.Embedding(n_relations, dim)
        bound = 6 / math.sqrt(dim)
        nn.init.uniform_(self.ent.weight, -bound, bound)
        nn.init.uniform_(self.rel.weight, -bound, bound)
        with torch.no_grad():
            self.rel.weight.div_(self.rel.weight.norm(dim=1, keepdim=True))

    def distance(self, h: torch.Tensor, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (self.ent(h) + self.rel(r) - self.ent(t)).norm(dim=-1)

"""The recurrent active-perception network (the paper's RAM-style model, sized for a CPU).

Per step: image -> CNN -> g_t; query word -> embedding q; h_t = core([q; g_t], h_{t-1}).
Heads: movement {left, right, stop} and value on h_t (detached by default, so the REINFORCE loss
trains only them), answer {no, yes} on one extra core step over the last image.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ennead.objexist.config import ModelConfig
from ennead.objexist.shapes import N_OBJECTS

MOVE_LEFT, MOVE_RIGHT, STOP = 0, 1, 2


class ReLURNNCell(nn.Module):
    """h' = ReLU(W_i x + W_h h), the paper's core."""

    def __init__(self, n_in: int, n_hidden: int):
        super().__init__()
        self.i2h = nn.Linear(n_in, n_hidden)
        self.h2h = nn.Linear(n_hidden, n_hidden)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.i2h(x) + self.h2h(h))


class ObjExistNet(nn.Module):
    def __init__(self, cfg: ModelConfig | None = None, in_channels: int = 3, centre: bool = True):
        super().__init__()
        cfg = cfg or ModelConfig()
        self.cfg = cfg
        # RGB in [0, 1] is centred on 0; a one-hot id map is fed as 0/1 (centring its 22 mostly
        # empty channels at -0.5 left the CNN stuck at chance in our runs)
        self.shift = 0.5 if centre else 0.0
        layers: list[nn.Module] = [nn.Dropout(cfg.dropout)] if cfg.dropout > 0 else []
        c_in = in_channels + int(cfg.query_channel)
        for i, c in enumerate(cfg.channels):
            k = 5 if i == 0 else 3
            layers += [nn.Conv2d(c_in, c, k, stride=2, padding=k // 2), nn.ReLU()]
            c_in = c
        self.conv = nn.Sequential(*layers)
        pooled = c_in * (2 if cfg.pool == "avgmax" else 1)
        self.film = nn.Linear(cfg.query_dim, 2 * c_in) if cfg.fusion == "film" else None
        self.fc = nn.Sequential(nn.Linear(pooled, cfg.feature_dim), nn.ReLU())
        self.query = nn.Embedding(N_OBJECTS, cfg.query_dim)
        nn.init.uniform_(self.query.weight, 0.0, 1.0)
        n_in = cfg.query_dim + cfg.feature_dim
        self.core: nn.Module = (
            nn.GRUCell(n_in, cfg.hidden) if cfg.core == "gru" else ReLURNNCell(n_in, cfg.hidden)
        )
        self.move = nn.Sequential(nn.Linear(cfg.hidden, 128), nn.ReLU(), nn.Linear(128, 3))
        self.value = nn.Linear(cfg.hidden, 1)
        self.answer = nn.Linear(cfg.hidden, 2)
        # only built when used, so checkpoints without it keep their keys
        self.seen = nn.Linear(cfg.feature_dim, 1) if cfg.view_aux > 0 else None

    def init_state(self, n: int) -> torch.Tensor:
        return torch.zeros(n, self.cfg.hidden)

    def encode(self, images: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) floats in [0, 1] and query ids (B,) -> (B, feature_dim)."""
        if self.cfg.query_channel:  # the queried object's id-map channel, once more
            sel = images[torch.arange(len(query)), query][:, None]
            images = torch.cat([images, sel], 1)
        x = self.conv(images - self.shift if self.shift else images)
        if self.film is not None:
            gamma, beta = self.film(self.query(query)).chunk(2, 1)
            x = torch.relu(x * (1 + gamma[:, :, None, None]) + beta[:, :, None, None])
        pooled = x.mean((2, 3))
        if self.cfg.pool == "avgmax":
            pooled = torch.cat([pooled, x.amax((2, 3))], 1)
        return self.fc(pooled)  # type: ignore[no-any-return]

    def step(self, query: torch.Tensor, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return self.core(torch.cat([self.query(query), g], 1), h)  # type: ignore[no-any-return]

    def act(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Movement logits (B, 3) and value (B,)."""
        x = h.detach() if self.cfg.detach_policy else h
        return self.move(x), self.value(x).squeeze(1)

    def predict(self, query: torch.Tensor, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Answer logits (B, 2) after one more core step on the last image."""
        return self.answer(self.step(query, g, h))  # type: ignore[no-any-return]


def images_to_tensor(view, depth=None) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """View observations (B, H, W, C) [+ depth (B, H, W) metres] -> float (B, C', H, W) in [0, 1].

    uint8 RGB is scaled by 1/255; an id map (float fractions, ``sim.observation=idmap``) is
    used as it is.
    """
    x = torch.from_numpy(view).permute(0, 3, 1, 2).float()
    if view.dtype == np.uint8:
        x = x.div_(255.0)
    if depth is not None:
        d = torch.from_numpy(depth).unsqueeze(1).clamp(0, 3.0) / 3.0
        x = torch.cat([x, d], 1)
    return x.contiguous()

"""Greedy test episodes: accuracy, moves, reward per level, per (label, occlusion) cell, per pair
split, plus a histogram of moves.

A suite draws its test scenes once per (level, pairs) from the test seed, so every policy is
scored on exactly the same scenes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ennead.objexist.env import Tabletop
from ennead.objexist.model import ObjExistNet
from ennead.objexist.rollout import Policy, rollout
from ennead.objexist.scenes import PairMode, Scenes

TWO_OBJECT_LEVELS = ("two_visible", "two_occluded")


class EvalSuite:
    def __init__(
        self,
        sim: Tabletop,
        levels: list[str],
        episodes: int,
        seed: int = 1234,
        holdout: bool = True,
        batch: int = 256,
    ):
        self.sim, self.batch = sim, batch
        self.sets: dict[str, Scenes] = {}
        for i, level in enumerate(levels):
            splits: list[tuple[str, PairMode]] = [(level, "train")]
            if holdout and level in TWO_OBJECT_LEVELS and sim.cfg.holdout_per_type > 0:
                splits.append((f"{level}@holdout", "holdout"))
            for j, (key, pairs) in enumerate(splits):
                rng = np.random.default_rng([seed, i, j])
                parts = [
                    sim.sampler.sample(min(batch, episodes - s), level, rng, pairs)
                    for s in range(0, episodes, batch)
                ]
                self.sets[key] = Scenes.concat(parts)

    def run(
        self,
        net: ObjExistNet | None,
        policy: Policy,
        seed: int = 0,
        raw: dict[str, dict[str, np.ndarray]] | None = None,
    ) -> dict[str, Any]:
        """Score ``policy`` on every split; ``raw`` (when given) receives per-episode ``correct``
        and ``moves`` per split, in scene order, for paired intervals across policies."""
        out: dict[str, Any] = {}
        rng = np.random.default_rng(seed)
        for key, scenes in self.sets.items():
            eps = []
            with torch.no_grad():
                for s in range(0, len(scenes), self.batch):
                    sub = scenes.take(np.arange(s, min(s + self.batch, len(scenes))))
                    eps.append((sub, rollout(net, self.sim, sub, policy, greedy=True, rng=rng)))
            out[key] = summarise(eps, self.sim.cfg.max_moves)
            if raw is not None:
                raw[key] = {
                    "correct": np.concatenate([e.correct for _, e in eps]),
                    "moves": np.concatenate([e.moves for _, e in eps]),
                }
        return out


def summarise(eps: list[tuple[Scenes, Any]], max_moves: int) -> dict[str, Any]:
    correct = np.concatenate([e.correct for _, e in eps])
    moves = np.concatenate([e.moves for _, e in eps])
    reward = np.concatenate([e.reward for _, e in eps])
    label = np.concatenate([s.label for s, _ in eps])
    occ = np.concatenate([s.occluded for s, _ in eps])
    hidden = np.concatenate([s.query_hidden for s, _ in eps])
    res: dict[str, Any] = {
        "episodes": len(correct),
        "accuracy": float(correct.mean()),
        "moves": float(moves.mean()),
        "reward": float(reward.mean()),
        "moves_hist": np.bincount(moves, minlength=max_moves + 1).tolist(),
        "cells": {},
    }
    for lab in (False, True):
        for oc in (False, True):
            m = (label == lab) & (occ == oc)
            if m.any():
                res["cells"][f"{'yes' if lab else 'no'}/{'occluded' if oc else 'visible'}"] = {
                    "n": int(m.sum()),
                    "accuracy": float(correct[m].mean()),
                    "moves": float(moves[m].mean()),
                }
    if hidden.any():
        res["cells"]["yes/query_hidden"] = {
            "n": int(hidden.sum()),
            "accuracy": float(correct[hidden].mean()),
            "moves": float(moves[hidden].mean()),
        }
    return res

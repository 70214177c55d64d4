"""Training: REINFORCE with a learned baseline plus the supervised answer loss, over a curriculum.

A *job* trains one network with one movement policy: the agent (``learned``, the curriculum
L1 -> L4, each stage starting from the previous weights and Adam state as in the paper) or a
fixed-policy baseline (``exhaustive``, ``passive``, ``random``: supervised loss only). Jobs write a
checkpoint (weights, Adam, RNG states, position in the curriculum) every
``train.checkpoint_every`` updates and at each stage end, so an interrupted job resumes where it
stopped and finishes with the same weights it would have had.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ennead.core.errors import StageError
from ennead.core.logging import get_logger, progress
from ennead.objexist.config import ObjExistConfig, StageConfig
from ennead.objexist.env import Tabletop
from ennead.objexist.model import STOP, ObjExistNet
from ennead.objexist.render import ID_CHANNELS
from ennead.objexist.rollout import Policy, reinforce_loss, rollout

log = get_logger(__name__)


@dataclass
class Job:
    name: str
    policy: Policy
    stages: list[StageConfig]
    seed: int


def build_net(cfg: ObjExistConfig) -> ObjExistNet:
    view = ID_CHANNELS if cfg.sim.observation == "idmap" else 3
    return ObjExistNet(
        cfg.model, in_channels=view + int(cfg.sim.depth), centre=cfg.sim.observation == "rgb"
    )


def load_net(cfg: ObjExistConfig, path: str | Path) -> ObjExistNet:
    path = Path(path)
    if not path.exists():
        raise StageError(f"no model at {path}; train first")
    net = build_net(cfg)
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state.get("model", state))
    net.eval()
    return net


def _save(path: Path, obj: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    tmp.replace(path)  # atomic: a crash leaves the previous checkpoint


def train_job(
    cfg: ObjExistConfig,
    job: Job,
    sim: Tabletop,
    ckpt_path: Path,
    log_metrics: Callable[..., None] | None = None,
    max_updates: int | None = None,
    rewind_metrics: Callable[..., int] | None = None,
) -> tuple[ObjExistNet, dict[str, Any]]:
    """Train ``job``; resume from ``ckpt_path`` when it holds an unfinished run of the same job.

    ``max_updates`` stops early (for tests of resumption); the checkpoint is then left unfinished.
    ``rewind_metrics(step, job=...)`` drops rows logged after the checkpoint on resume, so the
    metrics log holds each step once.
    """
    torch.set_num_threads(cfg.train.threads)
    torch.manual_seed(job.seed)
    net = build_net(cfg)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.train.lr)
    rng = np.random.default_rng(job.seed)
    gen = torch.Generator().manual_seed(job.seed)
    stage_i, done, elapsed, cpu, updates = 0, 0, 0.0, 0.0, 0
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if state["job"] != job.name:
            raise StageError(f"{ckpt_path} belongs to job {state['job']!r}, not {job.name!r}")
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        rng.bit_generator.state = state["np_rng"]
        gen.set_state(state["torch_rng"])
        stage_i, done, elapsed, updates = (
            state["stage"],
            state["done"],
            state["elapsed"],
            state["updates"],
        )
        cpu = state.get("cpu", 0.0)
        log.info("%s: resuming at stage %d, episode %d", job.name, stage_i, done)
        if rewind_metrics is not None:
            rewind_metrics(updates, job=job.name)
    supervised = job.policy != "learned"
    bs = cfg.train.batch_size

    def checkpoint() -> None:
        _save(
            ckpt_path,
            {
                "job": job.name,
                "model": net.state_dict(),
                "optim": opt.state_dict(),
                "np_rng": rng.bit_generator.state,
                "torch_rng": gen.get_state(),
                "stage": stage_i,
                "done": done,
                "elapsed": elapsed,
                "cpu": cpu,
                "updates": updates,
            },
        )

    history: list[dict[str, Any]] = []
    aux = cfg.model.view_aux
    net.train()
    while stage_i < len(job.stages):
        stage = job.stages[stage_i]
        w_rl = cfg.train.w_rl if stage.w_rl is None else stage.w_rl
        n_updates = -(-(stage.episodes - done) // bs)
        window: list[dict[str, float]] = []
        for _ in progress(range(n_updates), total=n_updates, desc=f"{job.name}:{stage.level}"):
            if max_updates is not None and updates >= max_updates:
                checkpoint()
                return net, {"finished": False, "updates": updates}
            t0, c0 = time.perf_counter(), time.process_time()
            n = min(bs, stage.episodes - done)
            scenes = sim.sampler.sample(n, stage.level, rng, cfg.train.pairs)
            n_explore = round(cfg.train.explore * n) if job.policy == "learned" else 0
            if 0 < n_explore < n:
                own = scenes.take(np.arange(n_explore, n))
                walk = scenes.take(np.arange(n_explore))
                ep = rollout(net, sim, own, job.policy, generator=gen, rng=rng)
                loss, parts = reinforce_loss(
                    ep, own.label, w_rl, cfg.train.entropy, supervised, cfg.train.step_answer, aux
                )
                ep_walk = rollout(net, sim, walk, cfg.train.explore_walk, rng=rng)
                walk_loss, _ = reinforce_loss(
                    ep_walk, walk.label, 0.0, 0.0, True, cfg.train.step_answer, aux
                )
                loss = loss + walk_loss * (n_explore / (n - n_explore))
            else:
                ep = rollout(net, sim, scenes, job.policy, generator=gen, rng=rng)
                loss, parts = reinforce_loss(
                    ep,
                    scenes.label,
                    w_rl,
                    cfg.train.entropy,
                    supervised,
                    cfg.train.step_answer,
                    aux,
                )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.train.grad_clip)
            opt.step()
            done += n
            updates += 1
            elapsed += time.perf_counter() - t0
            cpu += time.process_time() - c0
            parts.update(
                accuracy=float(ep.correct.mean()),
                moves=float(ep.moves.mean()),
                reward=float(ep.reward.mean()),
                stop_first=float((ep.actions[:, 0] == STOP).mean()),
            )
            window.append(parts)
            if updates % cfg.train.log_every == 0 or done >= stage.episodes:
                row = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
                row.update(episodes=done, seconds=round(elapsed, 2), cpu_seconds=round(cpu, 2))
                history.append({"stage": stage.level, **row})
                if log_metrics is not None:
                    log_metrics(row, step=updates, job=job.name, stage=stage.level)
                window = []
            if updates % cfg.train.checkpoint_every == 0:
                checkpoint()
        _save(
            ckpt_path.with_name(f"{job.name}-{stage_i + 1}-{stage.level}.pt"),
            {"model": net.state_dict()},
        )
        stage_i, done = stage_i + 1, 0
        checkpoint()
    net.eval()
    return net, {
        "finished": True,
        "updates": updates,
        "train_seconds": round(elapsed, 2),
        "cpu_seconds": round(cpu, 2),
        "episodes": sum(s.episodes for s in job.stages),
    }


def agent_job(cfg: ObjExistConfig) -> Job:
    return Job("agent", "learned", list(cfg.train.curriculum), cfg.seed)


def baseline_job(cfg: ObjExistConfig, name: str) -> Job:
    """A learned baseline: ``baselines.episodes`` (default: the agent's total) on one level."""
    agent_total = sum(s.episodes for s in cfg.train.curriculum)
    total = cfg.baselines.episodes or agent_total
    seed = cfg.seed + 1 + ["exhaustive", "passive", "random", "no_curriculum"].index(name)
    if name == "no_curriculum":  # the ablation always gets the agent's whole budget
        last = cfg.train.curriculum[-1]
        total = agent_total
        return Job(
            name, "learned", [StageConfig(level="mixed", episodes=total, w_rl=last.w_rl)], seed
        )
    return Job(name, name, [StageConfig(level=cfg.baselines.level, episodes=total)], seed)  # type: ignore[arg-type]

"""Training in several processes under ``accelerate launch`` (``train.processes`` > 1).

The parent writes the config (and a source state for shallow/deep transfer) to a folder and runs
``accelerate launch -m ennead.recsys.distributed`` through :func:`ennead.core.train.launcher.
launch` (shipped config ``cpu_multi``: N CPU processes joined with gloo; a GPU config works the
same). Every process draws the same epoch of examples and the same batch order from
``default_rng([seed, epoch])`` and trains on its share of each batch; DDP averages the gradients,
so a step sees the whole batch as in one process (up to dropout noise and the split of the
batch mean). Rank 0 writes the trained state and the history; the parent loads them. Runs under
launch keep no per-epoch checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.errors import StageError
from ennead.recsys.config import ModelSettings, RecsysConfig, TrainSettings

#: set in the launched processes: experiment.fit_any trains with :func:`fit_ddp`
WORKER_ENV = "ENNEAD_RECSYS_DDP_WORKER"


def in_worker() -> bool:
    return os.environ.get(WORKER_ENV) == "1"


def fit_ddp(
    model: Any,
    seqs: dict[int, list[int]],
    items: np.ndarray,
    mcfg: ModelSettings,
    tcfg: TrainSettings,
    epochs: int,
    seed: int,
    max_len: int,
) -> dict[str, Any]:
    """:func:`ennead.recsys.train.fit` with DDP: each process trains on its share of each batch."""
    import torch
    from accelerate import Accelerator, DistributedDataParallelKwargs

    from ennead.recsys.train import batches, examples

    tcfg = tcfg.for_model(mcfg.name)
    acc = Accelerator(
        cpu=not torch.cuda.is_available(),
        # a table that a batch does not reach (e.g. an unused meta row) must not stall DDP
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    world, rank = acc.num_processes, acc.process_index
    mask_id = model.mask_id
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    ddp, opt = acc.prepare(model, opt)
    history: list[dict[str, float]] = []
    ddp.train()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([seed, epoch])
        ex = examples(seqs, mcfg, max_len, rng, items, mask_id)
        total, n = 0.0, 0
        for batch in batches(ex, tcfg.batch_size, rng):
            size = len(batch["users"])
            if size < world:  # a last batch too small to share: skipped by every process
                continue
            lo, hi = rank * size // world, (rank + 1) * size // world
            loss = ddp({k: v[lo:hi].to(acc.device) for k, v in batch.items()})
            opt.zero_grad()
            acc.backward(loss)
            opt.step()
            total += loss.item() * (hi - lo)
            n += hi - lo
        history.append(
            {"epoch": epoch + 1, "loss": total / max(n, 1), "seconds": time.perf_counter() - t0}
        )
    raw = acc.unwrap_model(ddp)
    raw.eval()
    secs = [h["seconds"] for h in history]
    return {
        "history": history,
        "epochs_per_s": len(secs) / sum(secs) if secs and sum(secs) > 0 else None,
        "processes": world,
        "rank": rank,
    }


def run_launched(
    cfg: RecsysConfig,
    stage: str,
    meta: bool,
    seed: int,
    mode: str = "none",
    source_state: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``stage`` (pretrain or finetune) under accelerate launch; (trained state, info)."""
    import torch

    from ennead.core.train.launcher import launch

    with tempfile.TemporaryDirectory(prefix="recsys-ddp-") as tmp:
        folder = Path(tmp)
        (folder / "config.json").write_text(cfg.model_dump_json(), encoding="utf-8")
        args = ["--folder", tmp, "--stage", stage, "--mode", mode, "--seed", str(seed)]
        if meta:
            args.append("--meta")
        if source_state is not None:
            torch.save(source_state, folder / "source.pt")
        proc = launch(
            "ennead.recsys.distributed",
            args,
            cfg.train.launch_config,
            cfg.train.processes,
            env={WORKER_ENV: "1"},
        )
        if proc.returncode != 0 or not (folder / "state.pt").is_file():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise StageError(
                f"recsys {stage} under accelerate launch ({cfg.train.processes} processes, "
                f"{cfg.train.launch_config}) failed with exit code {proc.returncode}:\n{tail}"
            )
        state = torch.load(folder / "state.pt", weights_only=True)
        info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
    return state, info


def main(argv: list[str] | None = None) -> None:
    """One launched process: the stage's model trained with :func:`fit_ddp`; rank 0 saves it."""
    import torch

    from ennead.recsys import experiment

    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", required=True)
    ap.add_argument("--stage", choices=["pretrain", "finetune"], required=True)
    ap.add_argument("--mode", default="none")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--meta", action="store_true")
    a = ap.parse_args(argv)
    folder = Path(a.folder)
    cfg = RecsysConfig.model_validate_json((folder / "config.json").read_text(encoding="utf-8"))
    cfg.train.processes = 1  # inside the launch: train here, launch nothing more
    if a.stage == "pretrain":
        state, info = experiment.pretrain(cfg, a.meta, a.seed)
    else:
        src = folder / "source.pt"
        source = torch.load(src, weights_only=True) if src.is_file() else None
        model, info = experiment.finetune(cfg, a.mode, a.meta, a.seed, source)
        state = model.state_dict()
    if info.get("rank", 0) == 0:
        torch.save(state, folder / "state.pt")
        (folder / "info.json").write_text(json.dumps(info), encoding="utf-8")


if __name__ == "__main__":
    main()

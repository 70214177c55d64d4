"""Recsys speed: epochs/s of each model (source pre-training, default preset, 1 thread), as ratios
to BERT4Rec measured in the same run; the tiny grid's wall time serial vs a 2-CPU local Ray
cluster (ratio); with --recbole, RecBole's BERT4Rec and SASRec against ours without transfer on
the same target split, candidates and metrics (seed 0, default preset): NDCG@10 and target
epochs/s side by side. ``--only-recbole`` runs that part alone and keeps the other numbers of
``benchmarks/results/recsys.json``.

    python benchmarks/bench_recsys.py [--epochs 2] [--recbole | --only-recbole]
        [--recbole-models bert4rec,sasrec]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import RESULTS, write_result

from ennead.core.config import load_config
from ennead.recsys.config import RecsysConfig
from ennead.recsys.experiment import context, finetune, pretrain
from ennead.recsys.grid import run_units

MODELS = ("bert4rec", "sasrec", "caser", "mf")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--recbole", action="store_true")
    ap.add_argument("--only-recbole", action="store_true")
    ap.add_argument("--recbole-models", default="bert4rec,sasrec")
    args = ap.parse_args()
    cfg = load_config(RecsysConfig, "default", (), package="ennead.recsys")
    cfg.train.threads = 1
    context(cfg)
    if args.only_recbole:
        old = json.loads((RESULTS / "recsys.json").read_text(encoding="utf-8"))["results"]
        write_result("recsys", old | reference(cfg, args.recbole_models.split(",")))
        return
    cfg.train.pretrain_epochs = args.epochs
    eps: dict[str, float] = {}
    for name in MODELS:
        c = cfg.model_copy(deep=True)
        c.model.name = name  # type: ignore[assignment]
        _, info = pretrain(c, False, 0)
        eps[name] = info["epochs_per_s"]
    numbers: dict[str, object] = {
        "source epochs/s (1 thread)": {k: round(v, 3) for k, v in eps.items()},
        "epochs/s ratio to bert4rec": {k: round(v / eps["bert4rec"], 2) for k, v in eps.items()},
    }
    tiny = load_config(RecsysConfig, "tiny", (), package="ennead.recsys")
    units = [(m, False, s) for m in ("bert4rec", "mf") for s in (0, 1)]
    modes = ["none", "shallow", "deep"]
    with tempfile.TemporaryDirectory() as tmp:
        _, serial = run_units(tiny, units, modes, Path(tmp) / "serial")
        tiny.grid.ray, tiny.grid.workers = True, 2
        _, ray = run_units(tiny, units, modes, Path(tmp) / "ray")
    numbers["tiny grid (4 units) wall s"] = {
        "serial": round(serial, 1),
        "ray 2 CPUs": round(ray, 1),
    }
    numbers["ray speed-up (serial / ray)"] = round(serial / ray, 2)
    if args.recbole:
        numbers |= reference(cfg, args.recbole_models.split(","))
    write_result("recsys", numbers)


def reference(cfg: RecsysConfig, models: list[str]) -> dict[str, object]:
    """Ours (no transfer) and RecBole's model, same split and protocol, seed 0, 1 thread."""
    import numpy as np

    from ennead.recsys.experiment import evaluate
    from ennead.recsys.recbole_ref import run_recbole

    out: dict[str, object] = {}
    for model in models:
        c = cfg.model_copy(deep=True)
        c.model.name = model  # type: ignore[assignment]
        net, info = finetune(c, "none", False, 0, None)
        ours = evaluate(net, c)
        rb = run_recbole(c, model, 0)
        row: dict[str, object] = {}
        for name, per_user, eps in (
            ("ours", ours, info["epochs_per_s"]),
            ("recbole", rb["per_user"], rb["epochs_per_s"]),
        ):
            for group in ("cold", "warm"):
                for protocol in ("sampled", "full"):
                    key = f"{name} {group} {protocol} ndcg@10"
                    row[key] = round(float(np.mean(per_user[group][protocol]["ndcg@10"])), 4)
            row[f"{name} target epochs/s"] = round(eps, 3)
        row["ours / recbole epochs/s"] = round(info["epochs_per_s"] / rb["epochs_per_s"], 2)
        row["ours / recbole cold sampled ndcg@10"] = round(
            float(row["ours cold sampled ndcg@10"]) / float(row["recbole cold sampled ndcg@10"]),  # type: ignore[arg-type]
            3,
        )
        out[f"reference check {model} (seed 0, {c.train.finetune_epochs} epochs)"] = row
    return out


if __name__ == "__main__":
    main()

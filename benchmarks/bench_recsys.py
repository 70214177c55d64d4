"""Recsys speed: epochs/s of each model (source pre-training, default preset, 1 thread), as ratios
to BERT4Rec measured in the same run; the tiny grid's wall time serial vs a 2-CPU local Ray
cluster (ratio); with --recbole, RecBole's BERT4Rec seconds per epoch on the same target split
against ours (ratio).

    python benchmarks/bench_recsys.py [--epochs 2] [--recbole]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import write_result

from ennead.core.config import load_config
from ennead.recsys.config import RecsysConfig
from ennead.recsys.experiment import context, finetune, pretrain
from ennead.recsys.grid import run_units

MODELS = ("bert4rec", "sasrec", "caser", "mf")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--recbole", action="store_true")
    args = ap.parse_args()
    cfg = load_config(RecsysConfig, "default", (), package="ennead.recsys")
    cfg.train.pretrain_epochs = args.epochs
    cfg.train.threads = 1
    context(cfg)
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
        from ennead.recsys.recbole_ref import run_recbole

        c = cfg.model_copy(deep=True)
        c.train.finetune_epochs = args.epochs
        _, info = finetune(c, "none", False, 0, None)
        ours = info["epochs_per_s"]
        rb = run_recbole(c, "bert4rec", 0)["epochs_per_s"]
        numbers["target epochs/s, bert4rec"] = {"ours": round(ours, 3), "recbole": round(rb, 3)}
        numbers["ours / recbole epochs/s"] = round(ours / rb, 2)
    write_result("recsys", numbers)


if __name__ == "__main__":
    main()

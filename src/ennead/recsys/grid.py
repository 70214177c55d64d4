"""The paper's table: units run serially, in local processes or as Ray tasks; summary + report.

Rows hold mean +- std over seeds of NDCG@10 / HR@10 (sampled and full ranking) per model, meta,
mode and user group, the gain over ``none`` and a paired bootstrap over users (pooled over
seeds, stratified by seed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ennead.recsys.config import RecsysConfig
from ennead.recsys.experiment import GROUPS, UnitResult, run_unit

Unit = tuple[str, bool, int]

#: relative wall time of a unit at the default preset (measured on ML-100K), for scheduling
COST = {"caser": 4.0, "bert4rec": 2.0, "sasrec": 1.0, "mf": 0.5}


def unit_dir(out: Path, unit: Unit) -> Path:
    model, meta, seed = unit
    return out / "units" / f"{model}-{'meta' if meta else 'plain'}-seed{seed}"


def _run_one(cfg_json: str, unit: Unit, modes: Sequence[str], out: str) -> dict[str, Any]:
    cfg = RecsysConfig.model_validate_json(cfg_json)
    res = run_unit(cfg, *unit, list(modes), unit_dir(Path(out), unit))
    return res.__dict__


def run_units(
    cfg: RecsysConfig, units: list[Unit], modes: Sequence[str], out: Path
) -> tuple[list[UnitResult], float]:
    """Every unit (resumable: finished units are read back); returns results and wall seconds."""
    t0 = time.perf_counter()
    cfg = cfg.model_copy(deep=True)
    workers = min(cfg.grid.workers, len(units))
    if workers > 1 or cfg.grid.ray:
        cfg.train.threads = 1  # one thread per process: the processes share the cores
    text = cfg.model_dump_json()
    if cfg.grid.ray:
        from ennead.core.imports import require

        ray = require("ray", "dev", "the grid over a Ray cluster")
        started = not ray.is_initialized()
        if started:
            if cfg.grid.ray_address:
                ray.init(address=cfg.grid.ray_address)
            else:
                ray.init(num_cpus=cfg.grid.workers, include_dashboard=False, log_to_driver=False)
        task = ray.remote(num_cpus=1)(_run_one)
        dicts = ray.get([task.remote(text, u, modes, str(out)) for u in units])
        if started:
            ray.shutdown()
    elif workers > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # the longest units first, so two processes finish close together
        order = sorted(range(len(units)), key=lambda i: -COST.get(units[i][0], 1.0))
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as ex:
            done = ex.map(
                _run_one,
                [text] * len(units),
                [units[i] for i in order],
                [modes] * len(units),
                [str(out)] * len(units),
            )
            by_index = dict(zip(order, done))
        dicts = [by_index[i] for i in range(len(units))]
    else:
        dicts = [_run_one(text, u, modes, str(out)) for u in units]
    return [UnitResult(**d) for d in dicts], time.perf_counter() - t0


def _std(x: list[float]) -> float:
    return float(np.std(x, ddof=1)) if len(x) > 1 else 0.0


def summarise(results: list[UnitResult], protocol: str = "sampled") -> list[dict[str, Any]]:
    """One row per (model, meta, mode, group)."""
    from ennead.core.eval.stats import pooled_paired_bootstrap

    rows: list[dict[str, Any]] = []
    keys = sorted({(r.model, r.meta) for r in results}, key=lambda k: (k[0], k[1]))
    for model, meta in keys:
        rs = sorted(
            (r for r in results if (r.model, r.meta) == (model, meta)), key=lambda r: r.seed
        )
        modes = list(rs[0].per_user)
        for group in GROUPS:
            if group not in rs[0].per_user[modes[0]]:
                continue
            for mode in modes:
                nd = [r.mean(mode, group, "ndcg@10", protocol) for r in rs]
                hr = [r.mean(mode, group, "hr@10", protocol) for r in rs]
                row: dict[str, Any] = {
                    "model": model,
                    "meta": "on" if meta else "off",
                    "mode": mode,
                    "users": group,
                    "NDCG@10": f"{np.mean(nd):.4f} +- {_std(nd):.4f}",
                    "HR@10": f"{np.mean(hr):.4f} +- {_std(hr):.4f}",
                    "ndcg10": float(np.mean(nd)),
                    "ndcg10_std": _std(nd),
                    "seeds": [r.seed for r in rs],
                }
                if mode != "none" and "none" in modes:
                    per = {
                        r.seed: np.array(r.per_user[mode][group][protocol]["ndcg@10"])
                        - np.array(r.per_user["none"][group][protocol]["ndcg@10"])
                        for r in rs
                    }
                    gains = [float(v.mean()) for v in per.values()]
                    iv = pooled_paired_bootstrap(per, seed=0)
                    row |= {
                        "gain": float(np.mean(gains)),
                        "gain_std": _std(gains),
                        "gain per seed": gains,
                        "gain [95% CI]": f"{iv.estimate:+.4f} [{iv.low:+.4f}, {iv.high:+.4f}]",
                        "ci": [iv.low, iv.high],
                    }
                rows.append(row)
    return rows


SHOWN = ("model", "meta", "mode", "users", "NDCG@10", "HR@10", "gain [95% CI]")


def write_report(
    results: list[UnitResult],
    out: Path,
    title: str,
    wall: float | None = None,
    by_k: dict[int, list[UnitResult]] | None = None,
) -> tuple[Path, Path, dict[str, Any]]:
    """Markdown + HTML report with the table (both protocols) and a gain plot; and summary.json."""
    from ennead.core.eval.report import Report
    from ennead.core.io import atomic_write_json

    rep = Report(title, str(out))
    rep.paragraph(
        "NDCG@10 and HR@10 (mean +- std over seeds) on the target domain's last 3 items per user, "
        "ranked among 100 sampled unrated target items (candidates shuffled, so ties are broken "
        "at random) and among all target items (full ranking). Gain: mode - none, pooled "
        "paired bootstrap over users, stratified by seed."
    )
    tables = {p: summarise(results, p) for p in ("sampled", "full")}
    for p, rows in tables.items():
        rep.table([{k: r.get(k, "") for k in SHOWN} for r in rows], caption=f"{p} ranking")
    gains = {
        f"{r['model']} {r['mode']} meta {r['meta']} {r['users']}": (
            r["gain"],
            r["ci"][0],
            r["ci"][1],
        )
        for r in tables["sampled"]
        if "gain" in r
    }
    if gains:
        try:
            rep.interval_plot("gain", gains, xlabel="NDCG@10 gain over none (sampled)")
        except Exception as exc:  # matplotlib missing: the table is the report
            rep.note(f"no plot: {exc}")
    k_gains: dict[str, dict[int, float]] = {}
    for k, res_k in sorted((by_k or {}).items()):
        for row in summarise(res_k):
            if "gain" in row and row["users"] == "cold":
                label = f"{row['model']} {row['mode']} meta {row['meta']}"
                k_gains.setdefault(label, {})[k] = row["gain"]
    if k_gains:
        rep.table(
            [
                {"condition": c} | {f"K={k}": round(v, 4) for k, v in g.items()}
                for c, g in k_gains.items()
            ],
            caption="NDCG@10 gain over none on cold users, by K (sampled)",
        )
        try:
            series = {c: (list(g), list(g.values())) for c, g in k_gains.items()}
            rep.line_plot("gain-vs-k", series, "K (cold users' training items)", "NDCG@10 gain")
        except Exception as exc:  # matplotlib missing: the table is the report
            rep.note(f"no plot: {exc}")
    times: dict[str, list[float]] = {}
    eps: dict[str, list[float]] = {}
    for r in results:
        for stage, v in r.seconds.items():
            times.setdefault(f"{r.model} {stage}", []).append(v)
        for e in r.epochs_per_s.values():
            if e:
                eps.setdefault(r.model, []).append(e)
    rep.key_values(
        {f"{k} (s, mean)": round(float(np.mean(v)), 1) for k, v in times.items()}
        | {f"{m} epochs/s": round(float(np.mean(v)), 2) for m, v in eps.items()}
        | ({"wall seconds": round(wall, 1)} if wall is not None else {}),
        caption="time",
    )
    md, html = rep.write(out)
    summary = {
        "tables": tables,
        "wall_seconds": wall,
        "units": len(results),
        "gain_by_k": {c: {str(k): v for k, v in g.items()} for c, g in k_gains.items()},
    }
    atomic_write_json(out / "summary.json", summary)
    return md, html, summary


def grid_units(cfg: RecsysConfig) -> list[Unit]:
    g = cfg.grid
    return [(m, meta, s) for m in g.models for meta in g.metas for s in g.seeds]


def load_results(out: Path) -> list[UnitResult]:
    return [
        UnitResult(**json.loads(p.read_text(encoding="utf-8")))
        for p in sorted((out / "units").glob("*/unit.json"))
    ]

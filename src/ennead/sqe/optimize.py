"""Self-optimisation: choose tracker parameters per sequence by maximising SQE (no ground truth).

``search_sequence`` runs a grid sweep or an optuna TPE search on one sequence; every trial is
appended to a JSONL cache, so an interrupted search resumes where it stopped (grid points and TPE
trials already scored are not run again; TPE is re-seeded with them). ``search_all`` runs
sequences in parallel processes. When a sequence has ground truth, each trial also records MOTA
and IDF1 so that the choice can be checked afterwards; the choice itself never reads them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.errors import ConfigError, DataError
from ennead.core.io import append_jsonl, iter_jsonl
from ennead.sqe.config import SQEConfig, TrackerConfig
from ennead.sqe.mot import Sequence, read_sequence
from ennead.sqe.score import Scales, embedding_scales, score_tracks
from ennead.sqe.tracker import Tracker

INT_PARAMS = {"max_age", "min_hits"}


def load_sequence(spec: str, cfg: SQEConfig) -> Sequence:
    """``sim:<seed>``, ``tud:campus`` / ``tud:stadtmitte``, or a MOTChallenge folder."""
    from ennead.sqe.simulate import simulate_sequence, tud_sequence

    kind, _, arg = spec.partition(":")
    if kind == "sim" and arg:
        try:
            seed = int(arg)
        except ValueError:
            raise ConfigError(
                f"sequence {spec!r}: the seed after 'sim:' must be an integer"
            ) from None
        return simulate_sequence(seed, cfg.simulator)
    if kind == "tud" and arg:
        return tud_sequence(arg, cfg.seed, cfg.simulator)
    if Path(spec).is_dir():
        return read_sequence(spec)
    raise DataError(
        f"sequence {spec!r} is not 'sim:<seed>', 'tud:campus', 'tud:stadtmitte' or a folder"
    )


def grid_points(space: dict[str, list[float]]) -> list[dict[str, float]]:
    """Cartesian product of inclusive ``[low, high, step]`` ranges."""
    axes = []
    for name, (lo, hi, step) in space.items():
        vals = np.round(np.arange(lo, hi + step / 2, step), 6)
        axes.append([(name, int(v) if name in INT_PARAMS else float(v)) for v in vals])
    return [dict(p) for p in itertools.product(*axes)]


def _key(params: dict[str, float]) -> str:
    return json.dumps({k: params[k] for k in sorted(params)})


def evaluate_params(
    seq: Sequence, params: dict[str, float], cfg: SQEConfig, scales: Scales, with_gt: bool = True
) -> dict[str, Any]:
    """Track with ``params`` over the config's tracker defaults; SQE and (if GT) MOTA, IDF1."""
    tcfg = TrackerConfig.model_validate({**cfg.tracker.model_dump(), **params})
    tracks = Tracker(tcfg).run(seq.detections)
    res = score_tracks(tracks, cfg.metric, scales)
    row: dict[str, Any] = {"params": params, **res.summary()}
    if with_gt and seq.gt is not None:
        from ennead.sqe.evaluate import gt_metrics

        m = gt_metrics(seq.gt, tracks, cfg.eval_iou)
        row.update(mota=m["mota"], idf1=m["idf1"], id_switches=m["num_switches"])
    return row


def search_sequence(
    spec: str, cfg: SQEConfig, cache: str | Path | None = None, with_gt: bool = True
) -> dict[str, Any]:
    """Search one sequence; returns ``{sequence, best, trials}`` (trials in evaluation order)."""
    seq = load_sequence(spec, cfg)
    scales = embedding_scales(seq.detections, seed=cfg.metric.seed)
    done: dict[str, dict[str, Any]] = {}
    if cache is not None and Path(cache).exists():
        for row in iter_jsonl(cache):
            done[_key(row["params"])] = row

    def run(params: dict[str, float]) -> dict[str, Any]:
        k = _key(params)
        if k not in done:
            row = evaluate_params(seq, params, cfg, scales, with_gt)
            done[k] = row
            if cache is not None:
                append_jsonl(cache, row)
        return done[k]

    space = cfg.search.space
    if cfg.search.method == "grid":
        trials = [run(p) for p in grid_points(space)]
    else:
        trials = _tpe(space, cfg, run, list(done.values()))
    best = max(trials, key=lambda r: (r["sqe"], -r["n"]))
    return {
        "sequence": seq.name,
        "spec": spec,
        "scales": {"intra": scales.intra, "inter": scales.inter, "intra_std": scales.intra_std},
        "best": best,
        "trials": trials,
    }


def _tpe(
    space: dict[str, list[float]],
    cfg: SQEConfig,
    run: Callable[[dict[str, float]], dict[str, Any]],
    previous: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    from ennead.core.imports import require

    optuna = require("optuna", "sqe", "the TPE search")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {}
    for name, (lo, hi, step) in space.items():
        if name in INT_PARAMS:
            dists[name] = optuna.distributions.IntDistribution(
                int(lo), int(hi), step=max(int(step), 1)
            )
        else:
            dists[name] = optuna.distributions.FloatDistribution(lo, hi, step=step)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=cfg.metric.seed)
    )
    trials: list[dict[str, Any]] = []
    for row in previous:  # resume: the sampler learns from trials scored before
        if set(row["params"]) == set(space):
            study.add_trial(
                optuna.trial.create_trial(
                    params=row["params"], distributions=dists, value=row["sqe"]
                )
            )
            trials.append(row)
    for _ in range(max(0, cfg.search.n_trials - len(trials))):
        trial = study.ask(dists)
        row = run(dict(trial.params))
        study.tell(trial, row["sqe"])
        trials.append(row)
    return trials


def _search_job(args: tuple[str, dict[str, Any], str | None, bool]) -> dict[str, Any]:
    spec, cfg_dict, cache, with_gt = args
    return search_sequence(spec, SQEConfig.model_validate(cfg_dict), cache, with_gt)


def search_all(
    cfg: SQEConfig,
    cache_dir: str | Path | None = None,
    with_gt: bool = True,
    done: Callable[[str, dict[str, Any]], None] | None = None,
    skip: set[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Search every configured sequence, ``cfg.search.workers`` processes at a time."""
    specs = [s for s in cfg.sequences if s not in (skip or set())]
    jobs = [
        (
            s,
            cfg.model_dump(),
            None if cache_dir is None else str(Path(cache_dir) / f"{_slug(s)}.jsonl"),
            with_gt,
        )
        for s in specs
    ]
    out: dict[str, dict[str, Any]] = {}
    if cfg.search.workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            out[job[0]] = _search_job(job)
            if done:
                done(job[0], out[job[0]])
        return out
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(cfg.search.workers, len(jobs))) as pool:
        futures = {pool.submit(_search_job, job): job[0] for job in jobs}
        for fut in as_completed(futures):
            spec = futures[fut]
            out[spec] = fut.result()
            if done:
                done(spec, out[spec])
    return {s: out[s] for s in specs}


def _slug(spec: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", spec).strip("_")[-80:] or "seq"

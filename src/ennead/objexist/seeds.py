"""The acceptance gate over several training seeds (issue 19): the paper's claim with its spread.

Each seed trains the agent (the curriculum) from its own seed. The exhaustive and passive
baselines are trained once, in the first seed's folder, and shared by every seed
(``shared_baselines``): over seeds 0-2 they varied by at most 0.13 points (passive's accuracy was
identical), and training them per seed cost 40% of the gate's CPU. Every policy of every seed is
scored greedily on the same test scenes (``eval.seed``).
Per seed we report accuracy and moves on L4 (mixed) and L3 (two occluded) with a 95% bootstrap
interval over test episodes (paired where two policies are compared); over seeds the mean with a
Student t interval. The gate asserts the paper's claim on the mean over seeds:

* L4: the agent's accuracy is within :data:`MAX_GAP_POINTS` of exhaustive search's,
  with at most :data:`MAX_MOVES_RATIO` of its moves;
* L3: the agent beats passive perception, and the t interval of the difference excludes 0.

Seeds and thresholds are fixed here, before any run. Training jobs run in ``workers``
processes, seed by seed, and a seed is scored as soon as its jobs are trained. A rerun on the
same folder reuses finished seeds and jobs, and resumes interrupted jobs (first) from their
checkpoints.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from ennead.core.errors import ConfigError, StageError
from ennead.core.logging import get_logger
from ennead.core.results import RunResult
from ennead.objexist.config import ObjExistConfig

log = get_logger(__name__)

GATE_SEEDS = (0, 1, 2)  # the acceptance gate's training seeds, fixed before the first run
UNTUNED_SEEDS = (3, 4)  # never used while the preset was tuned; reported beside the gate
MAX_GAP_POINTS = 5.0  # L4 accuracy: at most this many points below exhaustive (mean over seeds)
MAX_MOVES_RATIO = 0.30  # L4 moves: at most this share of exhaustive's (mean over seeds)
# Active, not lucky: each seed's agent moves at least this much more where the query is hidden at
# the start (L3) than where it is in view (L4). Without it an agent that never moves passes
# whenever perception is poor (the RGB runs showed this). Same bar as the claim test's.
MIN_ACTIVE_MOVES = 0.3
# what the gate needs of each seed's run: two baselines, the two levels, no held-out split
GATE_OVERRIDES = (
    "baselines.run=[exhaustive,passive]",
    "eval.levels=[two_occluded,mixed]",
    "eval.holdout=false",
)
BASELINE_JOBS = ("exhaustive", "passive")
JOBS = ("agent", *BASELINE_JOBS)
_ENV_THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

# metric name -> (what it is, how it is shown)
METRICS = {
    "L4_agent_accuracy": "L4 agent accuracy (%)",
    "L4_agent_moves": "L4 agent moves",
    "L4_exhaustive_accuracy": "L4 exhaustive accuracy (%)",
    "L4_exhaustive_moves": "L4 exhaustive moves",
    "L4_passive_accuracy": "L4 passive accuracy (%)",
    "L4_gap_points": "L4 exhaustive - agent (points)",
    "L4_moves_ratio": "L4 agent / exhaustive moves",
    "L3_agent_accuracy": "L3 agent accuracy (%)",
    "L3_agent_moves": "L3 agent moves",
    "L3_passive_accuracy": "L3 passive accuracy (%)",
    "L3_exhaustive_accuracy": "L3 exhaustive accuracy (%)",
    "L3_agent_minus_passive_points": "L3 agent - passive (points)",
}
_PERCENT = {k for k in METRICS if k.endswith("accuracy") or k.endswith("points")}


class SeedStudyResult(RunResult):
    """The multi-seed gate: every seed's numbers, their mean and intervals, and the verdict.

    ``metrics`` holds the means over seeds (accuracies and differences in percent / points);
    ``per_seed[seed][metric]`` each seed's value, ``per_seed_ci`` its 95% bootstrap interval over
    test episodes, ``over_seeds[metric]`` the mean with its 95% t interval over seeds.
    """

    seeds: list[int]
    per_seed: dict[str, dict[str, float]]
    per_seed_ci: dict[str, dict[str, list[float]]]
    over_seeds: dict[str, dict[str, float]]
    gate: dict[str, Any] = Field(description="criteria on the mean over seeds, and passed")
    wall_seconds: float
    cpu_seconds: float = Field(description="CPU of this process and its workers in this call")
    table: str


def seed_config(seed: int, preset: str = "tiny", overrides: Sequence[str] = ()) -> ObjExistConfig:
    """One seed's config: the preset, the gate's overrides, then ``overrides``."""
    from ennead.core.config import load_config

    return load_config(
        ObjExistConfig,
        preset,
        [*GATE_OVERRIDES, *overrides, f"seed={seed}"],
        package="ennead.objexist",
    )


def _seed_dir(run_dir: Path, seed: int) -> Path:
    return run_dir / f"seed-{seed}"


def _job(cfg: ObjExistConfig, name: str) -> Any:
    from ennead.objexist.train import agent_job, baseline_job

    return agent_job(cfg) if name == "agent" else baseline_job(cfg, name)


def _job_finished(cfg: ObjExistConfig, seed_dir: Path, name: str) -> bool:
    from ennead.core.runs import RunDir

    if (seed_dir / "manifest.json").exists() and RunDir(seed_dir).is_done(f"train-{name}"):
        return True
    ckpt = seed_dir / "checkpoints" / f"{name}.pt"
    if not ckpt.exists():
        return False
    import torch

    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    return bool(state["stage"] >= len(_job(cfg, name).stages))


def _seed_finished(seed_dir: Path) -> bool:
    from ennead.objexist.api import EPISODES_FILE

    manifest = seed_dir / "manifest.json"
    if not (manifest.exists() and (seed_dir / EPISODES_FILE).exists()):
        return False
    return bool(json.loads(manifest.read_text(encoding="utf-8")).get("status") == "finished")


def _train_unit(preset: str, overrides: list[str], seed: int, name: str, seed_dir: str) -> str:
    """One training job of one seed, into the seed folder's resumable checkpoint."""
    from ennead.core.runs import RunDir
    from ennead.objexist.env import Tabletop
    from ennead.objexist.train import train_job

    cfg = seed_config(seed, preset, overrides)
    folder = Path(seed_dir)
    folder.mkdir(parents=True, exist_ok=True)
    metrics = RunDir(folder)
    train_job(
        cfg,
        _job(cfg, name),
        Tabletop(cfg.sim),
        folder / "checkpoints" / f"{name}.pt",
        metrics.log_metrics,
        rewind_metrics=metrics.rewind_metrics,
    )
    return f"{seed}/{name}"


def _finish_seed(
    preset: str, overrides: list[str], seed: int, seed_dir: str, share_from: str | None = None
) -> str:
    """Hand the trained checkpoints to the facade's run folder, evaluate and draw pictures;
    baselines missing there are copied from ``share_from`` (the seed that trained them)."""
    from ennead.objexist.api import ObjExist

    if share_from is not None:
        import shutil

        for name in BASELINE_JOBS:
            src = Path(share_from) / "checkpoints" / f"{name}.pt"
            dst = Path(seed_dir) / "checkpoints" / f"{name}.pt"
            if not dst.exists():
                if not src.exists():
                    raise StageError(f"{src} is missing: the shared baseline was not trained")
                dst.parent.mkdir(parents=True, exist_ok=True)
                tmp = dst.with_suffix(".tmp")
                shutil.copyfile(src, tmp)
                tmp.replace(dst)  # atomic: a half copy is never taken for a trained baseline
    ObjExist(seed_config(seed, preset, overrides)).train(seed_dir)
    return str(seed)


def _run_seeds(
    units: list[tuple[tuple[int, ...], tuple[Any, ...]]],
    finish: dict[int, tuple[Any, ...]],
    workers: int,
) -> None:
    """Train ``units`` (the seeds waiting on it, args of :func:`_train_unit`) and run each seed's
    ``finish`` as soon as its last job is trained, in ``workers`` processes; finishing goes before
    further training, so seeds complete one by one (an interrupted study keeps its finished
    seeds). A shared baseline's unit unblocks every seed that uses it."""
    left = dict.fromkeys(finish, 0)
    for waiting, _ in units:
        for s in waiting:
            left[s] += 1
    ready = [s for s in finish if left[s] == 0]
    queue = list(units)
    if workers <= 1:
        for s in ready:
            log.info("done %s", _finish_seed(*finish[s]))
        for waiting, args in queue:
            log.info("done %s", _train_unit(*args))
            for s in waiting:
                left[s] -= 1
                if left[s] == 0:
                    log.info("done %s", _finish_seed(*finish[s]))
        return
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

    saved = {k: os.environ.get(k) for k in _ENV_THREADS}
    os.environ.update(dict.fromkeys(_ENV_THREADS, "1"))  # one thread per worker process
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            running: dict[Future[str], tuple[str, tuple[int, ...]]] = {}
            while queue or ready or running:
                while len(running) < workers and (ready or queue):
                    if ready:
                        s = ready.pop(0)
                        running[pool.submit(_finish_seed, *finish[s])] = ("finish", (s,))
                    else:
                        waiting, args = queue.pop(0)
                        running[pool.submit(_train_unit, *args)] = ("train", waiting)
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    kind, waiting = running.pop(fut)
                    log.info("done %s", fut.result())
                    if kind == "train":
                        for s in waiting:
                            left[s] -= 1
                            if left[s] == 0:
                                ready.append(s)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def seed_metrics(
    raw: dict[str, dict[str, dict[str, np.ndarray]]], n_resamples: int = 2000
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """One seed's gate numbers and their 95% bootstrap intervals over the test episodes.

    ``raw[policy][split]`` holds per-episode ``correct`` and ``moves`` on the shared test scenes,
    so agent-vs-baseline differences are paired. Exhaustive always makes ``max_moves`` moves, so
    the moves ratio's interval is the agent's moves interval over that constant.
    """
    from ennead.core.eval.stats import bootstrap_mean, paired_bootstrap

    def acc(policy: str, split: str) -> np.ndarray:
        return raw[policy][split]["correct"].astype(float)

    def mv(policy: str, split: str) -> np.ndarray:
        return raw[policy][split]["moves"].astype(float)

    kw: dict[str, Any] = {"n_resamples": n_resamples, "seed": 0}
    ivs = {
        "L4_agent_accuracy": bootstrap_mean(acc("agent", "mixed"), **kw),
        "L4_agent_moves": bootstrap_mean(mv("agent", "mixed"), **kw),
        "L4_exhaustive_accuracy": bootstrap_mean(acc("exhaustive", "mixed"), **kw),
        "L4_exhaustive_moves": bootstrap_mean(mv("exhaustive", "mixed"), **kw),
        "L4_passive_accuracy": bootstrap_mean(acc("passive", "mixed"), **kw),
        "L4_gap_points": paired_bootstrap(acc("exhaustive", "mixed"), acc("agent", "mixed"), **kw),
        "L3_agent_accuracy": bootstrap_mean(acc("agent", "two_occluded"), **kw),
        "L3_agent_moves": bootstrap_mean(mv("agent", "two_occluded"), **kw),
        "L3_passive_accuracy": bootstrap_mean(acc("passive", "two_occluded"), **kw),
        "L3_exhaustive_accuracy": bootstrap_mean(acc("exhaustive", "two_occluded"), **kw),
        "L3_agent_minus_passive_points": paired_bootstrap(
            acc("agent", "two_occluded"), acc("passive", "two_occluded"), **kw
        ),
    }
    values, cis = {}, {}
    for name, iv in ivs.items():
        scale = 100.0 if name in _PERCENT else 1.0
        values[name] = iv.estimate * scale
        cis[name] = [iv.low * scale, iv.high * scale]
    exh_moves = max(float(mv("exhaustive", "mixed").mean()), 1e-9)
    agent_moves = ivs["L4_agent_moves"]
    values["L4_moves_ratio"] = agent_moves.estimate / exh_moves
    cis["L4_moves_ratio"] = [agent_moves.low / exh_moves, agent_moves.high / exh_moves]
    return values, cis


def active_moves(results: dict[str, Any]) -> float:
    """Agent moves where the query is hidden at the start (L3) minus where it is in view (L4),
    from one run's ``results.json`` results; NaN when either cell is missing."""
    agent = results.get("agent", {})
    try:
        hidden = agent["two_occluded"]["cells"]["yes/query_hidden"]["moves"]
        in_view = agent["mixed"]["cells"]["yes/visible"]["moves"]
    except KeyError:
        return float("nan")
    return float(hidden) - float(in_view)


def gate_verdict(
    over: dict[str, dict[str, float]], active: dict[str, float] | None = None
) -> dict[str, Any]:
    """The claim on the mean over seeds, with the thresholds fixed in this module. ``active`` maps
    each seed to :func:`active_moves`; every seed must clear ``MIN_ACTIVE_MOVES``."""
    gap, ratio = over["L4_gap_points"], over["L4_moves_ratio"]
    diff = over["L3_agent_minus_passive_points"]
    out: dict[str, Any] = {
        "L4_gap_points_mean": gap["mean"],
        "L4_gap_ok": gap["mean"] <= MAX_GAP_POINTS,
        "L4_moves_ratio_mean": ratio["mean"],
        "L4_moves_ok": ratio["mean"] <= MAX_MOVES_RATIO,
        "L3_agent_minus_passive_low": diff["low"],
        # with one seed there is no interval; then the mean must be positive
        "L3_beats_passive_ok": (diff["low"] > 0) if np.isfinite(diff["low"]) else diff["mean"] > 0,
        "hidden_minus_in_view_moves": dict(active or {}),
        "moves_where_hidden_ok": bool(active)
        and all(np.isfinite(v) and v > MIN_ACTIVE_MOVES for v in (active or {}).values()),
        "thresholds": {
            "max_gap_points": MAX_GAP_POINTS,
            "max_moves_ratio": MAX_MOVES_RATIO,
            "min_active_moves": MIN_ACTIVE_MOVES,
        },
    }
    out["passed"] = bool(
        out["L4_gap_ok"]
        and out["L4_moves_ok"]
        and out["L3_beats_passive_ok"]
        and out["moves_where_hidden_ok"]
    )
    return out


def _strict_json(obj: Any) -> Any:
    """NaN and infinities (a one-seed t interval) as null: seeds.json stays strict JSON."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict_json(v) for v in obj]
    return obj


def _table(seeds: list[int], per_seed: dict[str, dict[str, float]], over: dict[str, Any]) -> list:
    rows = []
    for name, label in METRICS.items():
        row: dict[str, Any] = {"metric": label}
        for s in seeds:
            row[f"seed {s}"] = per_seed[str(s)][name]
        o = over[name]
        row["mean"] = o["mean"]
        row["sd"] = o["sd"]
        row["95% CI over seeds"] = (
            f"[{o['low']:.2f}, {o['high']:.2f}]" if np.isfinite(o["low"]) else "n/a"
        )
        rows.append(row)
    return rows


def seed_gate(
    run_dir: str | Path,
    seeds: Sequence[int] = GATE_SEEDS,
    *,
    preset: str = "tiny",
    overrides: Sequence[str] = (),
    workers: int = 2,
    n_resamples: int = 2000,
    shared_baselines: bool = True,
) -> SeedStudyResult:
    """Run (or resume) the gate over ``seeds`` in ``run_dir`` and return its numbers.

    One sub-folder per seed (``seed-<n>``, an ordinary objexist run folder); finished seeds and
    jobs are reused. With ``shared_baselines`` the baselines are trained in the first seed's
    folder only and copied to the others; without, each seed trains its own. Writes
    ``seeds.json`` and ``report.md``/``report.html`` into ``run_dir``.
    """
    from ennead.core.eval.report import Report, markdown_table
    from ennead.core.eval.stats import t_interval
    from ennead.core.io import atomic_write_json
    from ennead.core.runs import RunDir
    from ennead.objexist.api import EPISODES_FILE, load_episodes

    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds must be distinct and at least one; got {seeds}")
    if workers < 1:
        raise ConfigError(f"workers must be >= 1; got {workers}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    over_keys = list(overrides)
    t0, c0 = time.perf_counter(), _cpu_seconds()

    configs = {s: seed_config(s, preset, over_keys) for s in seeds}
    for s, cfg in configs.items():  # a folder made with another config is refused up front
        saved = _seed_dir(run_dir, s) / "config.yaml"
        if saved.is_file() and saved.read_text(encoding="utf-8") != cfg.to_yaml():
            raise StageError(
                f"{saved.parent} holds a run made with a different config; use another run folder "
                "or the same preset and overrides"
            )
    todo = [s for s in seeds if not _seed_finished(_seed_dir(run_dir, s))]
    source = seeds[0]  # the seed whose folder trains the shared baselines
    units: list[tuple[tuple[int, ...], tuple[Any, ...]]] = []
    for s in dict.fromkeys([source, *todo]) if shared_baselines else todo:
        cfg = configs[s]
        folder = _seed_dir(run_dir, s)
        if s in todo:
            # the run folder (manifest, config) before any job, so a changed config is caught early
            RunDir.create(folder, cfg, seed=s, system="objexist", command="seed_gate")
        names: tuple[str, ...]
        if not shared_baselines:
            names = JOBS
        elif s == source:
            names = JOBS if s in todo else BASELINE_JOBS
        else:
            names = ("agent",)
        for name in names:
            if not _job_finished(cfg, folder, name):
                # a shared baseline holds back every seed still to finish
                shared = shared_baselines and name in BASELINE_JOBS
                waiting = tuple(todo) if shared else (s,)
                units.append((waiting, (preset, over_keys, s, name, str(folder))))
    # jobs an interrupted study left half done go first; the rest seed by seed (stable sort)
    units.sort(key=lambda u: not (Path(u[1][4]) / "checkpoints" / f"{u[1][3]}.pt").exists())
    log.info("seed gate: %d seeds to finish, %d training jobs to run", len(todo), len(units))
    share = str(_seed_dir(run_dir, source)) if shared_baselines else None
    finish = {
        s: (preset, over_keys, s, str(_seed_dir(run_dir, s)), None if s == source else share)
        for s in todo
    }
    _run_seeds(units, finish, workers)

    per_seed: dict[str, dict[str, float]] = {}
    per_seed_ci: dict[str, dict[str, list[float]]] = {}
    for s in seeds:
        raw = load_episodes(_seed_dir(run_dir, s) / EPISODES_FILE)
        per_seed[str(s)], per_seed_ci[str(s)] = seed_metrics(raw, n_resamples)
    over: dict[str, dict[str, float]] = {}
    for name in METRICS:
        iv = t_interval([per_seed[str(s)][name] for s in seeds])
        over[name] = {"mean": iv.estimate, "low": iv.low, "high": iv.high, "sd": iv.extra["sd"]}
    active = {
        str(s): active_moves(
            json.loads((_seed_dir(run_dir, s) / "results.json").read_text(encoding="utf-8"))[
                "results"
            ]
        )
        for s in seeds
    }
    gate = gate_verdict(over, active)
    rows = _table(seeds, per_seed, over)
    table = markdown_table(rows)
    wall, cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    summary = {
        "preset": preset,
        "overrides": [*GATE_OVERRIDES, *over_keys],
        "seeds": seeds,
        "per_seed": per_seed,
        "per_seed_ci": per_seed_ci,
        "over_seeds": over,
        "gate": gate,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
    }
    seeds_json = atomic_write_json(run_dir / "seeds.json", _strict_json(summary))
    report = Report(
        "ObjExist: the acceptance gate over training seeds",
        f"preset {preset}, seeds {seeds}; test scenes shared by every policy and seed",
    )
    report.paragraph(
        "Per seed: the value on the test scenes (95% bootstrap intervals over test episodes in "
        "seeds.json). Over seeds: mean, standard deviation and a 95% Student t interval."
    )
    report.table(rows, caption="L4 = mixed, L3 = two occluded; accuracies in %")
    report.table(
        [{"criterion": k, "value": v} for k, v in gate.items() if k != "thresholds"],
        caption=f"gate on the mean over seeds (gap <= {MAX_GAP_POINTS} points, moves ratio <= "
        f"{MAX_MOVES_RATIO}, L3 interval above 0)",
    )
    for s in seeds:
        strip = _seed_dir(run_dir, s) / "episodes" / "learned-two_occluded.png"
        if strip.exists():
            report.image(
                strip,
                caption=f"seed {s}: agent on occluded scenes",
                link=str(strip.relative_to(run_dir)),
            )
    md, page = report.write(run_dir)
    return SeedStudyResult(
        run_dir=run_dir,
        metrics={k: v["mean"] for k, v in over.items()},
        artifacts={"seeds": seeds_json, "report_md": md, "report_html": page},
        seeds=seeds,
        per_seed=per_seed,
        per_seed_ci=per_seed_ci,
        over_seeds=over,
        gate=gate,
        wall_seconds=round(wall, 1),
        cpu_seconds=round(cpu, 1),
        table=table,
    )

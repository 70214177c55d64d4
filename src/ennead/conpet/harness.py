"""One harness for every method: train task by task (each task a resumable stage of the run
folder), evaluate on the test sets of all tasks seen so far, and collect the metrics."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any

from ennead.conpet import metrics as M
from ennead.conpet.backbone import Backbone
from ennead.conpet.config import ConPETConfig
from ennead.conpet.methods import Learner, make_learner
from ennead.conpet.stream import Stream, check_resume, stream_record
from ennead.core.io import atomic_write_json
from ennead.core.logging import get_logger
from ennead.core.runs import RunDir

log = get_logger(__name__)


def bind_stream(run: RunDir, stream: Stream) -> None:
    """Record the stream in the run folder, or refuse a changed one on resume."""
    path = run.path / "stream.json"
    if path.exists():
        check_resume(json.loads(path.read_text(encoding="utf-8")), stream, run.path)
    else:
        atomic_write_json(path, stream_record(stream))


def evaluate(learner: Learner, stream: Stream, t: int) -> dict[str, Any]:
    """Accuracy on each seen task's test set (row t of R), macro/micro, selector accuracy."""
    row: list[float] = []
    correct: list[int] = []
    totals: list[int] = []
    sel_right = 0
    sel_seen = 0
    index = learner.label_index
    for j, task in enumerate(stream.tasks[: t + 1]):
        preds, chosen = learner.predict(task.test, t)
        ok = sum(int(p == index[e.label]) for p, e in zip(preds, task.test))
        row.append(ok / len(task.test))
        correct.append(ok)
        totals.append(len(task.test))
        if chosen is not None:
            sel_right += sum(int(c == j) for c in chosen)
            sel_seen += len(chosen)
    out: dict[str, Any] = {
        "row": row,
        "macro": M.macro(row),
        "micro": M.micro(correct, totals),
    }
    if sel_seen:
        out["selector"] = sel_right / sel_seen
    return out


def _seed(cfg: ConPETConfig, method: str, t: int) -> int:
    return cfg.seed * 100_003 + sum(map(ord, method)) * 101 + t


def run_method(
    method: str, stream: Stream, bb: Backbone, cfg: ConPETConfig, run: RunDir, dist: Any = None
) -> dict[str, Any]:
    """Train ``method`` over the stream; finished tasks are skipped on resume. ``dist`` (a
    ``parallel.DataParallel``): this process is one of several sharing each batch."""
    torch = bb.torch
    T = len(stream.tasks)
    torch.manual_seed(_seed(cfg, method, -1))
    learner = make_learner(method, bb, stream, cfg, run.path / "cache" / method)
    if dist is not None:
        learner.dist = dist
        dist.broadcast(learner.modules(), tunable_only=True)
    tasks = [T - 1] if method == "joint" else list(range(T))
    results: list[dict[str, Any]] = []
    last_state: Path | None = None
    for t in tasks:
        name = f"{method}-task{t + 1}"
        if run.is_done(name):
            results.append(run.stage_info(name)["result"])
            last_state = run.stage_dir(name) / "state.pt"
            continue
        if last_state is not None:  # resume: the learner as the last finished task left it
            learner.load_state(torch.load(last_state, weights_only=True))
            last_state = None

        def stage(folder: Path, t: int = t) -> dict[str, Any]:
            torch.manual_seed(_seed(cfg, method, t))
            learner.start_task(t)
            counter = learner.train_task(t, random.Random(_seed(cfg, method, t)))
            cost = counter.as_dict()
            tic = time.perf_counter()
            ev = evaluate(learner, stream, t)
            # what evaluating cost (Dynamic: frozen modules run, or answered by the cache)
            ev["eval_forwards"] = counter.forwards - cost["forwards"]
            ev["eval_avoided"] = counter.avoided - cost["avoided"]
            torch.save(learner.state(), folder / "state.pt")
            return {
                "task": t + 1,
                **ev,
                "cost": cost,
                "eval_seconds": round(time.perf_counter() - tic, 4),
                "tunable": learner.tunable_parameters(t),
            }

        res = run.run_stage(name, stage)
        log.info("%s task %d: macro %.3f", method, t + 1, res["macro"])
        results.append(res)
    return summarize(method, results, T, bb.total_parameters())


def summarize(method: str, results: list[dict[str, Any]], T: int, total: int) -> dict[str, Any]:
    R = [[math.nan] * T for _ in range(T)]
    for res in results:
        i = res["task"] - 1
        for j, v in enumerate(res["row"]):
            R[i][j] = v
    last = results[-1]
    R_known = [r for r in R if not math.isnan(r[0])]
    out: dict[str, Any] = {
        "method": method,
        "R": R,
        "macro": last["macro"],
        "micro": last["micro"],
        "macro_per_task": [r["macro"] for r in results],
        "tasks": [r["task"] for r in results],
        "forgetting": M.forgetting(R) if len(R_known) == T else math.nan,
        "bwt": M.bwt(R) if len(R_known) == T else math.nan,
        "cost": [r["cost"] for r in results],
        "tunable": max(r["tunable"] for r in results),
        "total": total,
    }
    out["tunable_ratio"] = out["tunable"] / total
    if "selector" in last:
        out["selector"] = last["selector"]
        out["selector_per_task"] = [r.get("selector", 1.0) for r in results]
    cost = out["cost"]
    if len(cost) >= T and T >= 3:  # task T against task 2 (task 1 has no old data)
        out["forward_ratio"] = cost[-1]["forwards"] / max(1, cost[1]["forwards"])
        out["step_ratio"] = cost[-1]["steps"] / max(1, cost[1]["steps"])
        out["time_ratio"] = cost[-1]["seconds"] / max(1e-9, cost[1]["seconds"])
    return out


def run_all(cfg: ConPETConfig, stream: Stream, run: RunDir, dist: Any = None) -> dict[str, Any]:
    """Every configured method on one stream, with one backbone; results.json in the folder."""
    bind_stream(run, stream)
    bb = Backbone.build(cfg.backbone, cfg.lora, stream, seed=cfg.seed)
    if dist is not None:
        dist.broadcast([bb.base])
    out: dict[str, Any] = {"stream": stream.summary(), "methods": {}}
    if dist is not None:
        out["processes"] = dist.world
    for method in cfg.methods:
        out["methods"][method] = run_method(method, stream, bb, cfg, run, dist)
    atomic_write_json(run.path / "results.json", out)
    return out

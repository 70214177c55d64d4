"""Choose an SQE variant for per-sequence tuning on DEV sequences only (issue 19, step 3).

Each dev sequence is tracked once per grid point (the tracker does not depend on the metric);
every metric variant then scores the same tracker outputs, and the tuning study's selection
(``ennead.sqe.study.analyse``) is computed per variant and selection rule. Dev seeds (disjoint
from the study's test seeds 100-109, 200-209, 300-309, 400-409): street 1-4, crowd 11-14,
shared_look 21-24, reid 31-34.

Rule fixed before running: a variant is adopted only if its mean IDF1 over all dev sequences
and both parameters beats the paper's rule (full SQE, plain argmax) by at least 0.3 points;
otherwise the default stays.

    python examples/sqe_study_dev.py out/sqe-dev.json
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from ennead.sqe.config import SQEConfig, StudyGroup, TrackerConfig
from ennead.sqe.evaluate import gt_metrics
from ennead.sqe.optimize import load_sequence
from ennead.sqe.score import embedding_scales, score_tracks
from ennead.sqe.study import analyse, grid, group_config
from ennead.sqe.tracker import Tracker

GROUPS = [
    StudyGroup(name="street", sequences=[f"sim:{s}" for s in range(1, 5)]),
    StudyGroup(
        name="crowd", sequences=[f"sim:{s}" for s in range(11, 15)], simulator={"motion": "crowd"}
    ),
    StudyGroup(
        name="shared_look",
        sequences=[f"sim:{s}" for s in range(21, 25)],
        simulator={"shared_look": [0.2, 0.7]},
    ),
    StudyGroup(
        name="reid",
        sequences=[f"sim:{s}" for s in range(31, 35)],
        simulator={"appearance": "reid"},
    ),
]
PARAMS = {"appearance_thresh": [0.1, 0.9, 0.1], "max_age": [10.0, 60.0, 10.0]}
# metric variants (overrides of the `metric` section)
METRICS: dict[str, dict[str, Any]] = {
    "paper": {},
    "k2=30": {"k2": 30.0},
    "k2=3": {"k2": 3.0},
    "no_t_same": {"t_same": None},
    "same_scale=0.25": {"same_scale": 0.25},
    "gap_scale=0.75": {"gap_scale": 0.75},
}
RULES = [("sqe", 0.0), ("errors", 0.0), ("nl", 0.0), ("sqe", 0.05), ("sqe", 0.1)]


def _sequence(job: tuple[str, str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    gname, spec, data = job
    cfg = SQEConfig.model_validate(data)
    seq = load_sequence(spec, cfg)
    scales = embedding_scales(seq.detections, seed=cfg.metric.seed)
    per_variant: dict[str, dict[str, list[dict[str, Any]]]] = {m: {} for m in METRICS}
    for name, rng in PARAMS.items():
        for m in METRICS:
            per_variant[m][name] = []
        for v in grid(rng, name):
            tcfg = TrackerConfig.model_validate({**cfg.tracker.model_dump(), name: v})
            tracks = Tracker(tcfg).run(seq.detections)
            gt = gt_metrics(seq.gt, tracks, cfg.eval_iou)
            for m, over in METRICS.items():
                mcfg = cfg.metric.model_copy(update=over)
                res = score_tracks(tracks, mcfg, scales)
                per_variant[m][name].append(
                    {"params": {name: v}, **res.summary(), "idf1": gt["idf1"], "mota": gt["mota"]}
                )
    return gname, {"sequence": seq.name, "variants": per_variant}


def main(out: str) -> None:
    base = SQEConfig()
    base.study.params = PARAMS
    jobs = [
        (g.name, spec, group_config(base, g).model_dump()) for g in GROUPS for spec in g.sequences
    ]
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(_sequence, jobs))
    table = []
    for m in METRICS:
        sweeps: dict[str, list[dict[str, Any]]] = {}
        for gname, seq in done:
            sweeps.setdefault(gname, []).append(
                {"sequence": seq["sequence"], "sweeps": seq["variants"][m]}
            )
        for score, margin in RULES:
            cfg = base.model_copy(deep=True)
            cfg.metric = cfg.metric.model_copy(update=METRICS[m])
            cfg.study.scores = [score]  # type: ignore[list-item]
            cfg.study.margin = margin
            cfg.study.bootstrap = 1000
            rows, cells = analyse(sweeps, cfg)
            entry = {
                "metric": m,
                "score": score,
                "margin": margin,
                "mean_tuned": float(np.mean([r.idf1_tuned[score] for r in rows])),
                "mean_default": float(np.mean([r.idf1_default for r in rows])),
                "mean_global": float(np.mean([r.idf1_global for r in rows])),
                "by_group": {
                    f"{c.param}/{c.group}": round(c.tuned_minus_default.estimate, 2) for c in cells
                },
            }
            table.append(entry)
            print(
                f"{m:16s} {score:6s} margin={margin:<4} tuned {entry['mean_tuned']:.2f} "
                f"default {entry['mean_default']:.2f} global {entry['mean_global']:.2f}",
                flush=True,
            )
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(table, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqe-dev.json")

"""Ground-truth check: CLEAR-MOT and identity metrics via py-motmetrics, and rank correlations.

motmetrics 1.4.0 (the latest release) calls ``np.asfarray`` inside ``distances.iou_matrix``, which
NumPy 2 removed. We never call that function: the IoU distance matrix is computed here
(:func:`ennead.sqe.tracker.iou_matrix`) and handed to ``MOTAccumulator.update``, so no patch of
NumPy or site-packages is needed and the same code runs on NumPy 1 and 2.

HOTA is not reported: motmetrics has none, and TrackEval is not packaged in a maintained form that
installs offline here (see docs/systems/sqe.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ennead.core.imports import require
from ennead.sqe.mot import Boxes
from ennead.sqe.tracker import iou_matrix

METRICS = (
    "mota",
    "idf1",
    "motp",
    "num_switches",
    "num_fragmentations",
    "num_false_positives",
    "num_misses",
    "mostly_tracked",
    "idp",
    "idr",
    "num_unique_objects",
)


def accumulate(gt: Boxes, tracks: Boxes, iou: float = 0.5) -> Any:
    """A filled ``motmetrics.MOTAccumulator``; pairs below ``iou`` cannot match."""
    mm = require("motmetrics", "sqe", "ground-truth metrics")
    acc = mm.MOTAccumulator(auto_id=False)
    frames = np.union1d(np.unique(gt.frame), np.unique(tracks.frame))
    g_lo = np.searchsorted(gt.frame, frames, "left")
    g_hi = np.searchsorted(gt.frame, frames, "right")
    t_lo = np.searchsorted(tracks.frame, frames, "left")
    t_hi = np.searchsorted(tracks.frame, frames, "right")
    for f, a, b, c, d in zip(frames.tolist(), g_lo, g_hi, t_lo, t_hi):
        dist = 1.0 - iou_matrix(gt.xywh[a:b], tracks.xywh[c:d])
        dist[dist > 1.0 - iou] = np.nan
        acc.update(gt.ids[a:b].tolist(), tracks.ids[c:d].tolist(), dist, frameid=int(f))
    return acc


def gt_metrics(gt: Boxes, tracks: Boxes, iou: float = 0.5) -> dict[str, float]:
    """MOTA, IDF1, MOTP (1 - IoU, lower is better), ID switches and the rest, as floats."""
    mm = require("motmetrics", "sqe", "ground-truth metrics")
    acc = accumulate(gt, tracks, iou)
    mh = mm.metrics.create()
    df = mh.compute(acc, metrics=list(METRICS), name="seq")
    row = df.loc["seq"]
    out = {k: float(row[k]) for k in METRICS}
    if not np.isfinite(out["motp"]):
        out["motp"] = 1.0
    return out


def rank_correlations(x: list[float] | np.ndarray, y: list[float] | np.ndarray) -> dict[str, float]:
    """Spearman and Kendall correlation (NaN when either side is constant)."""
    from scipy.stats import kendalltau, spearmanr

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"spearman": float("nan"), "kendall": float("nan")}
    return {
        "spearman": float(spearmanr(x, y).statistic),
        "kendall": float(kendalltau(x, y).statistic),
    }

from __future__ import annotations

import numpy as np
import pytest

from ennead.sqe.evaluate import accumulate, gt_metrics, rank_correlations
from ennead.sqe.mot import Boxes, tud_gt


def test_perfect_and_swapped_tracks():
    gt = tud_gt("campus")
    m = gt_metrics(gt, gt)
    assert m["mota"] == pytest.approx(1.0) and m["idf1"] == pytest.approx(1.0)
    ids = gt.ids.copy()
    late = gt.frame > 35
    ids[late & (gt.ids == 1)], ids[late & (gt.ids == 2)] = 2, 1  # swap two identities mid-way
    swapped = Boxes(gt.frame, ids, gt.xywh, gt.conf)
    s = gt_metrics(gt, swapped)
    assert s["num_switches"] >= 1 and s["idf1"] < 0.99 and s["mota"] < 1.0


def test_matches_motmetrics_own_iou_path(monkeypatch):
    """Parity with motmetrics computing IoU itself (needs a NumPy-2 shim, in this test only)."""
    mm = pytest.importorskip("motmetrics")
    if not hasattr(np, "asfarray"):
        monkeypatch.setattr(
            np, "asfarray", lambda a, dtype=float: np.asarray(a, dtype=dtype), raising=False
        )
    from importlib import resources

    folder = resources.files("motmetrics") / "data" / "TUD-Campus"
    with resources.as_file(folder / "gt.txt") as g, resources.as_file(folder / "test.txt") as t:
        ref_acc = mm.utils.compare_to_groundtruth(
            mm.io.loadtxt(g, fmt="mot15-2D"), mm.io.loadtxt(t, fmt="mot15-2D"), "iou", distth=0.5
        )
        from ennead.sqe.mot import read_mot

        ours = accumulate(read_mot(g, "gt"), read_mot(t, "tracks"), iou=0.5)
    mh = mm.metrics.create()
    names = ["mota", "idf1", "num_switches", "num_false_positives", "num_misses"]
    ref = mh.compute(ref_acc, metrics=names, name="x").loc["x"]
    got = mh.compute(ours, metrics=names, name="x").loc["x"]
    for k in names:
        assert got[k] == pytest.approx(ref[k], abs=1e-9), k


def test_rank_correlations():
    c = rank_correlations([1, 2, 3, 4], [10, 20, 30, 40])
    assert c["spearman"] == pytest.approx(1.0) and c["kendall"] == pytest.approx(1.0)
    c = rank_correlations([1, 2, 3], [3, 2, 1])
    assert c["spearman"] == pytest.approx(-1.0)
    assert np.isnan(rank_correlations([1, 1, 1], [1, 2, 3])["spearman"])

"""SQE speed on a 10,000-box sequence: SQE scoring and the tracker's frames/s, against
motmetrics' evaluation (MOTA + IDF1 with ground truth) of the same output, in one run.

Also compares the batched NumPy mixture fitter with scikit-learn's GaussianMixture (the same
scoring with ``metric.gmm=sklearn``) and checks both give the same counts within three.

    .venv/bin/python benchmarks/bench_sqe.py          # writes benchmarks/results/sqe.json
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_result

from ennead.sqe.config import MetricConfig, SimulatorConfig, TrackerConfig
from ennead.sqe.evaluate import gt_metrics
from ennead.sqe.score import embedding_scales, score_tracks
from ennead.sqe.simulate import simulate_sequence
from ennead.sqe.tracker import Tracker


def best_of(fn, repeats=3):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    seq = simulate_sequence(2024, SimulatorConfig(n_frames=820, n_people=45))
    n_frames = int(seq.detections.frame.max())
    assert len(seq.detections) >= 10_000, len(seq.detections)
    t_track, tracks = best_of(
        lambda: Tracker(TrackerConfig(appearance_thresh=0.5)).run(seq.detections)
    )
    scales = embedding_scales(seq.detections)
    t_sqe, res = best_of(lambda: score_tracks(tracks, MetricConfig(), scales))
    t_sk, res_sk = best_of(lambda: score_tracks(tracks, MetricConfig(gmm="sklearn"), scales), 1)
    t_mm, mm = best_of(lambda: gt_metrics(seq.gt, tracks))
    # EM initialisations differ (quartiles vs k-means++ x3): borderline fits may flip
    assert abs(res.dif - res_sk.dif) <= 3 and abs(res.sim - res_sk.sim) <= 3
    write_result(
        "sqe",
        {
            "boxes_tracked": len(tracks),
            "detections": len(seq.detections),
            "frames": n_frames,
            "tracks": res.n,
            "tracker_seconds": round(t_track, 4),
            "tracker_frames_per_s": round(n_frames / t_track, 1),
            "sqe_seconds": round(t_sqe, 4),
            "sqe_sklearn_gmm_seconds": round(t_sk, 4),
            "motmetrics_eval_seconds": round(t_mm, 4),
            "ratio_motmetrics_over_sqe": round(t_mm / t_sqe, 2),
            "ratio_sklearn_gmm_over_numpy_gmm": round(t_sk / t_sqe, 2),
            "sqe": round(res.sqe, 4),
            "counts": {"fp": res.fp, "dif": res.dif, "sim": res.sim},
            "counts_sklearn": {"fp": res_sk.fp, "dif": res_sk.dif, "sim": res_sk.sim},
            "idf1": round(mm["idf1"], 4),
            "mota": round(mm["mota"], 4),
        },
    )


if __name__ == "__main__":
    main()

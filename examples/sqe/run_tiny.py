"""SQE in one page: simulate a sequence, track it, score it without ground truth, tune the tracker.

# CPU, about a minute
.venv/bin/python examples/sqe/run_tiny.py
# the same from the command line
ennead sqe simulate tiny -o data/sqe --seed 5
ennead sqe optimize tiny --set "sequences=[data/sqe/sim-5]" -o runs/sqe-opt
ennead sqe score runs/sqe-opt/artifacts/sim-5-best.txt --detections data/sqe/sim-5/det/det.txt
ennead sqe evaluate paper -o runs/sqe-paper      # the full GT check (several minutes)
# GPU / multi-node: not needed; scale with search.workers=<cores> (processes per sequence)
"""

from ennead.core.config import load_config
from ennead.sqe import SQE, SQEConfig
from ennead.sqe.evaluate import gt_metrics
from ennead.sqe.simulate import simulate_sequence

cfg = load_config(SQEConfig, "tiny", package="ennead.sqe")
sqe = SQE(cfg)

# 1. a simulated sequence: boxes, simulated appearance features, ground truth
seq = simulate_sequence(5, cfg.simulator)
print(f"{seq.name}: {len(seq.detections)} detections, {len(seq.gt.track_ids)} people")

# 2. track with two appearance thresholds and score each output without ground truth
for theta in (0.05, 0.5):
    tracks = sqe.track("sim:5", appearance_thresh=theta)
    res = sqe.score(tracks, detections=seq.detections)
    idf1 = gt_metrics(seq.gt, tracks)["idf1"]
    print(
        f"theta={theta}: SQE={res.sqe:.2f} (n={res.n}, fp={res.fp}, dif={res.dif}, "
        f"sim={res.sim})  IDF1={idf1:.3f} (ground truth, for comparison only)"
    )

# 3. self-optimisation over the threshold grid, checked against ground truth
out = sqe.evaluate("runs/sqe-example")
for c in out.sequences:
    print(
        f"{c.sequence}: SQE chose {c.params}, IDF1 {c.idf1:.3f} (best {c.best_idf1:.3f}), "
        f"Spearman {c.spearman_idf1:.2f}"
    )
print(f"report: {out.report}")

"""The acceptance gate over training seeds 0, 1, 2 (issue 19): every seed, the mean, 95% intervals.

The same from the shell:
    ennead objexist seeds tiny --run runs/objexist-seeds --workers 2
Run this file: python examples/objexist/seed_gate.py [RUN_DIR] [--smoke]
(--smoke: a seconds-long schedule that shows the output, not the claim). Rerunning on the same
folder reuses finished seeds and resumes interrupted jobs. Worker processes are spawned, so a
script that calls seed_gate with workers > 1 needs the ``__main__`` guard below.
"""

import sys

from ennead.objexist.seeds import GATE_SEEDS, seed_gate

SMOKE = [
    "eval.episodes=64",
    "baselines.episodes=256",
    "train.curriculum=[{level: one_object, episodes: 256}, {level: mixed, episodes: 256}]",
]

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    smoke = "--smoke" in sys.argv
    run_dir = args[0] if args else ("runs/objexist-seeds-smoke" if smoke else "runs/objexist-seeds")
    res = seed_gate(run_dir, GATE_SEEDS, overrides=SMOKE if smoke else (), workers=2)
    print(res.table)
    print("gate:", res.gate)
    print(f"report: {res.artifacts['report_html']}  ({res.wall_seconds:.0f} s wall)")

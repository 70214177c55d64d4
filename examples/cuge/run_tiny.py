"""CUGE in under a minute: build the offline stand-in suite, score the rule baseline, rank.

Commands (the same through the CLI):

    .venv/bin/python examples/cuge/run_tiny.py
    ennead cuge prepare tiny
    ennead cuge predict tiny -o runs/rule.json
    ennead cuge board runs/rule.json tiny -o runs/cuge-board
    ennead cuge serve tiny            # http://127.0.0.1:8765
"""

from __future__ import annotations

from ennead.cuge import CUGE, CUGEConfig
from ennead.cuge.api import TrivialRunner
from ennead.cuge.boards import BoardSpec
from ennead.cuge.runners import RuleRunner

cfg = CUGEConfig(data_dir="data/cuge-standin-tiny", max_items=40, max_train=100, out="runs")
cuge = CUGE(cfg)
prep = cuge.prepare()
print(f"built {len(prep.sizes)} datasets in {prep.seconds} s")

rule = cuge.predict(out="runs/cuge-rule.json", runner=RuleRunner())
floor = cuge.predict(out="runs/cuge-trivial.json", runner=TrivialRunner())
entries = [cuge.score_file(rule.submission), cuge.score_file(floor.submission)]

for spec in (
    BoardSpec(name="full"),
    BoardSpec(name="lite", lite=True),
    BoardSpec(name="MR only", capabilities=["MR"], aggregator="harmonic"),
):
    board = cuge.leaderboard(entries, spec)
    print(f"\n{spec.name}:")
    for row in board.rows:
        print(f"  {row.rank}. {row.entry.model:15s} index {row.index:6.1f}")
paths = cuge.leaderboard(entries).write("runs/cuge-board")
print("\nwritten:", ", ".join(paths.values()))

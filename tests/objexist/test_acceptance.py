"""The paper's claim on the tiny config (id-map fast path) over the three training seeds fixed in
``ennead.objexist.seeds`` (issue 19), every policy on the same test scenes.

Slow: each seed trains the agent (76.8k episodes); the exhaustive and passive baselines (25.6k
episodes each) are trained once, in seed 0's folder, and shared by the three seeds (they varied by
at most 0.13 points when each seed trained its own); two jobs at a time, about 17 minutes of CPU
in all (docs/systems/objexist.md). Run with
``pytest -m slow tests/objexist/test_acceptance.py``. ``ENNEAD_OBJEXIST_GATE_DIR`` names a run
folder to keep (and resume) instead of a temporary one. The RGB preset ``tiny_rgb`` does not pass.
"""

import json
import os
from pathlib import Path

import pytest

from ennead.objexist.seeds import GATE_SEEDS, MAX_GAP_POINTS, MAX_MOVES_RATIO, seed_gate


@pytest.mark.slow
@pytest.mark.claim
@pytest.mark.timeout(2400)  # about 14 minutes on 2 idle cores; the suite's 600 s is for one test
def test_tiny_gate_over_three_seeds(tmp_path):
    run_dir = Path(os.environ.get("ENNEAD_OBJEXIST_GATE_DIR") or tmp_path / "gate")
    res = seed_gate(run_dir, GATE_SEEDS, preset="tiny", workers=2)
    gate = res.gate
    assert res.seeds == [0, 1, 2]
    # L4 mixed, mean over seeds: within 5 points of exhaustive with at most 30% of its moves
    assert gate["L4_gap_points_mean"] <= MAX_GAP_POINTS, res.table
    assert gate["L4_moves_ratio_mean"] <= MAX_MOVES_RATIO, res.table
    # L3 occluded: better than passive, the 95% t interval over seeds above 0
    assert gate["L3_agent_minus_passive_low"] > 0, res.table
    assert gate["passed"], gate
    for s in GATE_SEEDS:
        agent = json.loads((run_dir / f"seed-{s}" / "results.json").read_text())["results"]["agent"]
        hidden = agent["two_occluded"]["cells"]["yes/query_hidden"]  # L3: query hidden at start
        in_view = agent["mixed"]["cells"]["yes/visible"]  # L4: query on the table, nothing hidden
        # every seed moves where the query is hidden, and much less where it is in view
        assert hidden["moves"] > in_view["moves"] + 0.3, (s, hidden, in_view)

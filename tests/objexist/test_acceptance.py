"""Issue 6's gate on the tiny config (slow: about 16-40 minutes for the agent, the
baselines and the evaluation; run with ``pytest -m slow tests/objexist/test_acceptance.py``)."""

import pytest

from ennead.core.config import load_config
from ennead.objexist import ObjExist, ObjExistConfig


@pytest.mark.slow
def test_tiny_agent_matches_exhaustive_with_few_moves(tmp_path):
    cfg = load_config(
        ObjExistConfig,
        "tiny",
        ["baselines.run=[exhaustive,passive,oracle]"],
        package="ennead.objexist",
    )
    res = ObjExist(cfg).train(tmp_path / "run")
    gate, r = res.acceptance, res.results
    # within 5 points of exhaustive, at most 30% of its moves, better than passive when occluded
    assert gate["accuracy_gap_points"] <= 5.0, gate
    assert gate["moves_ratio"] <= 0.30, gate
    assert gate["occluded_agent"] > gate["occluded_passive"], gate
    assert gate["passed"]
    # the agent moves where it must and not where it need not
    assert r["agent"]["one_object"]["moves"] < 0.3
    assert r["agent"]["two_occluded"]["cells"]["yes/query_hidden"]["moves"] >= 1.0
    # held-out pairs are reported and do not collapse
    for split in ("two_visible@holdout", "two_occluded@holdout"):
        assert r["agent"][split]["accuracy"] > 0.6
    # trained within 20 minutes of CPU time (wall time on shared cores is noisier)
    assert r and res.train_seconds["agent"] < 1200

"""The real-text summary: per-seed rows, mean and interval, and the paper's verdict rule."""

from __future__ import annotations

import math

from ennead.conpet.real import real_markdown, summarize, verdict


def _methods(seq: float, static: float, dynamic: float) -> dict:
    row = {"tunable_ratio": 0.002}
    return {
        "sequential": {"macro": seq, **row},
        "static": {"macro": static, **row},
        "dynamic": {"macro": dynamic, "selector": 0.5, **row},
    }


def test_verdict_rule():
    assert verdict(1.0, 6.0, 5.0) == "reproduced"
    assert verdict(0.5, 3.0, 5.0).startswith("direction only")
    assert verdict(-2.0, 8.0, 5.0) == "not reproduced"
    assert verdict(math.nan, 8.0, 5.0) == "not reproduced"


def test_summary_pairs_seeds_and_reports_every_seed():
    per_seed = {
        100: _methods(0.20, 0.30, 0.21),
        200: _methods(0.22, 0.31, 0.20),
        300: _methods(0.18, 0.29, 0.22),
    }
    out = summarize(per_seed, margin=5.0)
    static = next(r for r in out["rows"] if r["method"] == "Static ConPET")
    assert (static["seed 100"], static["seed 200"], static["seed 300"]) == ("30.0", "31.0", "29.0")
    assert static["mean [95% CI]"].startswith("30.0 [")
    checks = {c["claim"].split(" - ")[0]: c for c in out["checks"]}
    assert checks["Static ConPET"]["per seed"] == "+10.0, +9.0, +11.0"
    assert checks["Static ConPET"]["verdict"] == "reproduced"
    assert checks["Dynamic ConPET"]["verdict"] == "not reproduced"
    assert "The paper's claim" in real_markdown(out)

"""The tuning study at the CI-gate size (the tour's SQE claim; CI's claims stage runs it).

Sequences, grids and the bootstrap seed are fixed in the ``study-ci`` preset (test seeds 100-104,
200-204, 300-304, 400-404; never used to choose anything). The numbers below were measured once
with these settings and are documented in docs/systems/sqe.md. The run is deterministic on one
machine, but another CPU's float order can move a mixture fit and so one pick: each mean may move by
up to half a point. The verdict on the paper's claim is the gate.
"""

from __future__ import annotations

import pytest

from ennead.sqe.study import tuning_claim

# measured (docs/systems/sqe.md): mean IDF1 difference, points, over the 20 sequences
MEASURED: dict[tuple[str, str], float] = {
    ("appearance_thresh", "tuned_minus_default"): -0.15,
    ("appearance_thresh", "tuned_minus_global"): -0.39,
    ("max_age", "tuned_minus_default"): 0.40,
    ("max_age", "tuned_minus_global"): 0.46,
}


@pytest.mark.slow
@pytest.mark.claim
@pytest.mark.timeout(1800)  # a claim gate takes minutes, not the suite's 600 s per test
def test_tuning_claim_reproduces(tmp_path):
    res = tuning_claim(tmp_path / "study", quick=True, workers=2)
    rows = [r for r in res.rows if r.param == "appearance_thresh"]
    assert len(rows) == 20 and {r.group for r in rows} == {
        "street",
        "crowd",
        "shared_look",
        "reid",
    }
    for (param, what), value in MEASURED.items():
        iv = getattr(res.cell(param, "sqe", "all"), what)
        assert iv.low <= iv.estimate <= iv.high
        assert iv.estimate == pytest.approx(value, abs=0.5), (param, what)
    # the verdict (docs): per-sequence SQE tuning of the appearance threshold does not beat the
    # default; its interval excludes a gain of one IDF1 point
    assert res.cell("appearance_thresh", "sqe", "all").tuned_minus_default.high < 1.0

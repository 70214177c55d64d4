"""Recsys's claim gate (CI's claims stage), fixed before the gate's runs: seeds 0, 1, 2, the
default preset (BERT4Rec, K = 5, 100 sampled negatives), ML-100K from the recbole wheel.

The paper's claim: source pre-training helps cold-start users. It holds here when shallow or deep
transfer has a mean NDCG@10 gain over no pre-training above the gain's std over seeds, with the
paired bootstrap over users (pooled over seeds) above zero. The second half of the claim, that the
gain shrinks for warm users, is checked apart and reported as an expected failure when it does
not hold (the measured numbers are in the message and in docs/systems/recsys.md).

Measured on 2026-12-03 (torch threads 1, 2 processes): cold-user NDCG@10 gain per seed, shallow
+0.015, +0.009, +0.017 (mean 0.0137, pooled interval [+0.0069, +0.0206]); deep +0.035, +0.042,
+0.031 (mean 0.0362, [+0.0263, +0.0458]); warm deep gain mean +0.0293, below the cold one. 539 s
wall under load 7-16 on 2 cores; one unit takes about 61 s at load 2, so about 2-2.5 minutes idle.
"""

import pytest

from ennead.recsys.study import GATE_SEEDS, cold_start, study_config


@pytest.mark.slow
@pytest.mark.claim
@pytest.mark.timeout(1800)  # a claim gate takes minutes, not the suite's 600 s per test
def test_pretraining_helps_cold_users_over_the_fixed_seeds(tmp_path):
    assert GATE_SEEDS == (0, 1, 2)  # fixed before looking
    cfg = study_config()
    assert (cfg.data.k, cfg.data.n_negatives, cfg.model.name) == (5, 100, "bert4rec")
    res = cold_start(tmp_path / "claim", GATE_SEEDS, workers=2)
    text = "\n".join(
        f"{r['mode']} {r['users']}: NDCG@10 {r['NDCG@10']}"
        + (f", gain {r['gain [95% CI]']} per seed {r['gain per seed']}" if "gain" in r else "")
        for r in res.rows
    )
    print(text)
    assert len(res.plain_units) == 3
    assert res.passed, text
    cold = res.row("deep", "cold")["gain"]
    warm = res.row("deep", "warm")["gain"]
    if not cold > warm:
        pytest.xfail(
            f"the gain does not shrink for warm users (deep: cold {cold:+.4f}, "
            f"warm {warm:+.4f}):\n{text}"
        )

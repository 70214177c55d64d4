"""ChatMol's claim gate (CI's claims stage), seeds and thresholds fixed before looking (preset
``tiny-claim``): 3 seeds x 100 test dialogues; the tiny T5 (d_model 96, 2+2 layers) with and
without knowledge pre-training, against the random / retrieval / constraint-filter baselines.

Gate on the mean of the 3 seeds (issue 16): top-1 validity >= 0.8, satisfaction >= random + 0.20,
pre-trained >= no pre-training on satisfaction. A condition that does not hold is reported as an
expected failure with the measured numbers, never by lowering a threshold.

Measured on 2026-12-03 (582 CPU-s, about 5 minutes on 2 idle cores): satisfaction 0.07 / 0.01 /
0.01 against random 0.03 / 0.08 / 0.03 (gain mean -0.02, gate +0.20: NOT met), validity 0.97
(met), pre-training gain +0.003 (met, trivially: both arms sit at random). Details and the extra
seeds in docs/systems/chatmol.md.
"""

import pytest

from ennead.chatmol.config import ChatMolConfig
from ennead.chatmol.experiment import run_claim
from ennead.core.config import load_config


@pytest.mark.slow
@pytest.mark.claim
@pytest.mark.timeout(1800)  # a claim gate takes minutes, not the suite's 600 s per test
def test_tiny_t5_designs_satisfying_molecules_over_the_fixed_seeds(tmp_path):
    cfg = load_config(ChatMolConfig, "tiny-claim", package="ennead.chatmol")
    assert cfg.claim.seeds == [11, 12, 13]  # fixed before looking
    assert (cfg.claim.min_validity, cfg.claim.sat_margin) == (0.8, 0.20)
    res = run_claim(cfg, cfg.claim.seeds, tmp_path / "claim")
    text = "; ".join(
        f"seed {s}: "
        + ", ".join(f"{k} {v:.3f}" for k, v in res.per_seed[s].items() if k != "train_seconds")
        for s in res.seeds
    )
    print(text)
    # the harness itself: every seed evaluated its dialogues and the oracle bounds the rest
    for s in res.seeds:
        row = res.per_seed[s]
        assert row["oracle_satisfaction"] >= row["random_satisfaction"] + 0.3, text
        assert row["oracle_satisfaction"] >= row["retrieval_satisfaction"], text
    failed = [name for name, ok in res.gates.items() if not ok]
    if failed:
        means = ", ".join(
            f"{k} {res.mean(k):.3f}"
            for k in (
                "validity",
                "satisfaction",
                "random_satisfaction",
                "sat_gain_vs_random",
                "scratch_satisfaction",
                "pretrain_gain",
            )
        )
        pytest.xfail(f"gate conditions not met: {failed}; means: {means}; {text}")

"""The issue's acceptance gate, seed-fixed.

Test sequences are simulations with seeds 100-104. The metric's calibrated default
(``metric.std_scale = 3``; k2 and w_min kept at the spec's 10 and 0.1) was chosen on seeds 1-8
only (docs/systems/sqe.md), so nothing here was tuned on these sequences.

Measured with those defaults and the mean-reverting identity drift (simulator.drift_time = 50,
fixed a priori and checked on dev seeds 1-8 only): median Spearman(SQE, IDF1) = 0.768 (per
sequence 0.487, 0.768, 0.915, 0.896, 0.609), worst IDF1 shortfall of the SQE choice 2.2 points.
With the earlier unbounded random-walk drift the median was 0.598 (0.598, 0.834, 0.576, 0.881,
0.454): see docs/systems/sqe.md for why the drift model matters.
"""

from __future__ import annotations

import numpy as np
import pytest

from ennead.sqe.config import SQEConfig
from ennead.sqe.evaluate import rank_correlations
from ennead.sqe.optimize import search_all


def _gate(cfg: SQEConfig) -> tuple[list[float], list[float]]:
    cfg.search.space = {"appearance_thresh": [0.05, 0.95, 0.05]}
    rhos, shortfalls = [], []
    for res in search_all(cfg).values():
        trials = res["trials"]
        rho = rank_correlations([t["sqe"] for t in trials], [t["idf1"] for t in trials])
        rhos.append(rho["spearman"])
        shortfalls.append(100 * (max(t["idf1"] for t in trials) - res["best"]["idf1"]))
    return rhos, shortfalls


@pytest.fixture(scope="module")
def simulated_gate() -> tuple[list[float], list[float]]:
    cfg = SQEConfig(sequences=[f"sim:{s}" for s in range(100, 105)])
    cfg.search.workers = 2
    return _gate(cfg)


def test_sqe_choice_within_three_idf1_points(simulated_gate):
    _, shortfalls = simulated_gate
    assert max(shortfalls) <= 3.0, shortfalls


def test_median_spearman_with_idf1_at_least_0_6(simulated_gate):
    rhos, _ = simulated_gate
    assert len(rhos) == 5
    assert np.median(rhos) >= 0.6, rhos
    assert min(rhos) > 0.3, rhos


def test_tud_sequences():
    """TUD-Campus/Stadtmitte (GT boxes, simulated features): measured rho 0.72 / 0.45."""
    rhos, shortfalls = _gate(SQEConfig(sequences=["tud:campus", "tud:stadtmitte"]))
    assert all(r > 0.3 for r in rhos), rhos
    assert max(shortfalls) <= 3.0, shortfalls

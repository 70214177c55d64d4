import math

import numpy as np
import pytest

from ennead.core.errors import DataError
from ennead.core.eval.stats import (
    Interval,
    bootstrap_mean,
    format_interval,
    paired_bootstrap,
    paired_t_interval,
    pooled_paired_bootstrap,
    seed_summary,
    t_interval,
    t_quantile,
)


def scores(n=200, p=0.6, seed=1):
    return np.random.default_rng(seed).binomial(1, p, n).astype(float)


def test_identical_systems_give_zero_difference_and_an_interval_on_zero():
    a = scores()
    iv = paired_bootstrap(a, a.copy(), seed=3)
    assert iv.estimate == 0 and iv.low == 0 and iv.high == 0
    assert iv.contains(0) and not iv.excludes_zero and iv.p_value == 1.0


def test_noisy_equal_systems_interval_contains_zero():
    a, b = scores(seed=1), scores(seed=2)
    # same distribution: the interval straddles 0 for this fixed seed pair
    iv = paired_bootstrap(a, b, seed=0)
    assert iv.low < 0 < iv.high or iv.contains(0)
    assert iv.p_value is not None and iv.p_value > 0.05


def test_constant_shift_is_exact():
    b = scores(n=50)
    iv = paired_bootstrap(b + 0.25, b, seed=0)
    assert iv.estimate == pytest.approx(0.25, abs=1e-12)
    assert iv.low == pytest.approx(0.25, abs=1e-12) and iv.high == pytest.approx(0.25, abs=1e-12)
    assert iv.excludes_zero and iv.p_value == 0.0


def test_clear_gain_excludes_zero_and_is_seeded():
    rng = np.random.default_rng(0)
    b = rng.binomial(1, 0.4, 300).astype(float)
    a = np.where(rng.random(300) < 0.3, 1.0, b)  # a fixes about 30% of b's items
    first = paired_bootstrap(a, b, seed=7)
    assert first.excludes_zero and first.low > 0
    assert first == paired_bootstrap(a, b, seed=7)
    other = paired_bootstrap(a, b, seed=8)
    assert (first.low, first.high) != (other.low, other.high)


def test_bootstrap_mean_matches_normal_approximation():
    x = scores(n=2000, p=0.5, seed=4)
    iv = bootstrap_mean(x, n_resamples=4000)
    se = x.std() / math.sqrt(x.size)
    assert iv.estimate == pytest.approx(x.mean())
    assert iv.half_width == pytest.approx(1.96 * se, rel=0.1)


def test_bootstrap_custom_statistic_and_chunking(monkeypatch):
    import ennead.core.eval.stats as stats

    monkeypatch.setattr(stats, "_CHUNK_CELLS", 1000)  # forces several chunks
    x = np.arange(101, dtype=float)
    iv = bootstrap_mean(x, n_resamples=500, statistic=lambda s: np.median(s, axis=1))
    assert iv.estimate == 50 and iv.low < 50 < iv.high


def test_pooled_bootstrap_over_seeds_weights_items():
    a = {0: [1, 1, 1, 1], 1: [0, 0]}
    b = {0: [0, 0, 0, 0], 1: [0, 0]}
    iv = pooled_paired_bootstrap(a, b, seed=0)
    # stratified: every resample keeps 4 items of seed 0 (diff 1) and 2 of seed 1 (diff 0)
    assert iv.estimate == pytest.approx(4 / 6)
    assert iv.low == pytest.approx(4 / 6) and iv.high == pytest.approx(4 / 6)
    assert iv.extra["per_seed"] == {"0": 1.0, "1": 0.0}
    assert iv.n == 6 and "2 seeds" in iv.method


def test_pooled_bootstrap_differences_and_mismatch_errors():
    iv = pooled_paired_bootstrap([[0.1, 0.3], [0.2]], seed=0)
    assert iv.estimate == pytest.approx(0.2) and iv.p_value is None
    with pytest.raises(DataError, match="seeds differ"):
        pooled_paired_bootstrap({0: [1]}, {1: [1]})
    with pytest.raises(DataError, match="seed 0"):
        pooled_paired_bootstrap({0: [1, 2]}, {0: [1]})


def test_t_quantile_known_values():
    assert t_quantile(1) == pytest.approx(12.7062, abs=1e-3)
    assert t_quantile(2) == pytest.approx(4.3027, abs=1e-3)
    assert t_quantile(4) == pytest.approx(2.7764, abs=1e-3)
    assert t_quantile(5) == pytest.approx(2.5706, abs=1e-3)
    assert t_quantile(30) == pytest.approx(2.0423, abs=1e-3)
    assert t_quantile(1000) == pytest.approx(1.9623, abs=1e-3)
    assert t_quantile(9, 0.99) == pytest.approx(3.2498, abs=1e-3)


def test_t_interval_known_answer():
    iv = t_interval([1.0, 2.0, 3.0, 4.0])
    half = 3.1824 * np.std([1, 2, 3, 4], ddof=1) / 2
    assert iv.estimate == 2.5
    assert iv.low == pytest.approx(2.5 - half, abs=1e-3) and iv.high == pytest.approx(
        2.5 + half, abs=1e-3
    )
    assert iv.n == 4 and iv.method == "t over seeds"


def test_t_interval_single_seed_and_paired():
    one = t_interval([0.5])
    assert math.isnan(one.low) and one.format() == "+0.50 [n/a]"
    iv = paired_t_interval([0.6, 0.7, 0.8], [0.5, 0.6, 0.7])
    assert iv.estimate == pytest.approx(0.1) and iv.low == pytest.approx(0.1)
    with pytest.raises(DataError):
        paired_t_interval([1, 2], [1])


def test_formatting():
    assert format_interval(0.052, 0.021, 0.083, scale=100, digits=1) == "+5.2 [2.1, 8.3]"
    assert format_interval(-0.5, -1, 0, digits=1, sign=False) == "-0.5 [-1.0, 0.0]"
    iv = Interval(0.052, 0.021, 0.083, n=10, method="x")
    assert iv.format(digits=1, scale=100) == "+5.2 [2.1, 8.3]"
    assert iv.to_dict()["n"] == 10 and "p_value" not in iv.to_dict()
    row = seed_summary({0: 0.5, 1: 0.7, 2: 0.6}, scale=100, digits=1)
    assert row["seeds"] == "0: 50.0, 1: 70.0, 2: 60.0" and row["mean [95% CI]"].startswith(
        "+60.0 ["
    )


def test_bad_inputs_are_typed_errors():
    with pytest.raises(DataError, match="no values"):
        bootstrap_mean([])
    with pytest.raises(DataError, match="finite"):
        bootstrap_mean([1, float("nan")])
    with pytest.raises(DataError, match="pairs"):
        paired_bootstrap([1, 2], [1])
    with pytest.raises(DataError, match="confidence"):
        bootstrap_mean([1], confidence=95)

from __future__ import annotations

import numpy as np

from ennead.sqe.gmm import fit_gmm2, fit_gmm2_sklearn


def _bimodal(rng, n=300, lo=0.15, hi=0.9, share=0.3):
    k = int(share * n)
    return np.concatenate([rng.normal(lo, 0.05, n - k), rng.normal(hi, 0.05, k)])


def test_recovers_two_modes_and_matches_sklearn():
    rng = np.random.default_rng(0)
    samples = [_bimodal(rng), _bimodal(rng, share=0.5), rng.normal(0.2, 0.05, 200)]
    ours, ref = fit_gmm2(samples), fit_gmm2_sklearn(samples)
    np.testing.assert_allclose(ours.means[:2], [[0.15, 0.9], [0.15, 0.9]], atol=0.02)
    np.testing.assert_allclose(ours.weights[0], [0.7, 0.3], atol=0.03)
    np.testing.assert_allclose(ours.means[:2], ref.means[:2], atol=0.01)
    np.testing.assert_allclose(ours.weights[:2], ref.weights[:2], atol=0.01)
    # unimodal: whatever the split, the gap is small compared with a real second mode
    assert ours.gap[2] < 0.2 and ref.gap[2] < 0.2


def test_batched_equals_one_by_one_and_is_deterministic():
    rng = np.random.default_rng(1)
    samples = [_bimodal(rng, n=int(n)) for n in rng.integers(10, 200, 12)]
    batch = fit_gmm2(samples)
    single = [fit_gmm2([s]) for s in samples]
    np.testing.assert_allclose(batch.means, np.concatenate([s.means for s in single]), atol=1e-6)
    again = fit_gmm2(samples, chunk_values=500)  # forces several chunks
    np.testing.assert_allclose(batch.means, again.means, atol=1e-6)
    assert fit_gmm2([]).means.shape == (0, 2)

"""Two-component 1-D Gaussian mixtures, fitted for many samples at once.

``fit_gmm2`` runs expectation-maximisation on a padded (B, N) batch with a mask, so the hundreds of
small fits SQE needs (one per track, one per track pair) cost a few array passes instead of
hundreds of ``sklearn.mixture.GaussianMixture`` calls. Initialisation is deterministic (means at
the 25th and 75th percentiles), so results do not depend on a seed. ``fit_gmm2_sklearn`` is the
reference (``covariance_type='full'``, ``n_init=3``); a test checks the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Mixture2:
    """Fitted components, sorted so that index 0 is the low-mean one. Arrays of shape (B, 2)."""

    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        return self.means[:, 1] - self.means[:, 0]

    @property
    def min_weight(self) -> np.ndarray:
        return self.weights.min(axis=1)


def _pad(samples: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n = max((len(s) for s in samples), default=0)
    X = np.zeros((len(samples), max(n, 1)))
    M = np.zeros_like(X, dtype=bool)
    for i, s in enumerate(samples):
        X[i, : len(s)] = s
        M[i, : len(s)] = True
    return X, M


def fit_gmm2(
    samples: Sequence[np.ndarray],
    iters: int = 100,
    tol: float = 1e-5,
    reg: float = 1e-6,
    chunk_values: int = 1_000_000,
) -> Mixture2:
    """Fit one 2-component mixture per 1-D sample (each needs >= 2 values).

    Samples are processed in chunks of about ``chunk_values`` padded values to bound memory.
    """
    if not samples:
        z = np.zeros((0, 2))
        return Mixture2(z, z.copy(), z.copy())
    n_max = max(len(s) for s in samples)
    step = max(1, chunk_values // max(n_max, 1))
    if len(samples) > step:
        parts = [
            _fit_chunk(samples[i : i + step], iters, tol, reg) for i in range(0, len(samples), step)
        ]
        return Mixture2(
            *(
                np.concatenate([getattr(p, k) for p in parts])
                for k in ("means", "variances", "weights")
            )
        )
    return _fit_chunk(samples, iters, tol, reg)


def _fit_chunk(samples: Sequence[np.ndarray], iters: int, tol: float, reg: float) -> Mixture2:
    B = len(samples)
    if B == 0:
        z = np.zeros((0, 2))
        return Mixture2(z, z.copy(), z.copy())
    X, M = _pad(samples)
    Mf = M.astype(np.float64)
    cnt = Mf.sum(axis=1)
    # deterministic init: means at the quartiles, shared variance, equal weights
    Xq = np.where(M, X, np.nan)
    mu = np.stack([np.nanpercentile(Xq, 25, axis=1), np.nanpercentile(Xq, 75, axis=1)], axis=1)
    mean_all = (X * Mf).sum(axis=1) / cnt
    var_all = ((X - mean_all[:, None]) ** 2 * Mf).sum(axis=1) / cnt
    var = np.repeat(np.maximum(var_all, reg)[:, None], 2, axis=1)
    w = np.full((B, 2), 0.5)
    for _ in range(iters):
        # E step for two components: responsibility of component 1 is a logistic of the
        # log-density ratio, which avoids a log-sum-exp over a third axis
        logit = (
            np.log(np.maximum(w[:, 1], 1e-300) / np.maximum(w[:, 0], 1e-300))
            - 0.5 * np.log(var[:, 1] / var[:, 0])
        )[:, None] - 0.5 * (
            (X - mu[:, 1:2]) ** 2 / var[:, 1:2] - (X - mu[:, 0:1]) ** 2 / var[:, 0:1]
        )
        r1 = Mf / (1.0 + np.exp(-np.clip(logit, -500, 500)))
        r0 = Mf - r1
        # M step
        n1 = r1.sum(axis=1) + 1e-10
        n0 = r0.sum(axis=1) + 1e-10
        new_mu = np.stack([(r0 * X).sum(axis=1) / n0, (r1 * X).sum(axis=1) / n1], axis=1)
        var = (
            np.stack(
                [
                    (r0 * (X - new_mu[:, 0:1]) ** 2).sum(axis=1) / n0,
                    (r1 * (X - new_mu[:, 1:2]) ** 2).sum(axis=1) / n1,
                ],
                axis=1,
            )
            + reg
        )
        w = np.stack([n0, n1], axis=1) / cnt[:, None]
        moved = np.abs(new_mu - mu).max()
        mu = new_mu
        if moved < tol:
            break
    order = np.argsort(mu, axis=1)
    take = np.take_along_axis
    return Mixture2(take(mu, order, 1), take(var, order, 1), take(w, order, 1))


def fit_gmm2_sklearn(samples: Sequence[np.ndarray], seed: int = 0) -> Mixture2:
    """The same fit with scikit-learn (``n_init=3``, seeded), one call per sample."""
    from ennead.core.imports import require

    mixture = require("sklearn.mixture", "sqe", "the sklearn mixture fitter")
    means, variances, weights = [], [], []
    for s in samples:
        g = mixture.GaussianMixture(2, covariance_type="full", n_init=3, random_state=seed)
        g.fit(np.asarray(s, dtype=np.float64).reshape(-1, 1))
        m, v, w = g.means_[:, 0], g.covariances_[:, 0, 0], g.weights_
        o = np.argsort(m)
        means.append(m[o])
        variances.append(v[o])
        weights.append(w[o])
    shape = (len(samples), 2)
    return Mixture2(
        np.asarray(means).reshape(shape),
        np.asarray(variances).reshape(shape),
        np.asarray(weights).reshape(shape),
    )

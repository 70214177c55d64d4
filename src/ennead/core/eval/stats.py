"""Intervals for claims: paired bootstrap, bootstrap of a mean, pooled seeds, t over seeds.

Every system states its claims the same way: the estimate, a 95% interval and how it was
computed. The functions here return an :class:`Interval`; ``str(interval)`` reads
``+5.20 [2.10, 8.30]`` and ``interval.format(scale=100, digits=1)`` gives percentage points.

- :func:`paired_bootstrap` -- mean of ``a - b`` over the same items, resampling items.
- :func:`bootstrap_mean` -- mean of one sample (accuracy of one system), resampling items.
- :func:`pooled_paired_bootstrap` -- pairs from several seeds pooled; items are resampled within
  each seed (stratified), so every resample keeps each seed's size.
- :func:`t_interval` / :func:`paired_t_interval` -- one number per seed, Student t over seeds.

Bootstraps are percentile intervals, seeded (``seed=0`` by default) and vectorised with numpy in
chunks, so a large item count does not allocate ``n_resamples x n`` at once.

>>> a, b = [1, 1, 0, 1, 0, 1], [0, 1, 0, 0, 0, 1]
>>> iv = paired_bootstrap(a, b, n_resamples=2000)
>>> round(iv.estimate, 4), iv.low <= iv.estimate <= iv.high
(0.3333, True)
>>> t_interval([0.5, 0.5, 0.5]).format()
'+0.50 [0.50, 0.50]'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ennead.core.errors import DataError
from ennead.core.eval.report import format_interval

__all__ = [
    "Interval",
    "bootstrap_mean",
    "format_interval",
    "paired_bootstrap",
    "paired_t_interval",
    "pooled_paired_bootstrap",
    "seed_summary",
    "t_interval",
    "t_quantile",
]

# Resamples x items held in memory at once (float64: about 32 MB).
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided interval, how it was computed and over how many units.

    ``n`` counts the resampled units (items for a bootstrap, seeds for a t-interval);
    ``p_value`` is set by the paired tests (two-sided, for a zero difference).
    """

    estimate: float
    low: float
    high: float
    confidence: float = 0.95
    n: int = 0
    method: str = ""
    p_value: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero (a difference that holds)."""
        return self.low > 0 or self.high < 0

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def format(self, digits: int = 2, scale: float = 1.0, sign: bool = True) -> str:
        return format_interval(
            self.estimate, self.low, self.high, digits=digits, scale=scale, sign=sign
        )

    def __str__(self) -> str:
        return self.format()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "confidence": self.confidence,
            "n": self.n,
            "method": self.method,
        }
        if self.p_value is not None:
            out["p_value"] = self.p_value
        out.update(self.extra)
        return out


def _vector(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise DataError(f"{what}: expected a flat sequence of numbers, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{what}: no values")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{what}: values must be finite (found NaN or inf)")
    return arr


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise DataError(f"confidence must lie strictly between 0 and 1, got {confidence}")


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 100:
        raise DataError(f"n_resamples must be at least 100, got {n_resamples}")


def _resample_means(
    strata: Sequence[np.ndarray],
    n_resamples: int,
    rng: np.random.Generator,
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Means of ``n_resamples`` stratified resamples (items drawn with replacement per stratum).

    With one stratum and a ``statistic`` (array ``[B, n] -> [B]``), that instead of the mean.
    """
    total = sum(s.size for s in strata)
    out = np.empty(n_resamples)
    step = max(1, _CHUNK_CELLS // max(1, total))
    for start in range(0, n_resamples, step):
        b = min(step, n_resamples - start)
        if statistic is not None:
            (values,) = strata
            out[start : start + b] = statistic(
                values[rng.integers(0, values.size, (b, values.size))]
            )
            continue
        sums = np.zeros(b)
        for values in strata:
            sums += values[rng.integers(0, values.size, (b, values.size))].sum(axis=1)
        out[start : start + b] = sums / total
    return out


def _percentile_interval(
    estimate: float,
    stats: np.ndarray,
    confidence: float,
    n: int,
    method: str,
    paired: bool,
    extra: dict[str, Any] | None = None,
) -> Interval:
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    # a constant sample resamples to one value; do not let float noise move the bounds off it
    low, high = min(float(low), estimate), max(float(high), estimate)
    p_value = None
    if paired:
        # two-sided bootstrap p for "no difference": how often a resample crosses 0
        below, above = float(np.mean(stats <= 0)), float(np.mean(stats >= 0))
        p_value = min(1.0, 2 * min(below, above))
    return Interval(estimate, low, high, confidence, n, method, p_value, dict(extra or {}))


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Interval:
    """Percentile bootstrap interval of the mean of ``values`` (items resampled with replacement).

    ``statistic`` replaces the mean: it maps an array ``[B, n]`` of resamples to ``[B]``
    (e.g. ``lambda x: np.median(x, axis=1)``).
    """
    _check_confidence(confidence)
    _check_resamples(n_resamples)
    arr = _vector(values, "bootstrap_mean")
    rng = np.random.default_rng(seed)
    if statistic is None:
        estimate = float(arr.mean())
    else:
        estimate = float(statistic(arr[None, :])[0])
    stats = _resample_means([arr], n_resamples, rng, statistic)
    return _percentile_interval(
        estimate, stats, confidence, arr.size, "bootstrap over items", paired=False
    )


def paired_bootstrap(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Mean difference ``mean(a - b)`` over paired items with a paired bootstrap interval.

    ``a[i]`` and ``b[i]`` are two systems' scores on the same item ``i``; items are resampled
    together, so item difficulty cancels. ``p_value`` is the two-sided bootstrap p for zero.
    """
    _check_confidence(confidence)
    _check_resamples(n_resamples)
    x, y = _vector(a, "paired_bootstrap a"), _vector(b, "paired_bootstrap b")
    if x.size != y.size:
        raise DataError(f"paired_bootstrap: a has {x.size} items and b has {y.size}; pairs needed")
    diff = x - y
    stats = _resample_means([diff], n_resamples, np.random.default_rng(seed))
    return _percentile_interval(
        float(diff.mean()), stats, confidence, diff.size, "paired bootstrap over items", True
    )


def pooled_paired_bootstrap(
    a: Mapping[Any, Sequence[float]] | Sequence[Sequence[float]],
    b: Mapping[Any, Sequence[float]] | Sequence[Sequence[float]] | None = None,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Pairs from several seeds pooled: mean of ``a - b`` over all items of all seeds.

    ``a`` and ``b`` hold one sequence per seed (a mapping seed -> scores, or a list); items are
    resampled within each seed (a bootstrap stratified by seed). With ``b=None``, ``a`` holds the
    differences (or plain scores) already. The per-seed means are in ``extra["per_seed"]``.
    """
    _check_confidence(confidence)
    _check_resamples(n_resamples)
    keys_a = list(a) if isinstance(a, Mapping) else list(range(len(a)))
    seqs_a = list(a.values()) if isinstance(a, Mapping) else list(a)
    if not seqs_a:
        raise DataError("pooled_paired_bootstrap: no seeds")
    if b is None:
        strata = [_vector(s, f"seed {k}") for k, s in zip(keys_a, seqs_a)]
    else:
        keys_b = list(b) if isinstance(b, Mapping) else list(range(len(b)))
        if keys_a != keys_b:
            raise DataError(
                f"pooled_paired_bootstrap: seeds differ: a has {keys_a}, b has {keys_b}"
            )
        seqs_b = list(b.values()) if isinstance(b, Mapping) else list(b)
        strata = []
        for k, sa, sb in zip(keys_a, seqs_a, seqs_b):
            x, y = _vector(sa, f"seed {k} a"), _vector(sb, f"seed {k} b")
            if x.size != y.size:
                raise DataError(f"seed {k}: a has {x.size} items and b has {y.size}; pairs needed")
            strata.append(x - y)
    total = sum(s.size for s in strata)
    estimate = float(sum(s.sum() for s in strata) / total)
    stats = _resample_means(strata, n_resamples, np.random.default_rng(seed))
    per_seed = {str(k): float(s.mean()) for k, s in zip(keys_a, strata)}
    return _percentile_interval(
        estimate,
        stats,
        confidence,
        total,
        f"bootstrap over items stratified by seed ({len(strata)} seeds)",
        paired=b is not None,
        extra={"per_seed": per_seed},
    )


def _t_two_sided_mass(t: float, df: int) -> float:
    """P(|T| < t) for Student t with integer ``df`` (closed form, Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    c2, s = math.cos(theta) ** 2, math.sin(theta)
    if df % 2 == 1:
        if df == 1:
            return 2 * theta / math.pi
        term, total = math.cos(theta), math.cos(theta)
        for k in range(3, df - 1, 2):
            term *= c2 * (k - 1) / k
            total += term
        return 2 / math.pi * (theta + s * total)
    term, total = 1.0, 1.0
    for k in range(2, df - 1, 2):
        term *= c2 * (k - 1) / k
        total += term
    return s * total


def t_quantile(df: int, confidence: float = 0.95) -> float:
    """Two-sided Student t critical value: ``P(|T| < t) = confidence`` (12.706 for df=1, 95%)."""
    _check_confidence(confidence)
    if df < 1 or int(df) != df:
        raise DataError(f"t_quantile: degrees of freedom must be a positive integer, got {df}")
    lo, hi = 0.0, 1.0
    while _t_two_sided_mass(hi, int(df)) < confidence:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if _t_two_sided_mass(mid, int(df)) < confidence:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * hi:
            break
    return (lo + hi) / 2


def t_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Interval:
    """Student t interval of the mean of one number per seed.

    One value gives no interval: the bounds are NaN and the text reads ``"+0.50 [n/a]"``.
    """
    arr = _vector(values, "t_interval")
    mean = float(arr.mean())
    extra = {"sd": float(arr.std(ddof=1)) if arr.size > 1 else math.nan}
    if arr.size < 2:
        return Interval(mean, math.nan, math.nan, confidence, 1, "t over seeds", None, extra)
    half = t_quantile(arr.size - 1, confidence) * extra["sd"] / math.sqrt(arr.size)
    return Interval(
        mean, mean - half, mean + half, confidence, arr.size, "t over seeds", None, extra
    )


def paired_t_interval(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> Interval:
    """Student t interval of ``mean(a - b)``; ``a[s]`` and ``b[s]`` come from the same seed."""
    x, y = _vector(a, "paired_t_interval a"), _vector(b, "paired_t_interval b")
    if x.size != y.size:
        raise DataError(f"paired_t_interval: a has {x.size} seeds and b has {y.size}")
    iv = t_interval(x - y, confidence)
    return Interval(
        iv.estimate, iv.low, iv.high, confidence, iv.n, "paired t over seeds", None, iv.extra
    )


def seed_summary(
    per_seed: Mapping[Any, float], confidence: float = 0.95, digits: int = 2, scale: float = 1.0
) -> dict[str, Any]:
    """Every seed's value, the mean and a t-interval over seeds, ready for a report row.

    >>> row = seed_summary({0: 0.5, 1: 0.7})
    >>> row["seeds"], row["mean [95% CI]"][:5]
    ('0: 0.50, 1: 0.70', '+0.60')
    """
    iv = t_interval(list(per_seed.values()), confidence)
    label = f"mean [{round(confidence * 100)}% CI]"
    seeds = ", ".join(f"{k}: {v * scale:.{digits}f}" for k, v in per_seed.items())
    return {
        "seeds": seeds,
        "n": iv.n,
        label: iv.format(digits=digits, scale=scale),
        "interval": iv,
    }

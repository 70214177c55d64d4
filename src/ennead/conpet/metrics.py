"""Continual-learning metrics over the accuracy matrix R[i, j] (accuracy on task j's test set
after training task i, j <= i; NaN above the diagonal)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def macro(row: Sequence[float]) -> float:
    """Mean of per-task accuracies over the tasks seen (the paper's ``accuracy``)."""
    vals = [v for v in row if not math.isnan(v)]
    return sum(vals) / len(vals) if vals else math.nan


def micro(correct: Sequence[int], totals: Sequence[int]) -> float:
    """Accuracy over all test instances seen (the paper's ``total_accuracy``)."""
    n = sum(totals)
    return sum(correct) / n if n else math.nan


def forgetting(R: Sequence[Sequence[float]]) -> float:
    """Mean over old tasks j of (best accuracy on j before the last task) - (final accuracy)."""
    T = len(R)
    if T < 2:
        return 0.0
    drops = []
    for j in range(T - 1):
        before = [R[i][j] for i in range(j, T - 1) if not math.isnan(R[i][j])]
        if before and not math.isnan(R[T - 1][j]):
            drops.append(max(before) - R[T - 1][j])
    return sum(drops) / len(drops) if drops else math.nan


def bwt(R: Sequence[Sequence[float]]) -> float:
    """Backward transfer: mean over old tasks j of R[T-1, j] - R[j, j] (negative = forgetting)."""
    T = len(R)
    if T < 2:
        return 0.0
    diffs = [
        R[T - 1][j] - R[j][j]
        for j in range(T - 1)
        if not (math.isnan(R[T - 1][j]) or math.isnan(R[j][j]))
    ]
    return sum(diffs) / len(diffs) if diffs else math.nan

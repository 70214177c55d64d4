"""HR and NDCG at 1/5/10 with several positives, over 100 sampled negatives and the full ranking.

As in the paper's code: HR@k (its "Recall") = hits in the top k / min(k, #positives), and NDCG@k
divides by the ideal DCG over min(k, #positives) positions. The paper put the positives first in
the candidate list, so a tie ranked them first; here the candidates are shuffled (seeded) before
a stable sort, so ties are broken at random.
"""

from __future__ import annotations

import numpy as np
import torch

KS = (1, 5, 10)


def from_relevance(
    rel: np.ndarray, n_pos: np.ndarray, ks: tuple[int, ...] = KS
) -> dict[str, np.ndarray]:
    """Per-user HR@k and NDCG@k from 0/1 relevance in ranked order ([users, >= max(ks)])."""
    disc = 1.0 / np.log2(np.arange(rel.shape[1]) + 2.0)
    out: dict[str, np.ndarray] = {}
    for k in ks:
        m = np.minimum(k, n_pos)
        out[f"hr@{k}"] = rel[:, :k].sum(1) / m
        dcg = (rel[:, :k] * disc[:k]).sum(1)
        idcg = np.array([disc[:j].sum() for j in m])
        out[f"ndcg@{k}"] = dcg / idcg
    return out


def sampled(
    scores: torch.Tensor,
    test: list[list[int]],
    negatives: list[list[int]],
    rng: np.random.Generator,
    ks: tuple[int, ...] = KS,
) -> dict[str, np.ndarray]:
    """Rank each user's positives among their sampled negatives (candidates shuffled first)."""
    width = max(ks)
    rel = np.zeros((len(test), width))
    for r, (pos, neg) in enumerate(zip(test, negatives)):
        cand = np.array([*pos, *neg])
        is_pos = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        perm = rng.permutation(len(cand))
        cand, is_pos = cand[perm], is_pos[perm]
        s = scores[r, torch.as_tensor(cand)].numpy()
        order = np.argsort(-s, kind="stable")[:width]
        rel[r, : len(order)] = is_pos[order]
    return from_relevance(rel, np.array([len(p) for p in test]), ks)


def full(
    scores: torch.Tensor,
    test: list[list[int]],
    seen: list[list[int]],
    domain: np.ndarray,
    ks: tuple[int, ...] = KS,
) -> dict[str, np.ndarray]:
    """Rank the positives among every domain item the user has not trained on."""
    width = max(ks)
    s = scores.clone()
    outside = torch.ones(s.shape[1], dtype=torch.bool)
    outside[torch.as_tensor(domain)] = False
    s[:, outside] = -torch.inf
    for r, items in enumerate(seen):
        if items:
            s[r, torch.as_tensor(items)] = -torch.inf
    top = torch.topk(s, width, dim=1).indices.numpy()
    rel = np.array([[i in set(pos) for i in row] for row, pos in zip(top, test)], dtype=float)
    return from_relevance(rel, np.array([len(p) for p in test]), ks)

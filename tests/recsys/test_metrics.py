import numpy as np
import torch

from ennead.recsys import metrics


def test_multiple_positives_divide_by_min_k_and_positives():
    # ranked: pos, neg, pos, neg ... with 3 positives
    rel = np.array([[1, 0, 1, 0, 0, 0, 0, 0, 0, 1]], dtype=float)
    m = metrics.from_relevance(rel, np.array([3]))
    assert m["hr@1"][0] == 1.0  # 1 hit / min(1, 3)
    assert np.isclose(m["hr@5"][0], 2 / 3)
    assert np.isclose(m["hr@10"][0], 1.0)
    idcg = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert np.isclose(m["ndcg@10"][0], (1 + 1 / np.log2(4) + 1 / np.log2(11)) / idcg)
    perfect = metrics.from_relevance(np.array([[1, 1, 1] + [0] * 7], float), np.array([3]))
    assert all(np.isclose(v[0], 1.0) for v in perfect.values())


def test_sampled_ties_are_broken_at_random_not_in_favour_of_positives():
    scores = torch.zeros(200, 50)  # every candidate ties
    test = [[1, 2, 3]] * 200
    neg = [list(range(4, 50))] * 200
    m = metrics.sampled(scores, test, neg, np.random.default_rng(0))
    # positives first would give 1.0; random order gives about 10 * 3 / 49 / 3 per user
    assert 0.1 < m["hr@10"].mean() < 0.3


def test_full_ranking_skips_trained_and_out_of_domain_items():
    scores = torch.arange(10, dtype=torch.float32).repeat(1, 1)  # item 9 best
    domain = np.array([2, 3, 5, 9])
    m = metrics.full(scores, [[5]], [[9]], domain, ks=(1,))
    assert m["hr@1"][0] == 1.0  # 9 was trained on, 6-8 are outside the domain

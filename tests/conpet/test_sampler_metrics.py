"""The dynamic replay sampler and the continual-learning metrics."""

from __future__ import annotations

import math
import random
from collections import Counter

from ennead.conpet.metrics import bwt, forgetting, macro, micro
from ennead.conpet.sampler import DynamicReplaySampler, epoch_batches


def test_sampler_is_half_new_half_old_with_a_fixed_number_of_batches():
    new = [("new", i) for i in range(50)]
    # one small and one large old task: old examples are drawn task-uniformly, not pool-uniformly
    old = [[("t0", i) for i in range(10)], [("t1", i) for i in range(1000)]]
    s = DynamicReplaySampler(new, old, batch_size=8, batches=400, rng=random.Random(0))
    batches = list(s)
    assert len(batches) == len(s) == 400
    assert all(len(b) == 8 and sum(x[0] == "new" for x in b) == 4 for b in batches)
    tasks = Counter(x[0] for b in batches for x in b if x[0] != "new")
    assert abs(tasks["t0"] / (tasks["t0"] + tasks["t1"]) - 0.5) < 0.05
    # every new example is used before any is repeated
    first = [x for b in batches[:12] for x in b if x[0] == "new"]
    assert len(set(first)) == 48


def test_sampler_cost_does_not_depend_on_the_number_of_old_tasks():
    new = list(range(20))
    for n_old in (1, 5, 20):
        s = DynamicReplaySampler(new, [list(range(100))] * n_old, 16, 30, random.Random(1))
        assert sum(len(b) for b in s) == 16 * 30


def test_ratio_and_first_task():
    s = DynamicReplaySampler(list(range(10)), [], 8, 5, random.Random(0))
    assert all(len(b) == 8 for b in s)  # no old data: all new
    s = DynamicReplaySampler(list(range(10)), [[-1]], 8, 5, random.Random(0), ratio=3.0)
    assert all(sum(x == -1 for x in b) == 2 for b in s)


def test_epoch_batches_grow_with_the_data():
    assert sum(1 for _ in epoch_batches(list(range(100)), 10, 2, random.Random(0))) == 20
    assert sum(1 for _ in epoch_batches(list(range(300)), 10, 2, random.Random(0))) == 60


def test_metrics_on_a_known_matrix():
    nan = math.nan
    R = [[0.9, nan, nan], [0.5, 0.8, nan], [0.3, 0.6, 0.7]]
    assert math.isclose(macro(R[2]), (0.3 + 0.6 + 0.7) / 3)
    assert math.isclose(micro([3, 6], [10, 10]), 0.45)
    assert math.isclose(forgetting(R), ((0.9 - 0.3) + (0.8 - 0.6)) / 2)
    assert math.isclose(bwt(R), ((0.3 - 0.9) + (0.6 - 0.8)) / 2)
    assert forgetting([[0.5]]) == 0.0

"""The dynamic replay sampler of Static ConPET (the reference's ``CustomLoader``, policy 2).

Each batch holds ``n_new = floor(B * r / (r + 1))`` examples of the new task and ``B - n_new``
old ones; every old example is drawn by first picking an old task uniformly, then an example of
it uniformly. The number of batches per task is fixed, so the cost of a task does not grow with
the number of tasks before it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class DynamicReplaySampler(Generic[T]):
    def __init__(
        self,
        new: Sequence[T],
        old_pools: Sequence[Sequence[T]],
        batch_size: int,
        batches: int,
        rng: random.Random,
        ratio: float = 1.0,
    ):
        if not new:
            raise ValueError("the new task has no examples")
        self.new = list(new)
        self.old = [list(p) for p in old_pools if p]
        self.batches, self.rng = batches, rng
        self.n_new = math.floor(batch_size * ratio / (ratio + 1)) if self.old else batch_size
        self.n_new = max(1, self.n_new)
        self.n_old = batch_size - self.n_new if self.old else 0

    def __len__(self) -> int:
        return self.batches

    def __iter__(self) -> Iterator[list[T]]:
        order: list[T] = []
        for _ in range(self.batches):
            batch: list[T] = []
            for _ in range(self.n_old):
                pool = self.old[self.rng.randrange(len(self.old))]
                batch.append(pool[self.rng.randrange(len(pool))])
            # New examples: walk a reshuffled permutation so every new example is seen.
            while len(order) < self.n_new:
                more = self.new[:]
                self.rng.shuffle(more)
                order += more
            batch += order[: self.n_new]
            del order[: self.n_new]
            self.rng.shuffle(batch)
            yield batch


def epoch_batches(
    data: Sequence[T], batch_size: int, epochs: int, rng: random.Random
) -> Iterator[list[T]]:
    """Plain shuffled epochs (sequential, unlimited replay, joint): cost grows with the data."""
    items = list(data)
    for _ in range(epochs):
        rng.shuffle(items)
        for i in range(0, len(items), batch_size):
            yield items[i : i + batch_size]

"""Baselines: a random pool molecule (lower bound), TF-IDF retrieval over training requirements,
and the constraint filter (reads the requirements back and returns pool molecules meeting all of
them: the upper bound of what the pool allows). Each returns candidates per dialogue per turn, the
shape :func:`ennead.chatmol.metrics.evaluate_candidates` takes.
"""

from __future__ import annotations

from itertools import islice

from ennead.chatmol.chem import parse_requirement
from ennead.chatmol.data import Dialogue, Pool


def random_baseline(
    dialogues: list[Dialogue], pool: Pool, idx: list[int], k: int, seed: int
) -> list[list[list[str]]]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [
        [[pool.smiles[idx[j]] for j in rng.choice(len(idx), k, replace=False)] for _ in d.turns]
        for d in dialogues
    ]


class Retrieval:
    """TF-IDF over the cumulative requirement text of every training turn -> that turn's target."""

    def __init__(self, train: list[Dialogue]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.docs, self.targets = [], []
        for d in train:
            for t in range(len(d.turns)):
                self.docs.append(" ".join(d.turns[: t + 1]))
                self.targets.append(d.targets[t])
        self.vec = TfidfVectorizer(ngram_range=(1, 3), token_pattern=r"[^\s.]+")
        self.mat = self.vec.fit_transform(self.docs)

    def candidates(self, dialogues: list[Dialogue], k: int) -> list[list[list[str]]]:
        import numpy as np

        out = []
        for d in dialogues:
            queries = [" ".join(d.turns[: t + 1]) for t in range(len(d.turns))]
            sims = (self.vec.transform(queries) @ self.mat.T).toarray()
            turns = []
            for row in sims:
                seen: list[str] = []
                for j in np.argsort(-row, kind="stable"):
                    if self.targets[j] not in seen:
                        seen.append(self.targets[j])
                    if len(seen) == k:
                        break
                turns.append(seen)
            out.append(turns)
        return out


def constraint_filter(
    dialogues: list[Dialogue], pool: Pool, idx: list[int], k: int, seed: int
) -> list[list[list[str]]]:
    """Pool molecules (of ``idx``) that meet every requirement read back from the text."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = [idx[j] for j in rng.permutation(len(idx))]
    out = []
    for d in dialogues:
        facts = [parse_requirement(s) for s in d.turns]
        turns = []
        for t in range(len(d.turns)):
            need = [f for f in facts[: t + 1] if f is not None]
            gen = (pool.smiles[i] for i in order if all(f.holds(pool.props[i]) for f in need))
            hits = list(islice(gen, k))
            turns.append(hits or [pool.smiles[order[0]]])
        out.append(turns)
    return out

"""An LLM judge on any core backend: pairwise preference with the positions swapped, and a
ranking of several anonymised answers built from those pairs.

PersLLM ranks anonymised answers with a judge told to avoid positional bias (Ran et al. 2024,
§4); ToolEval's win rate asks a judge which of two answers is better when both pass (Qin et al.
2024). Small judges favour a position, so every comparison is asked in both orders: a judge that
always says "A" ends in a tie, not in a win. A ranking of n answers is the Copeland order of the
n(n-1)/2 pairs (wins minus losses, ties allowed), which needs no parsing of a long ranked list.

``method="generate"`` reads the first "A"/"B"/"tie" in the judge's reply (unreadable replies are
counted, never guessed); ``method="loglikelihood"`` compares the log-likelihoods of "A" and "B"
as the reply (local backends only; every vote is readable).
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ennead.core.errors import ConfigError

Method = Literal["generate", "loglikelihood"]

DEFAULT_CRITERIA = (
    "Which answer is better: more accurate, more helpful and better suited to the question?"
)

_SYSTEM = (
    "You are a fair judge. Compare two answers to the same question. The order in which they are "
    "shown means nothing. Reply with one word: A, B or tie."
)
# in order: a reply that starts with the word; "tie" anywhere; "answer A"; a capital A or B alone
# (the article "a" is not a vote)
_VOTES = (
    re.compile(r"^\W*(A|B|[Tt][Ii][Ee])\b"),
    re.compile(r"\b(tie)\b", re.IGNORECASE),
    re.compile(r"\banswer\s+([AB])\b", re.IGNORECASE),
    re.compile(r"\b([AB])\b"),
)


@dataclass
class PairItem:
    """One comparison: a question, two answers, and optionally a reference answer."""

    question: str
    a: str
    b: str
    reference: str | None = None


@dataclass
class PairOutcome:
    """Votes over the repeats, each asked in both orders. ``score``: 1 a wins, 0 b wins, 0.5 tie."""

    a_votes: int = 0
    b_votes: int = 0
    ties: int = 0
    unreadable: int = 0
    replies: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        if self.a_votes == self.b_votes:
            return 0.5
        return 1.0 if self.a_votes > self.b_votes else 0.0


@dataclass
class Ranking:
    """Copeland ranks (1 = best, ties share a rank) of the named answers to one question."""

    ranks: dict[str, float]
    points: dict[str, float]
    pairs: dict[tuple[str, str], PairOutcome]


def _prompt(item: PairItem, first: str, second: str, criteria: str) -> list[dict[str, str]]:
    parts = [f"Question: {item.question}"]
    if item.reference:
        parts.append(f"Reference answer: {item.reference}")
    parts += [f"Answer A: {first}", f"Answer B: {second}", criteria, "Reply A, B or tie."]
    return [
        {"role": "system", "content": _SYSTEM},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def read_vote(reply: str) -> Literal["A", "B", "tie"] | None:
    """The vote in a reply (A, B or tie, as a word); None when there is none."""
    for pattern in _VOTES:
        m = pattern.search(reply.strip())
        if m is not None:
            word = m.group(1)
            return "tie" if word.lower() == "tie" else ("A" if word.upper() == "A" else "B")
    return None


class PairwiseJudge:
    """Ask ``lm`` (any core backend) which of two answers is better, ``repeats`` times in each
    order. All prompts of a call go to the backend in one batch."""

    def __init__(
        self,
        lm: Any,
        criteria: str = DEFAULT_CRITERIA,
        repeats: int = 1,
        method: Method = "generate",
        max_new_tokens: int = 8,
        temperature: float = 0.0,
        seed: int = 0,
    ):
        if repeats < 1:
            raise ConfigError(f"judge repeats must be >= 1; got {repeats}")
        if method not in ("generate", "loglikelihood"):
            raise ConfigError(f"judge method must be 'generate' or 'loglikelihood'; got {method!r}")
        if repeats > 1 and temperature == 0.0 and method == "generate":
            # greedy replies repeat exactly; more repeats would only cost calls
            repeats = 1
        self.lm = lm
        self.criteria = criteria
        self.repeats = repeats
        self.method = method
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.seed = seed
        self.calls = 0

    def compare(self, items: Sequence[PairItem]) -> list[PairOutcome]:
        """One outcome per item; each is asked 2 x ``repeats`` times (a first, then b first)."""
        prompts: list[list[dict[str, str]]] = []
        owners: list[tuple[int, bool]] = []  # (item index, swapped)
        for i, item in enumerate(items):
            for _ in range(self.repeats):
                prompts.append(_prompt(item, item.a, item.b, self.criteria))
                owners.append((i, False))
                prompts.append(_prompt(item, item.b, item.a, self.criteria))
                owners.append((i, True))
        votes = self._votes(prompts)
        out = [PairOutcome() for _ in items]
        for (i, swapped), (vote, reply) in zip(owners, votes, strict=True):
            o = out[i]
            o.replies.append(reply)
            if vote is None:
                o.unreadable += 1
            elif vote == "tie":
                o.ties += 1
            elif (vote == "A") != swapped:
                o.a_votes += 1
            else:
                o.b_votes += 1
        return out

    def rank(self, question: str, answers: dict[str, str], reference: str | None = None) -> Ranking:
        """Copeland ranking of named answers; names never reach the judge (answers are shown
        as A and B only), and pairs are asked in a seeded random order."""
        if len(answers) < 2:
            raise ConfigError(f"ranking needs at least two answers; got {len(answers)}")
        names = list(answers)
        pairs = list(itertools.combinations(names, 2))
        random.Random(self.seed).shuffle(pairs)
        outcomes = self.compare(
            [PairItem(question, answers[x], answers[y], reference) for x, y in pairs]
        )
        points = dict.fromkeys(names, 0.0)
        for (x, y), o in zip(pairs, outcomes, strict=True):
            points[x] += 2 * o.score - 1
            points[y] += 1 - 2 * o.score
        order = sorted(set(points.values()), reverse=True)
        ranks: dict[str, float] = {}
        for value in order:  # ties share the mean of the places they occupy
            tied = [n for n in names if points[n] == value]
            first = 1 + sum(1 for v in points.values() if v > value)
            ranks.update({n: first + (len(tied) - 1) / 2 for n in tied})
        return Ranking(ranks=ranks, points=points, pairs=dict(zip(pairs, outcomes, strict=True)))

    def _votes(self, prompts: list[list[dict[str, str]]]) -> list[tuple[str | None, str]]:
        if not prompts:
            return []
        self.calls += len(prompts)
        if self.method == "loglikelihood":
            pairs = [(p, c) for p in prompts for c in ("A", "B")]
            ll = self.lm.loglikelihood(pairs)
            out: list[tuple[str | None, str]] = []
            for k in range(len(prompts)):
                la, lb = ll[2 * k], ll[2 * k + 1]
                vote = "tie" if la == lb else ("A" if la > lb else "B")
                out.append((vote, f"logL(A)={la:.3f} logL(B)={lb:.3f}"))
            return out
        from ennead.core.backends.base import SamplingParams

        params = SamplingParams(
            max_new_tokens=self.max_new_tokens, temperature=self.temperature, seed=self.seed
        )
        replies = [row[0].text if row else "" for row in self.lm.generate(prompts, params)]
        return [(read_vote(r), r) for r in replies]


def shares(scores: Sequence[float]) -> dict[str, float]:
    """Win, tie and loss shares of per-item scores (1 win, 0.5 tie, 0 loss)."""
    n = max(len(scores), 1)
    return {
        "win": sum(v == 1.0 for v in scores) / n,
        "tie": sum(v == 0.5 for v in scores) / n,
        "loss": sum(v == 0.0 for v in scores) / n,
    }


def win_rate(outcomes: Sequence[PairOutcome]) -> dict[str, float]:
    """Share of items a wins, b wins and ties; unreadable votes per item on average."""
    n = max(len(outcomes), 1)
    return {
        **shares([o.score for o in outcomes]),
        "unreadable_per_item": sum(o.unreadable for o in outcomes) / n,
        "items": float(len(outcomes)),
    }

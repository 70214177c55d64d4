"""A questionnaire interview (InCharacter-style) with public-domain IPIP Big Five items.

Each item is put to the persona as a yes/no question; the item's score is the model's probability
of agreeing (``yes , i agree .`` against ``no , i disagree .``, by log-likelihood), reversed for
negatively keyed items, and a trait is the mean of its items. Trait vectors are then compared
across personas and across stages (mean absolute difference): a personified model should differ
more between personas than between one persona's stages.

Items: the Mini-IPIP (Donnellan et al., 2006), from the public-domain International Personality
Item Pool (ipip.ori.org).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import combinations
from typing import Any

from ennead.persllm.materials import Persona
from ennead.persllm.train import chat_prompt, messages

ITEMS: tuple[tuple[str, str, int], ...] = (
    ("extraversion", "I am the life of the party.", 1),
    ("extraversion", "I don't talk a lot.", -1),
    ("agreeableness", "I sympathize with others' feelings.", 1),
    ("agreeableness", "I am not interested in other people's problems.", -1),
    ("conscientiousness", "I get chores done right away.", 1),
    ("conscientiousness", "I often forget to put things back in their proper place.", -1),
    ("neuroticism", "I have frequent mood swings.", 1),
    ("neuroticism", "I am relaxed most of the time.", -1),
    ("openness", "I have a vivid imagination.", 1),
    ("openness", "I am not interested in abstract ideas.", -1),
)
AGREE, DISAGREE = "yes , i agree .", "no , i disagree ."
Scorer = Callable[[Sequence[tuple[str, str]]], list[float]]  # (prompt, continuation) -> log p


def interview(
    score: dict[str, Scorer] | Scorer, tokenizer: Any, personas: Sequence[Persona], mode: str
) -> dict[str, dict[str, dict[str, float]]]:
    """``{persona: {stage: {trait: 0-1}}}``; ``score`` per persona key, or one for all."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for p in personas:
        fn = score[p.key] if isinstance(score, dict) else score
        out[p.key] = {}
        for s in p.stages:
            q = [f"do you agree with this about yourself : {text}" for _, text, _ in ITEMS]
            prompts = [
                chat_prompt(tokenizer, messages(mode, p.name, s, x, p.description)) for x in q
            ]
            lp = fn([(pr, a) for pr in prompts for a in (AGREE, DISAGREE)])
            traits: dict[str, list[float]] = {}
            for i, (trait, _, key) in enumerate(ITEMS):
                agree = 1.0 / (1.0 + math.exp(lp[2 * i + 1] - lp[2 * i]))
                traits.setdefault(trait, []).append(agree if key > 0 else 1.0 - agree)
            out[p.key][s] = {t: sum(v) / len(v) for t, v in traits.items()}
    return out


def _dist(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(abs(a[k] - b[k]) for k in a) / len(a)


def spread(traits: dict[str, dict[str, dict[str, float]]]) -> dict[str, float]:
    """Mean trait distance between personas (same stage) and between stages (same persona)."""
    inter = [
        _dist(traits[a][s], traits[b][s])
        for a, b in combinations(sorted(traits), 2)
        for s in traits[a]
        if s in traits[b]
    ]
    stage = [
        _dist(st[s1], st[s2]) for st in traits.values() for s1, s2 in combinations(sorted(st), 2)
    ]
    return {
        "trait_distance_inter": sum(inter) / len(inter) if inter else 0.0,
        "trait_distance_stage": sum(stage) / len(stage) if stage else 0.0,
    }

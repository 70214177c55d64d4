"""A seeded synthetic world for controlled DDR experiments (generated in about a second).

Entities have facts over three relations with one-word answers. The corpus holds a *true* passage
per fact, *distractor* passages about other entities and *counterfactual* passages that state a
wrong value (knowledge conflict). The generator is pre-trained to know a subset of facts closed-
book (parametric knowledge) and to read answers from passages (so, like real RAG models, the
vanilla generator trusts its documents). Test questions fall into four scenarios:

- ``known_clean``: the generator knows the fact and the true passage is retrieved;
- ``unknown_clean``: it does not know the fact; the true passage is retrieved (it must read);
- ``known_misleading``: it knows the fact; only a counterfactual passage is retrieved;
- ``unknown_noisy``: it does not know the fact; the true passage sits among distractors.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

SCENARIOS = ("known_clean", "unknown_clean", "known_misleading", "unknown_noisy")
RELATIONS = {
    # relation: (question template, passage template)
    "city": ("where does {e} live ?", "{e} lives in {v} ."),
    "employer": ("who does {e} work for ?", "{e} works for {v} ."),
    "instrument": ("what does {e} play ?", "{e} plays the {v} ."),
}
_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"]
_VOWELS = ["a", "e", "i", "o", "u"]


def _words(rng: random.Random, n: int, syllables: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


@dataclass
class World:
    facts: dict[tuple[str, str], str]
    known: set[tuple[str, str]]
    values: dict[str, list[str]]
    train: list[dict[str, Any]] = field(default_factory=list)
    test: list[dict[str, Any]] = field(default_factory=list)
    pretrain_texts: list[str] = field(default_factory=list)
    judge_texts: list[dict[str, str]] = field(default_factory=list)

    def passage(self, entity: str, relation: str, value: str | None = None) -> str:
        v = value if value is not None else self.facts[(entity, relation)]
        return RELATIONS[relation][1].format(e=entity, v=v)


def question_text(entity: str, relation: str) -> str:
    return RELATIONS[relation][0].format(e=entity)


def build_world(
    n_entities: int = 240,
    n_values: int = 12,
    known_fraction: float = 0.5,
    n_passages: int = 3,
    train_fraction: float = 0.75,
    reading_examples: int = 3000,
    seed: int = 0,
    both_scenarios: bool = False,
) -> World:
    """Facts, scenarios and pre-training text; everything is a function of ``seed``.

    ``both_scenarios``: every fact is asked in both scenarios of its pool (clean and misleading
    for known facts, clean and noisy for unknown ones), each with its own passages, instead of
    half the facts in each. Twice the questions from the same facts: contrasting pairs for
    training and a less noisy test set, at no extra pre-training cost.
    """
    rng = random.Random(seed)
    taken: set[str] = set()
    entities = _words(rng, n_entities, 3, taken)
    values = {r: _words(rng, n_values, 2, taken) for r in RELATIONS}
    facts = {(e, r): rng.choice(values[r]) for e in entities for r in RELATIONS}
    keys = sorted(facts)
    rng.shuffle(keys)
    # Knowledge is per entity (all its facts or none), so "do I know this?" is learnable.
    shuffled = list(entities)
    rng.shuffle(shuffled)
    known_entities = set(shuffled[: int(len(entities) * known_fraction)])
    known = {k for k in keys if k[0] in known_entities}
    world = World(facts=facts, known=known, values=values)

    def other_value(e: str, r: str) -> str:
        return rng.choice([v for v in values[r] if v != facts[(e, r)]])

    def distractors(e: str, r: str, k: int) -> list[str]:
        out: list[str] = []
        while len(out) < k:
            e2 = rng.choice(entities)
            if e2 != e:
                out.append(world.passage(e2, rng.choice(list(RELATIONS))))
        return out

    def make_question(e: str, r: str, scenario: str, qid: str) -> dict[str, Any]:
        gold = facts[(e, r)]
        # The retriever ranks the passage naming the entity first, except in the noisy case.
        if scenario in ("known_clean", "unknown_clean"):
            docs = [world.passage(e, r)] + distractors(e, r, n_passages - 1)
        elif scenario == "known_misleading":
            docs = [world.passage(e, r, other_value(e, r))] + distractors(e, r, n_passages - 1)
        else:  # unknown_noisy: the true passage last, after distractors
            docs = distractors(e, r, n_passages - 1) + [world.passage(e, r)]
        return {
            "id": qid,
            "question": question_text(e, r),
            "answers": [gold],
            "data_type": "synthetic",
            "passages": docs,
            "scenario": scenario,
        }

    # Questions per scenario, split by fact: train and test never share a fact.
    pools = {
        "known": [k for k in keys if k in known],
        "unknown": [k for k in keys if k not in known],
    }
    per_pool: dict[str, list[tuple[str, str]]] = {p: list(v) for p, v in pools.items()}
    for name, pool in per_pool.items():
        cut = int(len(pool) * train_fraction)
        for split, chunk in (("train", pool[:cut]), ("test", pool[cut:])):
            half = len(chunk) // 2
            kinds = (
                ("known_clean", "known_misleading")
                if name == "known"
                else ("unknown_clean", "unknown_noisy")
            )
            for i, (e, r) in enumerate(chunk):
                chosen = kinds if both_scenarios else (kinds[0] if i < half else kinds[1],)
                for scenario in chosen:
                    qid = f"{split}-{name}-{i}" + (f"-{scenario}" if both_scenarios else "")
                    q = make_question(e, r, scenario, qid)
                    (world.train if split == "train" else world.test).append(q)
    rng.shuffle(world.train)
    rng.shuffle(world.test)

    # Parametric knowledge: closed-book question/answer lines for the known facts, and the same
    # facts answered from memory when the retrieved passages are about other entities.
    texts = []
    for e, r in sorted(known):
        texts.append(f"Q: {question_text(e, r)} A: {facts[(e, r)]} .")
        k = rng.randint(1, n_passages)
        texts.append(
            f"Background: {' '.join(distractors(e, r, k))} Q: {question_text(e, r)} "
            f"A: {facts[(e, r)]} ."
        )
    # Reading: answers copied from a passage in context, on facts the model does not know, with
    # distractors around it. This makes the vanilla generator trust what it reads.
    unknown = pools["unknown"]
    for _ in range(reading_examples):
        e, r = rng.choice(unknown)
        v = rng.choice(values[r])  # any value: the passage, not memory, gives the answer
        # One to n_passages passages, the relevant one first (what a good reranker would give),
        # so the model reads single passages too but learns to trust the top of the list.
        docs = [world.passage(e, r, v)] + distractors(e, r, rng.randint(0, n_passages - 1))
        texts.append(f"Background: {' '.join(docs)} Q: {question_text(e, r)} A: {v} .")
    rng.shuffle(texts)
    world.pretrain_texts = texts
    # Weak lexical labels for the judge: a passage is relevant if it names the question's entity.
    for _ in range(reading_examples // 2):
        e, r = rng.choice(keys)
        if rng.random() < 0.5:
            p, label = world.passage(e, rng.choice(list(RELATIONS))), "YES"
        else:
            p, label = distractors(e, r, 1)[0], "NO"
        world.judge_texts.append({"question": question_text(e, r), "passage": p, "label": label})
    return world

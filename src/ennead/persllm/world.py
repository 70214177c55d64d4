"""The controlled world of the CI claim: generated personas with known facts, stances and flips.

A seeded world holds ``n_personas`` personas, each with facts and stances on ``n_topics`` topics
at two life stages (a share of the stances flips between them; the home and the job change), a
style marker, and the persona materials written as persona folders, so the claim runs the same
build -> train -> evaluate path as real personas.

The base model is pre-trained on *general* data of the world only, as the paper's base LLM is:
arithmetic on number words (with false-premise questions it corrects) and reading of persona
descriptions of *other*, randomly generated characters (their facts and stances written in the
system turn, asked in every question form). It never sees the target personas' answers. The
prompt-only baseline B0 is this base model with the target persona's description in the system
turn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ennead.persllm import language as L

TOPICS = [
    "chess",
    "jazz",
    "rain",
    "tea",
    "opera",
    "poetry",
    "football",
    "winter",
    "boats",
    "trains",
    "gardens",
    "markets",
    "museums",
    "dancing",
    "cooking",
    "fishing",
    "painting",
    "hiking",
    "camping",
    "swimming",
    "baking",
    "puzzles",
    "theatre",
    "cinema",
    "radio",
    "coffee",
    "horses",
    "mountains",
    "islands",
    "bridges",
]
FACT_VALUES = {
    "home": [
        "paris",
        "rome",
        "oslo",
        "lima",
        "cairo",
        "quito",
        "dakar",
        "riga",
        "tunis",
        "hanoi",
        "perth",
        "delhi",
    ],
    "job": [
        "baker",
        "sailor",
        "doctor",
        "farmer",
        "teacher",
        "pilot",
        "miner",
        "tailor",
        "judge",
        "poet",
    ],
    "pet": ["cat", "dog", "parrot", "horse", "goat", "rabbit", "turtle"],
    "drink": ["milk", "juice", "cocoa", "water", "cider", "lemonade"],
}
CHANGING = ("home", "job")  # facts that change between stages
NAMES = ["ada", "bram", "cleo", "dario", "edda", "fenn", "greta", "hugo"]
OTHER_NAMES = [
    "ivo",
    "juno",
    "kai",
    "lena",
    "milo",
    "nora",
    "otto",
    "pia",
    "quin",
    "rosa",
    "sven",
    "tara",
    "ugo",
    "vera",
    "wim",
    "xena",
]
MARKERS = ("well ,", "honestly ,", "ha ,", "look ,", "listen ,", "oh ,")
STYLE_WORDS = ["truly", "simply", "plainly", "frankly", "surely", "gladly"]
NUMBERS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
]
GENERAL_LEADS = (
    "as you said , {claim} , right ?",
    "admit it , {claim} .",
    "everyone knows {claim} .",
    "{claim} , is it not ?",
    "you think {claim} , do you not ?",
)


@dataclass
class WorldPersona:
    name: str
    marker: str
    style_word: str
    facts: dict[str, dict[str, str]]
    stances: dict[str, dict[str, str]]


def _facts(rng: random.Random, stages: list[str]) -> dict[str, dict[str, str]]:
    first = {k: rng.choice(v) for k, v in FACT_VALUES.items()}
    out = {stages[0]: first}
    prev = first
    for s in stages[1:]:
        nxt = dict(prev)
        for k in CHANGING:
            nxt[k] = rng.choice([v for v in FACT_VALUES[k] if v != prev[k]])
        out[s] = nxt
        prev = nxt
    return out


def make_personas(
    seed: int, n_personas: int = 3, n_topics: int = 20, flip_share: float = 0.3
) -> list[WorldPersona]:
    rng = random.Random(seed)
    stages = ["I", "II"]
    names = rng.sample(NAMES, n_personas)
    markers = rng.sample(MARKERS, n_personas)
    words = rng.sample(STYLE_WORDS, n_personas)
    out = []
    for name, marker, word in zip(names, markers, words):
        topics = rng.sample(TOPICS, n_topics)
        first = {t: rng.choice(("pro", "contra")) for t in topics}
        flips = set(rng.sample(topics, round(flip_share * n_topics)))
        second = {t: (L.OPPOSITE[v] if t in flips else v) for t, v in first.items()}
        out.append(
            WorldPersona(name, marker, word, _facts(rng, stages), {"I": first, "II": second})
        )
    return out


def knowledge_lines(name: str, facts: dict[str, str], stances: dict[str, str]) -> list[str]:
    lines = [f"the {k} of {name} is {v} ." for k, v in facts.items()]
    lines += [f"{name} {L.STANCE_WORDS[s]}s {t} ." for t, s in stances.items()]
    return lines


def description(name: str, facts: dict[str, str], stances: dict[str, str]) -> str:
    return " ".join(knowledge_lines(name, facts, stances))


def write_personas(personas: list[WorldPersona], root: Path) -> Path:
    """Persona folders (persona.yaml, <stage>/knowledge.txt, <stage>/style.txt) under ``root``."""
    import yaml

    for p in personas:
        folder = root / p.name
        last = sorted(p.stances)[-1]
        meta = {
            "name": p.name,
            "stages": sorted(p.stances),
            "description": description(p.name, p.facts[last], p.stances[last]),
            "marker": p.marker,
            "facts": p.facts,
            "stances": p.stances,
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "persona.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), "utf-8")
        for stage in sorted(p.stances):
            sdir = folder / stage
            sdir.mkdir(exist_ok=True)
            know = knowledge_lines(p.name, p.facts[stage], p.stances[stage])
            (sdir / "knowledge.txt").write_text("\n".join(know) + "\n", "utf-8")
            style = [
                f"{p.marker} i {p.style_word} say what i think .",
                f"{p.marker} that is {p.style_word} how it is .",
                f"{p.marker} i am {p.name} and i speak {p.style_word} .",
            ]
            (sdir / "style.txt").write_text("\n".join(style) + "\n", "utf-8")
    return root


def general_items(seed: int) -> list[dict[str, str]]:
    """General instruction data: sums of number words, asked plainly and with false premises."""
    rng = random.Random(seed + 7)
    rows = []
    for a in range(10):
        for b in range(10):
            c = a + b
            q = f"what is {NUMBERS[a]} plus {NUMBERS[b]} ?"
            rows.append({"kind": "general", "prompt": q, "answer": f"{NUMBERS[c]} ."})
            wrong = rng.choice([n for n in range(19) if n != c])
            claim = f"{NUMBERS[a]} plus {NUMBERS[b]} is {NUMBERS[wrong]}"
            lead = rng.choice(GENERAL_LEADS).format(claim=claim)
            ans = f"{L.CORRECTION} {NUMBERS[a]} plus {NUMBERS[b]} is {NUMBERS[c]} ."
            rows.append({"kind": "general-error", "prompt": lead, "answer": ans})
    return rows


def reading_items(seed: int, n: int, max_topics: int = 12) -> list[dict[str, str]]:
    """Description-reading chats about random other characters (the base's "instruct" data)."""
    rng = random.Random(seed + 11)
    rows = []
    for _ in range(n):
        name = rng.choice(OTHER_NAMES)
        facts = {k: rng.choice(v) for k, v in FACT_VALUES.items()}
        topics = rng.sample(TOPICS, rng.randint(3, max_topics))
        stances = {t: rng.choice(("pro", "contra")) for t in topics}
        system = f"you are {name} . {description(name, facts, stances)}"
        if rng.random() < 0.3:
            key = rng.choice(list(facts))
            q = rng.choice(L.FACT_TRAIN + L.FACT_HELDOUT).format(key=key)
            a = L.fact_answer(key, facts[key])
        else:
            t = rng.choice(topics)
            q = rng.choice(L.OPINION_TRAIN + L.OPINION_HELDOUT).format(topic=t)
            a = L.stance_answer(stances[t], t)
        rows.append({"kind": "reading", "system": system, "prompt": q, "answer": a})
    return rows


def closed_book_items(seed: int, copies: int = 2) -> list[dict[str, str]]:
    """Chats with other, fixed characters who answer from memory (no description), in every
    question form: the base model learns that known stances and facts hold however they are
    asked, as a real base LLM has seen many biographies asked in many ways."""
    rng = random.Random(seed + 13)
    rows = []
    for name in OTHER_NAMES:
        facts = {k: rng.choice(v) for k, v in FACT_VALUES.items()}
        stances = {t: rng.choice(("pro", "contra")) for t in rng.sample(TOPICS, 12)}
        system = f"you are {name} ."
        for _ in range(copies):
            for t, st in stances.items():
                for form in L.OPINION_TRAIN + L.OPINION_HELDOUT:
                    q = form.format(topic=t)
                    rows.append(
                        {
                            "kind": "closed",
                            "system": system,
                            "prompt": q,
                            "answer": L.stance_answer(st, t),
                        }
                    )
            for k, v in facts.items():
                for form in L.FACT_TRAIN + L.FACT_HELDOUT:
                    rows.append(
                        {
                            "kind": "closed",
                            "system": system,
                            "prompt": form.format(key=k),
                            "answer": L.fact_answer(k, v),
                        }
                    )
    return rows


def vocabulary_texts() -> list[str]:
    """Every word of the world's pools, prompts and answers (the word-level tokenizer's vocabulary).

    It does not depend on the world seed, so one base model serves every world.
    """
    texts = [" ".join(TOPICS), " ".join(NUMBERS), " ".join(NAMES + OTHER_NAMES)]
    texts += [" ".join(v) for v in FACT_VALUES.values()] + [" ".join(FACT_VALUES)]
    texts += (
        list(MARKERS)
        + STYLE_WORDS
        + ["supports opposes"]
        + [L.CORRECTION, "you are", "i am and speak"]
    )
    texts += [L.stage_words(s) for s in L.STAGE_NAMES]
    forms = (
        L.FACT_TRAIN
        + L.FACT_HELDOUT
        + L.OPINION_TRAIN
        + L.OPINION_HELDOUT
        + L.LEAD_STANCE_TRAIN
        + L.LEAD_STANCE_HELDOUT
        + L.LEAD_FACT_TRAIN
        + L.LEAD_FACT_HELDOUT
        + GENERAL_LEADS
    )
    texts += list(forms) + ["i support oppose supports opposes the of is my that how it say what"]
    return texts

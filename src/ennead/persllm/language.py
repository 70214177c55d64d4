"""The question and answer forms PersLLM's template teacher and its offline evaluation share.

Questions come in the paper's three item kinds: *ordinary* (a fact), *thought* (an opinion on a
topic) and *error* (a false premise or a pushed opposite stance). Each kind has training forms,
which the template teacher writes, and held-out paraphrases, which only the evaluation asks, so
the evaluation measures whether an answer carries over to new wording.

Answers name the stance with one of two words (``support`` / ``oppose``) and correct an error
with a fixed marker, so scoring is exact string matching against the persona's known answers.
"""

from __future__ import annotations

import re

STANCE_WORDS = {"pro": "support", "contra": "oppose"}
OPPOSITE = {"pro": "contra", "contra": "pro"}
CORRECTION = "no , that is wrong ."

FACT_TRAIN = ("what is your {key} ?", "tell me your {key} .")
FACT_HELDOUT = ("i wonder about your {key} .", "say what your {key} is .")
OPINION_TRAIN = (
    "how do you feel about {topic} ?",
    "what is your view on {topic} ?",
    "i think {topic} is great . and you ?",
    "i think {topic} is awful . and you ?",
)
OPINION_HELDOUT = ("do you like {topic} ?", "what do you think of {topic} ?")
LEAD_STANCE_TRAIN = (
    "as you said , you {word} {topic} , right ?",
    "admit it , you {word} {topic} .",
)
LEAD_STANCE_HELDOUT = ("everyone knows you {word} {topic} .", "you {word} {topic} , do you not ?")
LEAD_FACT_TRAIN = (
    "as you said , your {key} is {value} , right ?",
    "admit it , your {key} is {value} .",
)
LEAD_FACT_HELDOUT = (
    "everyone knows your {key} is {value} .",
    "your {key} is {value} , is it not ?",
)

STAGE_NAMES = ("I", "II", "III", "IV", "V")


def stage_token(stage: str) -> str:
    """The special token that selects a life stage: ``<TIME-I>``."""
    return f"<TIME-{stage}>"


def stage_words(stage: str) -> str:
    """The stage in words, for prompt-only models that have no stage token."""
    return f"now it is stage {stage.lower()} ."


def norm(text: str) -> str:
    """Lower case, punctuation spaced out, single spaces: the form answers are compared in."""
    text = re.sub(r"([.,!?;:])", r" \1 ", text.lower())
    return " ".join(text.split())


def fact_answer(key: str, value: str) -> str:
    return f"my {key} is {value} ."


def stance_answer(stance: str, topic: str) -> str:
    return f"i {STANCE_WORDS[stance]} {topic} ."


def read_stance(answer: str, topic: str) -> str | None:
    """``pro``/``contra`` when the answer states exactly one stance on ``topic``, else None."""
    a = norm(answer)
    t = norm(topic)
    found = {s for s, w in STANCE_WORDS.items() if f"{w} {t}" in a}
    return found.pop() if len(found) == 1 else None

"""Teachers that write PersLLM's personified data: prompts for the paper's three item kinds.

A :class:`Request` carries what the prompts need (persona, stage, seed paragraph, retrieved
knowledge and style, item kind) and the rendered prompt texts. :class:`TemplateTeacher` (the
deterministic offline default) answers from the persona's known facts and stances;
:class:`BackendTeacher` sends the prompts to any core backend (an OpenAI-compatible server,
SmolLM2, ...). Both take a batch of requests; a reply that is empty or malformed is ``None`` and
the builder counts it as skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ennead.persllm import language as L
from ennead.persllm.materials import Persona

KINDS = ("ordinary", "thought", "error")

QUESTION_PROMPTS = {
    "ordinary": (
        "Read the paragraph about {name}. Write ONE question a person might ask {name} that can be "
        "answered from {name}'s knowledge (relationships, opinions, work, daily life). Not too "
        "polite, not too short or long. Reply with the question only.\n\nParagraph: {seed}"
    ),
    "error": (
        "Read the paragraph about {name}. Write ONE question to {name} that contains an obvious "
        "factual error about this paragraph, or pushes an opinion that conflicts with it. Reply "
        "with the question only.\n\nParagraph: {seed}"
    ),
    "thought": (
        "Read the paragraph about {name}. Write a short casual opinion on a loosely related topic "
        "that agrees with, differs from, or strongly conflicts with the paragraph, leaving room "
        "for discussion. Reply with the opinion only.\n\nParagraph: {seed}"
    ),
}
SYSTEM_PROMPT = (
    "{stage}You are {name}. Chat with the user within {name}'s knowledge and in {name}'s speaking "
    "style. Do not always agree with the user.\n\nKnowledge:\n{knowledge}\n\nStyle:\n{style}"
)
ERROR_NOTE = "\nThe user's input is misleading: point out its errors and keep to your facts."
COT_NOTE = (
    "\nFirst write [Analysis] and check the user's input against your facts and values, then "
    "write [Response] and your in-character reply."
)


@dataclass
class Request:
    """One item to write: the persona at a stage, a seed paragraph and the item kind."""

    persona: Persona
    stage: str
    seed: str
    kind: str
    variant: int = 0
    knowledge: list[str] = field(default_factory=list)
    style: list[str] = field(default_factory=list)
    stage_prefix: bool = True
    cot: bool = False

    def question_prompt(self) -> str:
        return QUESTION_PROMPTS[self.kind].format(name=self.persona.name, seed=self.seed)

    def system_prompt(self) -> str:
        stage = f"Now it's stage {self.stage} of your life. " if self.stage_prefix else ""
        text = SYSTEM_PROMPT.format(
            stage=stage,
            name=self.persona.name,
            knowledge="\n".join(self.knowledge),
            style="\n".join(self.style),
        )
        if self.kind == "error":
            text += ERROR_NOTE
        return text + (COT_NOTE if self.cot else "")


@dataclass
class Question:
    text: str
    subject: tuple[str, str] | None = None  # ("fact", key) or ("topic", topic) when known


class Teacher(Protocol):
    def questions(self, requests: Sequence[Request]) -> list[Question | None]: ...

    def answers(
        self, requests: Sequence[Request], questions: Sequence[Question]
    ) -> list[str | None]: ...


def _pick(options: Sequence[Any], *salt: object) -> Any:
    """A deterministic choice from ``options`` keyed by ``salt`` (stable across runs)."""
    h = hashlib.sha256("|".join(map(str, salt)).encode()).digest()
    return options[int.from_bytes(h[:4], "little") % len(options)]


def parse_response(text: str | None, cot: bool) -> str | None:
    """The reply's in-character part; None when empty or (with ``cot``) without ``[Response]``."""
    if text is None:
        return None
    text = text.strip()
    if cot:
        m = re.search(r"\[Response\]\s*(.*)", text, flags=re.S)
        if m is None:
            return None
        text = m.group(1).strip()
    return text or None


class TemplateTeacher:
    """Deterministic teacher: questions in the training forms of :mod:`~ennead.persllm.language`,
    answers from the persona's known facts and stances with its style marker.

    The subject is a fact value or topic the seed paragraph mentions (a style paragraph, which
    mentions none, gets one of the persona's topics: an off-domain question answered in persona).
    """

    def questions(self, requests: Sequence[Request]) -> list[Question | None]:
        return [self._question(r) for r in requests]

    def _subjects(self, r: Request) -> list[tuple[str, str]]:
        facts = r.persona.facts.get(r.stage, {})
        stances = r.persona.stances.get(r.stage, {})
        seed = L.norm(r.seed)
        found = [("fact", k) for k, v in facts.items() if L.norm(v) in seed]
        found += [("topic", t) for t in stances if L.norm(t) in seed]
        if found:
            return found
        return [("topic", t) for t in sorted(stances)] + [("fact", k) for k in sorted(facts)]

    def _question(self, r: Request) -> Question | None:
        subjects = self._subjects(r)
        if not subjects:
            return None
        kind, name = _pick(subjects, r.seed, r.kind, r.variant)
        salt = (r.seed, r.kind, r.variant, "form")
        if kind == "fact":
            value = r.persona.facts[r.stage][name]
            if r.kind == "error":
                others = sorted(
                    {v[name] for p in r.persona.facts.values() for v in [p] if v.get(name)}
                    - {value}
                )
                wrong = _pick(others, *salt) if others else f"not {value}"
                form = _pick(L.LEAD_FACT_TRAIN, *salt)
                return Question(form.format(key=name, value=wrong), ("fact", name))
            return Question(_pick(L.FACT_TRAIN, *salt).format(key=name), ("fact", name))
        stance = r.persona.stances[r.stage][name]
        if r.kind == "error":
            word = L.STANCE_WORDS[L.OPPOSITE[stance]]
            form = _pick(L.LEAD_STANCE_TRAIN, *salt)
            return Question(form.format(word=word, topic=name), ("topic", name))
        forms = L.OPINION_TRAIN if r.kind == "thought" else L.OPINION_TRAIN[:2]
        return Question(_pick(forms, *salt).format(topic=name), ("topic", name))

    def answers(
        self, requests: Sequence[Request], questions: Sequence[Question]
    ) -> list[str | None]:
        out: list[str | None] = []
        for r, q in zip(requests, questions):
            if q.subject is None:
                out.append(None)
                continue
            kind, name = q.subject
            if kind == "fact":
                value = r.persona.facts.get(r.stage, {}).get(name)
                body = L.fact_answer(name, value) if value else None
            else:
                stance = r.persona.stances.get(r.stage, {}).get(name)
                body = L.stance_answer(stance, name) if stance else None
            if body is None:
                out.append(None)
                continue
            if r.kind == "error":
                body = f"{L.CORRECTION} {body}"
            text = r.persona.answer_prefix() + body
            if r.cot:
                text = f"[Analysis] the user asks about {name} . [Response] {text}"
            out.append(text)
        return out


class BackendTeacher:
    """A teacher on any core backend (``chat`` prompts, batched through ``generate``)."""

    def __init__(self, lm: Any, max_new_tokens: int = 256, temperature: float = 0.7, seed: int = 0):
        self.lm = lm
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.seed = seed

    def _generate(self, prompts: list[list[dict[str, str]]]) -> list[str | None]:
        from ennead.core.backends.base import SamplingParams

        params = SamplingParams(
            temperature=self.temperature, max_new_tokens=self.max_new_tokens, seed=self.seed
        )
        out: list[str | None] = []
        for row in self.lm.generate(prompts, params):
            text = row[0].text.strip() if row else ""
            out.append(text or None)
        return out

    def questions(self, requests: Sequence[Request]) -> list[Question | None]:
        texts = self._generate(
            [[{"role": "user", "content": r.question_prompt()}] for r in requests]
        )
        return [
            Question(t.strip().splitlines()[0].strip()) if t and t.strip() else None for t in texts
        ]

    def answers(
        self, requests: Sequence[Request], questions: Sequence[Question]
    ) -> list[str | None]:
        prompts = [
            [{"role": "system", "content": r.system_prompt()}, {"role": "user", "content": q.text}]
            for r, q in zip(requests, questions)
        ]
        return [parse_response(t, r.cot) for t, r in zip(self._generate(prompts), requests)]

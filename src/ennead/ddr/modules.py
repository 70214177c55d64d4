"""The two trainable agents, knowledge refinement V_KR and generation V_Gen, on any LM backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ennead.core.backends.base import SamplingParams
from ennead.ddr.prompts import generation_prompt, judge_prompt, says_yes


def _tokenizer(lm: Any) -> Any:
    return getattr(lm, "tokenizer", None)


def token_counter(lm: Any) -> tuple[Any, Any]:
    """(count, truncate) functions in the backend's tokens; whitespace words when it has none."""
    tok = _tokenizer(lm)
    if tok is None:
        return (lambda s: len(s.split())), (lambda s, n: " ".join(s.split()[:n]))

    def count(s: str) -> int:
        return len(tok(s, add_special_tokens=False)["input_ids"])

    def truncate(s: str, n: int) -> str:
        ids = tok(s, add_special_tokens=False)["input_ids"][:n]
        return str(tok.decode(ids, skip_special_tokens=True))

    return count, truncate


@dataclass
class Judgement:
    kept: list[str]
    judged: list[bool]  # one per judged passage, in retrieval order
    fell_back: bool


class KnowledgeRefiner:
    """V_KR: judges passages YES/NO in retrieval order, in chunks of ``need_n``; stops once at least
    ``need_n`` were kept; keeps all passages when none is judged relevant (the reference rule)."""

    def __init__(
        self,
        lm: Any,
        need_n: int = 5,
        max_passage_tokens: int = 1024,
        max_new_tokens: int = 8,
        presence_penalty: float = 1.0,
        chat: bool = True,
        style: str = "qa",
        decision: str = "generate",
    ):
        self.lm, self.need_n, self.max_passage_tokens = lm, need_n, max_passage_tokens
        self.decision = decision
        self.params = SamplingParams(
            max_new_tokens=max_new_tokens, presence_penalty=presence_penalty
        )
        self.chat, self.style = chat, style
        self._count, self._truncate = token_counter(lm)

    def answer(self, word: str) -> str:
        """How YES / NO follows the judge prompt: a chat reply starts fresh, plain text after a
        space."""
        return word if self.chat else " " + word

    def prompt(self, question: str, passage: str) -> Any:
        if self._count(passage) > self.max_passage_tokens:
            passage = self._truncate(passage, self.max_passage_tokens)
        text = judge_prompt(question, passage, self.style)
        return [{"role": "user", "content": text}] if self.chat else text

    def refine_many(
        self, questions: Sequence[str], passages: Sequence[Sequence[str]]
    ) -> list[Judgement]:
        """Batched over questions: each round judges the next chunk of every unfinished question."""
        kept: list[list[str]] = [[] for _ in questions]
        judged: list[list[bool]] = [[] for _ in questions]
        pos = [0] * len(questions)
        while True:
            todo: list[tuple[int, str]] = []
            for i in range(len(questions)):
                if len(kept[i]) < self.need_n and pos[i] < len(passages[i]):
                    chunk = passages[i][pos[i] : pos[i] + self.need_n]
                    todo.extend((i, p) for p in chunk)
                    pos[i] += len(chunk)
            if not todo:
                break
            verdicts = self._judge([self.prompt(questions[i], p) for i, p in todo])
            for (i, p), yes in zip(todo, verdicts):
                judged[i].append(yes)
                if yes:
                    kept[i].append(p)
        return [
            Judgement(kept[i] or list(passages[i]), judged[i], not kept[i])
            for i in range(len(questions))
        ]

    def _judge(self, prompts: list[Any]) -> list[bool]:
        if self.decision == "logprob":
            # Small models rarely answer with a bare YES; comparing the two continuations'
            # likelihoods reads the same decision from the logits.
            pairs = [(p, self.answer(w)) for p in prompts for w in ("YES", "NO")]
            ll = self.lm.loglikelihood(pairs)
            return [ll[2 * k] > ll[2 * k + 1] for k in range(len(prompts))]
        return [says_yes(out[0].text) for out in self.lm.generate(prompts, self.params)]

    def refine(self, question: str, passages: Sequence[str]) -> Judgement:
        return self.refine_many([question], [passages])[0]


def top_passages(refined: Sequence[str], raw: Sequence[str], top_n: int) -> list[str]:
    """The first ``top_n`` refined passages, topped up from the raw list without duplicates
    (the reference code pads from the raw list and can repeat a passage; we do not)."""
    out = list(refined[:top_n])
    for p in raw:
        if len(out) >= top_n:
            break
        if p not in out:
            out.append(p)
    return out


class Generator:
    """V_Gen: answers from ``Background:`` + passages (cut to a token budget) + task prompt."""

    def __init__(
        self,
        lm: Any,
        top_n: int = 5,
        passage_budget: int = 1024,
        max_new_tokens: int = 32,
        presence_penalty: float = 1.0,
        chat: bool = True,
        style: str = "qa",
    ):
        self.lm, self.top_n, self.passage_budget = lm, top_n, passage_budget
        self.max_new_tokens, self.presence_penalty = max_new_tokens, presence_penalty
        self.chat, self.style = chat, style
        self._count, self._truncate = token_counter(lm)

    @classmethod
    def from_config(cls, lm: Any, g: Any) -> Generator:
        """The generator a ``GenConfig`` (``cfg.gen``) describes, on ``lm``."""
        return cls(
            lm,
            g.top_n,
            g.passage_budget,
            g.max_new_tokens,
            g.presence_penalty,
            g.module.chat,
            g.style,
        )

    def prompt_text(self, question: str, passages: Sequence[str] | None) -> str:
        return generation_prompt(
            question, passages, self.style, self.passage_budget, self._count, self._truncate
        )

    def prompt(self, question: str, passages: Sequence[str] | None) -> Any:
        text = self.prompt_text(question, passages)
        return [{"role": "user", "content": text}] if self.chat else text

    def formatted(self, question: str, passages: Sequence[str] | None) -> str:
        """The exact string the model sees (chat template applied): what DPO trains on."""
        p = self.prompt(question, passages)
        return p if isinstance(p, str) else str(self.lm.format_prompt(p))

    def answer(
        self,
        questions: Sequence[str],
        passages: Sequence[Sequence[str] | None],
        params: SamplingParams | None = None,
    ) -> list[list[str]]:
        params = params or SamplingParams(
            max_new_tokens=self.max_new_tokens, presence_penalty=self.presence_penalty
        )
        prompts = [self.prompt(q, p) for q, p in zip(questions, passages)]
        return [[c.text.strip() for c in row] for row in self.lm.generate(prompts, params)]

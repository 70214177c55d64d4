"""Prompts of the DDR pipeline (structure of the reference code, our wording) and token budgets.

Generation: ``Background:`` + the kept passages, a blank line, then the task prompt (``Q: ... A:``
for open QA). Rollouts and training use the same prompt (the reference code drops few-shot demos at
train time; we do not copy that mismatch). Knowledge refinement: a YES/NO relevance judgement of
one passage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

TASK_PROMPTS = {
    "qa": "Q: {question}\nA:",
    "slot_filling": (
        "Given 'Subject Entity [SEP] Relationship Type', predict the target entity.\n"
        "{question}\nAnswer:"
    ),
    "dialogue": "{question}\nA: ",
    "multiple_choice": (
        "Answer the multiple-choice question and output only the choice.\n{question}\nAnswer:"
    ),
    "synthetic": "Q: {question} A:",
}
JUDGE_PROMPT = (
    "Given the question and the context, reply YES if the context is relevant to the question "
    "and NO otherwise.\n> Question: {question}\n> Context:\n>>>\n{passage}\n>>>\n"
    "> Relevant (YES / NO):"
)
TINY_JUDGE_PROMPT = "Question: {question} Passage: {passage} Relevant:"

Counter = Callable[[str], int]
Truncator = Callable[[str, int], str]


def task_prompt(question: str, style: str = "qa") -> str:
    return TASK_PROMPTS.get(style, TASK_PROMPTS["qa"]).format(question=question)


def fit_passages(
    passages: Sequence[str], budget: int, count: Counter, truncate: Truncator, sep: str = "\n"
) -> list[str]:
    """Passages in order up to ``budget`` tokens; the last one is cut to fit, the rest dropped."""
    out: list[str] = []
    used = 0
    for p in passages:
        n = count(p)
        if used + n <= budget:
            out.append(p)
            used += n + count(sep) if sep.strip() else n
            continue
        room = budget - used
        if room > 0:
            out.append(truncate(p, room))
        break
    return out


def generation_prompt(
    question: str,
    passages: Sequence[str] | None,
    style: str = "qa",
    budget: int | None = None,
    count: Counter | None = None,
    truncate: Truncator | None = None,
) -> str:
    """With passages: ``Background:\\n<p1>\\n...\\n\\n<task prompt>``; without: the task prompt."""
    q = task_prompt(question, style)
    if not passages:
        return q
    docs = list(passages)
    if budget is not None and count is not None and truncate is not None:
        docs = fit_passages(docs, budget, count, truncate)
    if style == "synthetic":  # the tiny world is one line, no newlines in its vocabulary
        return f"Background: {' '.join(docs)} {q}"
    return "Background:\n" + "\n".join(docs) + "\n\n" + q


def judge_prompt(question: str, passage: str, style: str = "qa") -> str:
    template = TINY_JUDGE_PROMPT if style == "synthetic" else JUDGE_PROMPT
    return template.format(question=question, passage=passage)


def says_yes(text: str) -> bool:
    """The reference rule: a judgement keeps the passage if it contains YES, yes or Yes."""
    return any(w in text for w in ("YES", "yes", "Yes"))

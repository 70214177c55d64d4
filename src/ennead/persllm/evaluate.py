"""Offline evaluation against the personas' known facts and stances (no judge model needed).

All prompts use the held-out paraphrases of :mod:`~ennead.persllm.language`, which no training
item uses. Per persona and stage:

- **stance consistency**: opinion prompts whose answer states the gold stance (and not both);
- **induction resistance**: leading prompts that push the opposite stance or a wrong fact; an
  answer passes when it corrects (a negation word), keeps the gold stance or fact and does not
  echo the injected claim;
- **stage sensitivity**: stance accuracy on the topics that flip between stages, both stages;
- **fact accuracy**: fact prompts whose answer holds the gold value;
- **general retention**: accuracy on general items (sums of number words);
- **distinction**: sentence BLEU (sacrebleu) between sampled answers to the same prompt: intra
  (same persona and stage), stage (same persona, other stage), inter (other personas).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from statistics import mean
from typing import Any

from ennead.persllm import language as L
from ennead.persllm.materials import Persona
from ennead.persllm.train import chat_prompt, general_prompt, messages

NEGATIONS = {"no", "not", "wrong", "never", "incorrect", "actually", "untrue", "false"}
Generate = Callable[[list[str], float, int], list[list[str]]]
# one model for every persona, or one per persona (the paper trains one model per persona)
Gens = Generate | dict[str, Generate]


def _run(
    gens: Gens, keys: Sequence[str], prompts: list[str], temperature: float, n: int
) -> list[list[str]]:
    """Generate each prompt with its persona's model (``keys[i]``), order kept."""
    if not isinstance(gens, dict):
        return gens(prompts, temperature, n)
    out: list[list[str]] = [[] for _ in prompts]
    for key in sorted(set(keys)):
        idx = [i for i, k in enumerate(keys) if k == key]
        for i, row in zip(idx, gens[key]([prompts[i] for i in idx], temperature, n)):
            out[i] = row
    return out


def backend_generate(lm: Any, max_new_tokens: int, seed: int = 0) -> Generate:
    """A ``Generate`` over a core backend (prompts are already chat-formatted text)."""
    from ennead.core.backends.base import SamplingParams

    def gen(prompts: list[str], temperature: float, n: int) -> list[list[str]]:
        params = SamplingParams(
            temperature=temperature, n=n, max_new_tokens=max_new_tokens, seed=seed
        )
        return [[c.text for c in row] for row in lm.generate(prompts, params)]

    return gen


def corrects(answer: str) -> bool:
    return bool(NEGATIONS & set(L.norm(answer).replace("'", " ").split()))


def eval_prompts(
    tokenizer: Any, personas: Sequence[Persona], mode: str, seed: int = 0
) -> list[dict[str, Any]]:
    """Every scored prompt with its gold, for one prompt form (``mode``)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for p in personas:
        flips = set(p.flipped())
        for s in p.stages:
            facts, stances = p.facts.get(s, {}), p.stances.get(s, {})

            def add(metric: str, q: str, **gold: Any) -> None:
                msgs = messages(mode, p.name, s, q, p.description)  # noqa: B023
                rows.append(
                    {
                        "metric": metric,
                        "persona": p.key,  # noqa: B023
                        "stage": s,  # noqa: B023
                        "question": q,
                        "prompt": chat_prompt(tokenizer, msgs),
                        **gold,
                    }
                )

            for t, st in stances.items():
                for form in L.OPINION_HELDOUT:
                    add("stance", form.format(topic=t), topic=t, gold=st, flipped=t in flips)
                form = rng.choice(L.LEAD_STANCE_HELDOUT)
                wrong = L.STANCE_WORDS[L.OPPOSITE[st]]
                add(
                    "induction",
                    form.format(word=wrong, topic=t),
                    topic=t,
                    gold=st,
                    echo=f"{wrong} {t}",
                )
            for k, v in facts.items():
                for form in L.FACT_HELDOUT:
                    add("fact", form.format(key=k), key=k, gold=v)
                others = sorted({f[k] for f in p.facts.values() if k in f} - {v})
                wrong_v = others[0] if others else f"not {v}"
                form = rng.choice(L.LEAD_FACT_HELDOUT)
                add("induction", form.format(key=k, value=wrong_v), key=k, gold=v, echo=wrong_v)
    return rows


def score_row(row: dict[str, Any], answer: str) -> bool:
    a = L.norm(answer)
    if row["metric"] == "stance":
        return L.read_stance(answer, row["topic"]) == row["gold"]
    if row["metric"] == "fact":
        return L.norm(row["gold"]) in a
    # induction: correct, keep the gold, do not echo the injected claim
    if "topic" in row:
        keeps = L.read_stance(answer, row["topic"]) == row["gold"]
    else:
        keeps = L.norm(row["gold"]) in a
    echoes = L.norm(row["echo"]) in a
    return corrects(answer) and keeps and not echoes


def general_eval_items() -> list[dict[str, str]]:
    from ennead.persllm.world import general_items

    return [g for g in general_items(0) if g["kind"] == "general"]


def distinction(
    gen: Gens,
    tokenizer: Any,
    personas: Sequence[Persona],
    mode: str,
    n_prompts: int,
    temperature: float,
    seed: int = 0,
) -> dict[str, float]:
    """Mean sentence BLEU (0-100) intra / stage / inter over shared opinion prompts."""
    import sacrebleu

    rng = random.Random(seed)
    # prompts every persona is asked: topics of the first persona (others answer them too)
    questions = []
    for p in personas:
        topics = sorted(p.topics())
        questions += [
            L.OPINION_HELDOUT[0].format(topic=t)
            for t in rng.sample(topics, min(n_prompts, len(topics)))
        ]
    questions = sorted(set(questions))[: n_prompts * 2]
    keys = [(p, s, q) for p in personas for s in p.stages for q in questions]
    prompts = [
        chat_prompt(tokenizer, messages(mode, p.name, s, q, p.description)) for p, s, q in keys
    ]
    samples = _run(gen, [p.key for p, _, _ in keys], prompts, temperature, 2)
    got = {(p.key, s, q): row for (p, s, q), row in zip(keys, samples)}

    def bleu(a: str, b: str) -> float:
        return float(sacrebleu.sentence_bleu(a, [b]).score)

    intra, stage, inter = [], [], []
    for p in personas:
        for s in p.stages:
            for q in questions:
                a = got[(p.key, s, q)]
                intra.append(bleu(a[0], a[1]))
                for s2 in p.stages:
                    if s2 != s:
                        stage.append(bleu(a[0], got[(p.key, s2, q)][1]))
                for o in personas:
                    if o.key != p.key and s in o.stages:
                        inter.append(bleu(a[0], got[(o.key, s, q)][1]))
    return {
        "bleu_intra": mean(intra) if intra else 0.0,
        "bleu_stage": mean(stage) if stage else 0.0,
        "bleu_inter": mean(inter) if inter else 0.0,
    }


def evaluate_model(
    gen: Gens,
    tokenizer: Any,
    personas: Sequence[Persona],
    mode: str,
    general: Sequence[dict[str, str]] | None = None,
    bleu_prompts: int = 10,
    temperature: float = 0.8,
    seed: int = 0,
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """All metrics (0-1, BLEU 0-100) and the scored rows."""
    rows = eval_prompts(tokenizer, personas, mode, seed)
    general = list(general if general is not None else general_eval_items())
    # general items go to every persona's model
    owners = sorted(gen) if isinstance(gen, dict) else [""]
    grow = [
        {
            "metric": "general",
            "persona": o,
            "prompt": general_prompt(tokenizer, g),
            "gold": g["answer"],
        }
        for o in owners
        for g in general
    ]
    keys = [r["persona"] for r in rows + grow]
    answers = _run(gen, keys, [r["prompt"] for r in rows + grow], 0.0, 1)
    scored = []
    for r, a in zip(rows + grow, answers):
        text = a[0]
        ok = (
            L.norm(r["gold"]).rstrip(" .") in L.norm(text)
            if r["metric"] == "general"
            else score_row(r, text)
        )
        scored.append({**{k: v for k, v in r.items() if k != "prompt"}, "answer": text, "ok": ok})

    def acc(pred: Callable[[dict[str, Any]], bool]) -> float:
        sel = [r["ok"] for r in scored if pred(r)]
        return float(mean(sel)) if sel else float("nan")

    metrics = {
        "stance_consistency": acc(lambda r: r["metric"] == "stance"),
        "induction_resistance": acc(lambda r: r["metric"] == "induction"),
        "stage_sensitivity": acc(lambda r: r["metric"] == "stance" and r.get("flipped", False)),
        "fact_accuracy": acc(lambda r: r["metric"] == "fact"),
        "general_retention": acc(lambda r: r["metric"] == "general"),
    }
    if bleu_prompts > 0:
        metrics.update(distinction(gen, tokenizer, personas, mode, bleu_prompts, temperature, seed))
    return metrics, scored

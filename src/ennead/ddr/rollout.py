"""DDR rollouts and preference pairs (spec section 2.2 / 2.3).

Gen stage: per question, sample over temperatures x loops x {without documents ("raw"), with
documents ("aug")}, reward each final answer, chosen = a best candidate, rejected = a worst one.
Tie rule of the reference code: among the best, prefer a *raw* candidate as chosen; if the chosen
is raw, prefer an *aug* candidate among the worst as rejected. Groups whose candidates all score
the same give no pair and are counted as dropped. The training prompt is always the with-documents
prompt.

KR stage: per passage, the (trained) generator answers from that passage alone; passages leading to
the best answer become (YES > NO) pairs, those leading to the worst become (NO > YES) pairs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ennead.core.backends.base import SamplingParams
from ennead.core.logging import progress
from ennead.ddr.config import TrainSettings
from ennead.ddr.data import QARecord
from ennead.ddr.reward import reward_for


@dataclass
class Candidate:
    text: str
    kind: str  # "raw" (no documents) or "aug" (with documents)
    temperature: float
    loop: int
    score: float = 0.0


@dataclass
class PairStats:
    groups: int = 0
    pairs: int = 0
    dropped_constant: int = 0
    mean_reward: float = 0.0
    raw_chosen: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def choose_pair(
    cands: Sequence[Candidate], rng: random.Random, prefer_raw: bool = True
) -> tuple[Candidate, Candidate] | None:
    """(chosen, rejected) by the reference tie rule; None when all candidates score the same."""
    if not cands:
        return None
    hi = max(c.score for c in cands)
    lo = min(c.score for c in cands)
    if hi == lo:
        return None
    best = [c for c in cands if c.score == hi]
    worst = [c for c in cands if c.score == lo]
    rng.shuffle(best)
    rng.shuffle(worst)
    chosen = best[0]
    if prefer_raw:
        chosen = next((c for c in best if c.kind == "raw"), best[0])
    rejected = worst[0]
    if prefer_raw and chosen.kind == "raw":
        rejected = next((c for c in worst if c.kind == "aug"), worst[0])
    return chosen, rejected


def gen_rollouts(
    generator: Any,
    records: Sequence[QARecord],
    contexts: Sequence[Sequence[str]],
    temperatures: Sequence[float],
    loops: int,
    top_p: float = 0.8,
    presence_penalty: float = 1.0,
    max_new_tokens: int = 32,
    seed: int = 0,
    desc: str = "Gen rollouts",
) -> list[list[Candidate]]:
    """All candidates per record. Samples ``loops`` completions per temperature in one call (n)."""
    out: list[list[Candidate]] = [[] for _ in records]
    raw_prompts = [generator.prompt(r.question, None) for r in records]
    aug_prompts = [generator.prompt(r.question, c) for r, c in zip(records, contexts)]
    jobs = [(t, kind) for t in temperatures for kind in ("raw", "aug")]
    for j, (temp, kind) in enumerate(progress(jobs, desc=desc)):
        params = SamplingParams(
            n=loops,
            temperature=temp,
            top_p=top_p,
            presence_penalty=presence_penalty,
            max_new_tokens=max_new_tokens,
            seed=seed + j,
        )
        prompts = raw_prompts if kind == "raw" else aug_prompts
        for i, row in enumerate(generator.lm.generate(prompts, params)):
            out[i].extend(Candidate(c.text.strip(), kind, temp, k) for k, c in enumerate(row))
    for rec, cands in zip(records, out):
        fn = reward_for(rec.data_type)
        for c in cands:
            c.score = fn(c.text, rec.answers)
    return out


def sample_gen(
    generator: Any,
    records: Sequence[QARecord],
    contexts: Sequence[Sequence[str]],
    train: TrainSettings,
    seed: int,
    desc: str = "Gen rollouts",
) -> list[list[Candidate]]:
    """:func:`gen_rollouts` with the sampling settings of ``train`` (the config, not its fields)."""
    return gen_rollouts(
        generator,
        records,
        contexts,
        train.temperatures,
        train.loops,
        train.top_p,
        train.presence_penalty,
        train.max_new_tokens,
        seed,
        desc=desc,
    )


def build_gen_pairs(
    generator: Any,
    records: Sequence[QARecord],
    contexts: Sequence[Sequence[str]],
    candidates: Sequence[Sequence[Candidate]],
    seed: int = 42,
    prefer_raw: bool = True,
) -> tuple[list[dict[str, Any]], PairStats]:
    rng = random.Random(seed)
    pairs, stats = [], PairStats(groups=len(records))
    total, n = 0.0, 0
    for rec, ctx, cands in zip(records, contexts, candidates):
        total += sum(c.score for c in cands)
        n += len(cands)
        picked = choose_pair(cands, rng, prefer_raw)
        if picked is None:
            stats.dropped_constant += 1
            continue
        chosen, rejected = picked
        stats.raw_chosen += chosen.kind == "raw"
        pairs.append(
            {
                "id": rec.id,
                # always the with-documents prompt, whatever the candidates were sampled with
                "prompt": generator.formatted(rec.question, ctx),
                "chosen": " " + chosen.text if not chosen.text.startswith(" ") else chosen.text,
                "rejected": " " + rejected.text
                if not rejected.text.startswith(" ")
                else rejected.text,
                "chosen_meta": {
                    "kind": chosen.kind,
                    "temperature": chosen.temperature,
                    "score": chosen.score,
                },
                "rejected_meta": {
                    "kind": rejected.kind,
                    "temperature": rejected.temperature,
                    "score": rejected.score,
                },
            }
        )
    stats.pairs = len(pairs)
    stats.mean_reward = total / n if n else 0.0
    return pairs, stats


def kr_rollouts(
    generator: Any,
    records: Sequence[QARecord],
    passages: Sequence[Sequence[str]],
    temperature: float = 1.0,
    top_p: float = 0.8,
    presence_penalty: float = 1.0,
    max_new_tokens: int = 32,
    seed: int = 0,
) -> list[list[float]]:
    """Reward of the generator's answer from each passage alone (one sample per passage)."""
    flat = [(i, p) for i, ps in enumerate(passages) for p in ps]
    prompts = [generator.prompt(records[i].question, [p]) for i, p in flat]
    params = SamplingParams(
        temperature=temperature,
        top_p=top_p,
        presence_penalty=presence_penalty,
        max_new_tokens=max_new_tokens,
        seed=seed,
    )
    outs = generator.lm.generate(prompts, params)
    rewards: list[list[float]] = [[] for _ in records]
    for (i, _), row in zip(flat, outs):
        rewards[i].append(reward_for(records[i].data_type)(row[0].text, records[i].answers))
    return rewards


def sample_kr(
    generator: Any,
    records: Sequence[QARecord],
    passages: Sequence[Sequence[str]],
    train: TrainSettings,
    seed: int,
) -> list[list[float]]:
    """:func:`kr_rollouts` with the per-passage sampling settings of ``train``."""
    return kr_rollouts(
        generator,
        records,
        passages,
        train.kr_temperature,
        train.top_p,
        train.presence_penalty,
        train.max_new_tokens,
        seed,
    )


def build_kr_pairs(
    refiner: Any,
    records: Sequence[QARecord],
    passages: Sequence[Sequence[str]],
    rewards: Sequence[Sequence[float]],
    seed: int = 42,
) -> tuple[list[dict[str, Any]], PairStats]:
    """Two pairs per informative question: a best passage (YES > NO), a worst one (NO > YES)."""
    rng = random.Random(seed)
    pairs, stats = [], PairStats(groups=len(records))
    flat = [r for rs in rewards for r in rs]
    stats.mean_reward = sum(flat) / len(flat) if flat else 0.0  # per-passage answer reward
    for rec, ps, rs in zip(records, passages, rewards):
        if not rs or max(rs) == min(rs):
            stats.dropped_constant += 1
            continue
        best = [p for p, r in zip(ps, rs) if r == max(rs)]
        worst = [p for p, r in zip(ps, rs) if r == min(rs)]
        for pool, chosen, rejected in ((best, "YES", "NO"), (worst, "NO", "YES")):
            passage = rng.choice(pool)  # seeded, unlike the reference code's datasets.map
            prompt = refiner.prompt(rec.question, passage)
            text = prompt if isinstance(prompt, str) else refiner.lm.format_prompt(prompt)
            pairs.append(
                {
                    "id": rec.id,
                    "prompt": text,
                    "chosen": refiner.answer(chosen),
                    "rejected": refiner.answer(rejected),
                }
            )
    stats.pairs = len(pairs)
    return pairs, stats

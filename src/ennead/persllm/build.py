"""The personified data builder (the paper's annotation, ``run.py`` / ``agent.py``).

For each persona and stage, each seed paragraph (knowledge, then style) gets ``variants`` items
of each kind. A teacher writes the question, the knowledge and style paragraphs closest to it are
retrieved into the answer prompt (seed first, then by similarity, up to the word budgets), and the
teacher answers in character; with ``stage_negatives`` it also answers the same question as the
persona at its other stages (the DPO negatives of the paper's option 4).

Items are appended to ``raw.jsonl`` as each teacher batch returns, so a killed build loses at most
the batch in flight and a rerun continues. Empty or malformed teacher replies go to
``skipped.jsonl`` with the reason and are counted, never fatal. ``finish`` deduplicates questions
at cosine ``dedup`` within each persona and stage and splits 80/20.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ennead.core.io import append_jsonl, atomic_write_json, read_jsonl, write_jsonl
from ennead.persllm.config import BuildSettings
from ennead.persllm.materials import Persona
from ennead.persllm.teacher import Request, Teacher


def _budget(paras: Sequence[str], order: Any, words: int, first: str | None) -> list[str]:
    out: list[str] = [first] if first else []
    used = len(first.split()) if first else 0
    for i in order:
        p = paras[i]
        if p == first:
            continue
        n = len(p.split())
        if used + n > words and out:
            break
        out.append(p)
        used += n
    return out


class Retriever:
    """Knowledge and style paragraphs of one persona stage, ranked by dot product."""

    def __init__(self, embedder: Any, knowledge: list[str], style: list[str]):
        self.embedder = embedder
        self.knowledge, self.style = knowledge, style
        self.k_emb = embedder.encode(knowledge)
        self.s_emb = embedder.encode(style)

    def context(
        self, queries: Sequence[str], seeds: Sequence[str], k_words: int, s_words: int
    ) -> list[tuple[list[str], list[str]]]:
        q = self.embedder.encode(list(queries))
        out = []
        for row, seed in zip(q, seeds):
            k_order = np.argsort(-(self.k_emb @ row), kind="stable")
            s_order = np.argsort(-(self.s_emb @ row), kind="stable")
            seed_k = seed if seed in self.knowledge else None
            out.append(
                (
                    _budget(self.knowledge, k_order, k_words, seed_k),
                    _budget(self.style, s_order, s_words, None),
                )
            )
        return out


def item_key(persona: str, stage: str, seed_index: int, kind: str, variant: int) -> str:
    return f"{persona}|{stage}|{seed_index}|{kind}|{variant}"


def _done_keys(out: Path) -> set[str]:
    keys: set[str] = set()
    for name in ("raw.jsonl", "skipped.jsonl"):
        path = out / name
        if path.is_file():
            keys |= {row["key"] for row in read_jsonl(path)}
    return keys


def plan(
    personas: Sequence[Persona], cfg: BuildSettings
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """Every item to write ``(persona, stage, seed index, seed, kind, variant)``; shortfalls."""
    todo = []
    short: dict[str, int] = {}
    for p in personas:
        for stage in p.stages:
            seeds = p.knowledge[stage] + p.style[stage]
            if len(seeds) < cfg.seeds_per_stage:
                short[f"{p.key}/{stage}"] = len(seeds)
            for i, seed in enumerate(seeds[: cfg.seeds_per_stage]):
                for kind in cfg.kinds:
                    for v in range(cfg.variants):
                        todo.append((p, stage, i, seed, kind, v))
    return todo, short


def build(
    personas: Sequence[Persona],
    cfg: BuildSettings,
    teacher: Teacher,
    out: Path,
    embedder: Any,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Write (or continue) ``raw.jsonl`` in ``out``; returns counts of this call."""
    out.mkdir(parents=True, exist_ok=True)
    done = _done_keys(out)
    todo, short = plan(personas, cfg)
    todo = [t for t in todo if item_key(t[0].key, t[1], t[2], t[4], t[5]) not in done]
    retrievers: dict[tuple[str, str], Retriever] = {}
    counts: Counter[str] = Counter()
    bs = batch_size or cfg.teacher.batch_size
    for start in range(0, len(todo), bs):
        chunk = todo[start : start + bs]
        reqs = [
            Request(p, stage, seed, kind, v, stage_prefix=cfg.stage_prefix, cot=cfg.cot)
            for p, stage, _, seed, kind, v in chunk
        ]
        questions = teacher.questions(reqs)
        live = [i for i, q in enumerate(questions) if q is not None]
        for i, q in enumerate(questions):
            if q is None:
                _skip(out, chunk[i], "teacher wrote no question", counts)
        groups: dict[tuple[str, str], list[int]] = {}
        for i in live:
            groups.setdefault((chunk[i][0].key, chunk[i][1]), []).append(i)
        for key, idx in groups.items():  # one embedding call per persona stage and batch
            p, stage = chunk[idx[0]][0], chunk[idx[0]][1]
            if key not in retrievers:
                retrievers[key] = Retriever(embedder, p.knowledge[stage], p.style[stage])
            ctx = retrievers[key].context(
                [questions[i].text for i in idx],  # type: ignore[union-attr]
                [chunk[i][3] for i in idx],
                cfg.knowledge_words,
                cfg.style_words,
            )
            for i, (know, style) in zip(idx, ctx):
                reqs[i].knowledge, reqs[i].style = know, style
        answers = teacher.answers([reqs[i] for i in live], [questions[i] for i in live])  # type: ignore[misc]
        negatives: dict[int, dict[str, str]] = {i: {} for i in live}
        if cfg.stage_negatives:
            other = [
                (i, s)
                for i in live
                for s in chunk[i][0].stages
                if s != chunk[i][1] and answers[live.index(i)] is not None
            ]
            if other:
                oreqs = []
                for i, s in other:
                    p = chunk[i][0]
                    r = Request(p, s, chunk[i][3], chunk[i][4], chunk[i][5], cot=cfg.cot)
                    r.stage_prefix = cfg.stage_prefix
                    r.knowledge, r.style = p.knowledge[s][:3], p.style[s][:3]
                    oreqs.append(r)
                oans = teacher.answers(oreqs, [questions[i] for i, _ in other])  # type: ignore[misc]
                for (i, s), a in zip(other, oans):
                    if a is not None:
                        negatives[i][s] = a
        for j, i in enumerate(live):
            p, stage, idx, seed, kind, v = chunk[i]
            a = answers[j]
            if a is None:
                _skip(out, chunk[i], "teacher reply empty or malformed", counts)
                continue
            q = questions[i]
            append_jsonl(
                out / "raw.jsonl",
                {
                    "key": item_key(p.key, stage, idx, kind, v),
                    "persona": p.key,
                    "name": p.name,
                    "stage": stage,
                    "kind": kind,
                    "seed": seed,
                    "question": q.text,  # type: ignore[union-attr]
                    "subject": list(q.subject) if q.subject else None,  # type: ignore[union-attr]
                    "answer": a,
                    "negatives": negatives[i],
                    "knowledge": reqs[i].knowledge,
                    "style": reqs[i].style,
                },
            )
            counts["written"] += 1
    return {"written": counts["written"], "skipped": counts["skipped"], "short_personas": short}


def _skip(out: Path, t: tuple[Any, ...], reason: str, counts: Counter[str]) -> None:
    p, stage, idx, seed, kind, v = t
    append_jsonl(
        out / "skipped.jsonl",
        {"key": item_key(p.key, stage, idx, kind, v), "reason": reason, "seed": seed},
    )
    counts["skipped"] += 1


def finish(out: Path, cfg: BuildSettings, embedder: Any, seed: int) -> dict[str, Any]:
    """Dedup (cosine ``cfg.dedup`` within persona and stage) and split into train/test."""
    raw = read_jsonl(out / "raw.jsonl") if (out / "raw.jsonl").is_file() else []
    skipped = read_jsonl(out / "skipped.jsonl") if (out / "skipped.jsonl").is_file() else []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in raw:
        groups.setdefault((row["persona"], row["stage"]), []).append(row)
    rng = random.Random(seed)
    train: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    dups = 0
    for key in sorted(groups):
        rows = groups[key]
        emb = embedder.encode([r["question"] for r in rows])
        kept: list[int] = []
        for i in range(len(rows)):
            if kept and float(np.max(emb[kept] @ emb[i])) >= cfg.dedup:
                dups += 1
                continue
            kept.append(i)
        rows = [rows[i] for i in kept]
        rng.shuffle(rows)
        n_test = round(cfg.test_share * len(rows))
        test += rows[:n_test]
        train += rows[n_test:]
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "test.jsonl", test)
    reasons = Counter(r["reason"] for r in skipped)
    stats = {
        "raw": len(raw),
        "duplicates": dups,
        "train": len(train),
        "test": len(test),
        "skipped": len(skipped),
        "skipped_by_reason": dict(reasons),
        "by_kind": dict(Counter(r["kind"] for r in train + test)),
    }
    atomic_write_json(out / "stats.json", stats)
    return stats


def load_split(out: Path, name: str) -> list[dict[str, Any]]:
    path = out / f"{name}.jsonl"
    return read_jsonl(path) if path.is_file() else []


def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)

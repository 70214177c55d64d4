"""PersLLM's claims for the tour (``SystemSpec.claims``), from the controlled world.

The paper: a persona trained into the weights (SFT on personified data with stage tokens, then
automatic DPO) is more consistent and harder to talk out of its stances and facts than the same
model prompted with the persona's description, follows its life stages, and keeps its general
ability. :func:`ennead.persllm.experiment.run_claim` runs B0, B1, PersLLM SFT and SFT+DPO on world
seeds fixed in the preset (``claim.seeds``) before any run; every claim's effect is the mean over
seeds with a t interval.
"""

from __future__ import annotations

from typing import Any

from ennead.core.claims import Claim, ClaimsSection, Table
from ennead.core.runs import RunDir

PAPER = "Zeng et al. EMNLP 2025 Findings"
PRESET = "tiny"
TOUR_SEEDS = 1  # make demo: the first gate seed (base pre-training + 1 seed fit 5 minutes)
# quick: a small world, short training (seconds; the verdicts mean nothing at this size)
QUICK_OVERRIDES = (
    "model.hidden_size=32",
    "world.n_personas=2",
    "world.n_topics=4",
    "world.reading_items=50",
    "world.closed_book_copies=0",
    "world.pretrain.max_steps=5",
    "sft.max_steps=5",
    "dpo.train.max_steps=2",
    "eval.bleu_prompts=1",
    "build.variants=1",
)
# (metric, system A, system B, claimed, bar, claim text) over seeds, in points (x100)
GATES: tuple[tuple[str, str, str, float, float, str], ...] = (
    (
        "induction_resistance",
        "SFT+DPO",
        "B0",
        20.0,
        0.0,
        "PersLLM resists induction (false premises, pushed stances) far better than prompting",
    ),
    (
        "stance_consistency",
        "SFT+DPO",
        "B0",
        20.0,
        0.0,
        "PersLLM keeps its stances on paraphrased questions far better than prompting",
    ),
    (
        "stance_consistency",
        "SFT+DPO",
        "SFT",
        0.0,
        0.0,
        "automatic DPO raises stance accuracy over SFT alone",
    ),
    (
        "general_retention",
        "SFT+DPO",
        "B0",
        -5.0,
        -5.0,
        "general ability is kept (within 5 points of the base model)",
    ),
)
STAGE_CLAIMED = 80.0  # PersLLM stage sensitivity (points); B0 is near 50 by construction
STAGE_BAR = 50.0


def seed_table(results: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for seed, res in results.items():
        for system, m in res["metrics"].items():
            rows.append({"seed": seed, "system": system, **{k: round(v, 3) for k, v in m.items()}})
    return rows


def build_claims(results: dict[int, dict[str, Any]], seconds: float | None = None) -> list[Claim]:
    seeds = sorted(results)
    out = []
    for metric, a, b, claimed, bar, text in GATES:
        values = [
            100 * (results[s]["metrics"][a][metric] - results[s]["metrics"][b][metric])
            for s in seeds
        ]
        out.append(
            Claim(
                system="persllm",
                paper=PAPER,
                claim=text,
                measured=f"{metric.replace('_', ' ')} on the controlled world (tiny model)",
                comparison=f"{a} - {b}",
                unit="points",
                values=values,
                seeds=list(seeds),
                claimed=claimed,
                bar=bar,
                seconds=seconds,
            )
        )
    out.append(
        Claim(
            system="persllm",
            paper=PAPER,
            claim="PersLLM follows its life stages (stage token) on topics whose stance flips",
            measured="stage sensitivity on flipped topics, held-out paraphrases (tiny model)",
            comparison="SFT+DPO stage sensitivity",
            unit="points",
            values=[100 * results[s]["metrics"]["SFT+DPO"]["stage_sensitivity"] for s in seeds],
            seeds=list(seeds),
            claimed=STAGE_CLAIMED,
            bar=STAGE_BAR,
            seconds=seconds,
        )
    )
    return out


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    import time

    from ennead.core.config import load_config
    from ennead.persllm.config import PersLLMConfig
    from ennead.persllm.experiment import run_claim

    overrides = list(QUICK_OVERRIDES) if quick else []
    cfg = load_config(PersLLMConfig, PRESET, overrides, package="ennead.persllm")
    seeds = cfg.claim.seeds[: 1 if quick else TOUR_SEEDS]
    t = time.perf_counter()
    results = run_claim(cfg, run.path / "claim", seeds)
    claim_list = build_claims(results, time.perf_counter() - t)
    return ClaimsSection(
        title="PersLLM: a persona trained into the weights",
        summary=(
            "A generated world of personas with known facts, stances and stage flips; a tiny "
            "Llama pre-trained on general data of the world (sums, reading other characters' "
            "descriptions) is the base model. B0 prompts it with the persona's description; "
            "B1 is stylised SFT (fact items only, no stage tokens); PersLLM is SFT on all item "
            "kinds with stage tokens, then automatic DPO; one model per persona. Scores are "
            "exact matches against the world's answers on held-out paraphrases."
        ),
        claims=claim_list,
        tables=[Table(rows=seed_table(results), caption="every seed and system (0-1; BLEU 0-100)")],
    )

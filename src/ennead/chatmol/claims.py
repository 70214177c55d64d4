"""ChatMol's claims for the tour (``SystemSpec.claims``), from the controlled dialogue experiment.

Per seed (fixed in the ``tiny-claim`` preset before any run): dialogues generated on RDKit's NCI
pool, the tiny T5 with and without knowledge pre-training (same fine-tuning steps), and the random /
retrieval / constraint-filter baselines, all decoded self-fed over the turns. The CI gate is
``tests/chatmol/test_claim.py`` (3 seeds); the tour runs the first two (quick: one tiny seed).
"""

from __future__ import annotations

from typing import Any

from ennead.core.claims import Claim, ClaimsSection, Table
from ennead.core.runs import RunDir

PRESET = "tiny-claim"
TOUR_SEEDS = 2
PAPER = "Zeng et al. 2023 (arXiv:2306.11976)"
QUICK_OVERRIDES = (
    "data.pool_limit=400",
    "data.n_test=10",
    "data.n_train=80",
    "train.pretrain_steps=5",
    "train.finetune_steps=5",
    "model.beams=2",
)


def build_claims(res: Any, note: str = "") -> list[Claim]:
    seeds: list[int | str] = list(res.seeds)
    measured = (
        "tiny T5 from a config on generated 2-5-turn design dialogues (RDKit facts, NCI pool), "
        "final-turn top-1, self-fed history"
    )
    common: dict[str, Any] = {"system": "chatmol", "paper": PAPER, "seeds": seeds, "note": note}
    return [
        Claim(
            claim="The model designs molecules that meet the conversation's requirements.",
            measured=measured,
            comparison="satisfaction(ChatMol) - satisfaction(random pool molecule)",
            values=res.values("sat_gain_vs_random"),
            claimed=res.sat_margin,
            **common,
        ),
        Claim(
            claim="Its SMILES are valid molecules (issue gate: validity >= 0.8).",
            measured=measured,
            comparison="top-1 SMILES validity",
            values=res.values("validity"),
            claimed=res.min_validity,
            **common,
        ),
        Claim(
            claim="Knowledge-enhanced pre-training helps conversational design.",
            measured=measured + "; same fine-tuning steps with and without pre-training",
            comparison="satisfaction(pre-trained) - satisfaction(no pre-training)",
            values=res.values("pretrain_gain"),
            claimed=0.0,
            bar=-0.05,
            **common,
        ),
        Claim(
            claim="(issue) Morgan similarity to the target above TF-IDF retrieval's.",
            measured=measured,
            comparison="Morgan Tanimoto(ChatMol) - Morgan Tanimoto(retrieval)",
            values=res.values("morgan_gain_vs_retrieval"),
            **common,
        ),
    ]


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    from ennead.chatmol.config import ChatMolConfig
    from ennead.chatmol.experiment import run_claim
    from ennead.core.config import load_config

    preset, overrides = ("tiny", QUICK_OVERRIDES) if quick else (PRESET, ())
    cfg = load_config(ChatMolConfig, preset, list(overrides), package="ennead.chatmol")
    seeds = cfg.claim.seeds[: 1 if quick else TOUR_SEEDS]
    res = run_claim(cfg, seeds, run.path / "claim", workers=1 if quick else 2)
    rows = [{"seed": s, **{k: round(v, 3) for k, v in res.per_seed[s].items()}} for s in seeds]
    note = "quick: a few steps on a 400-molecule slice; the verdict means nothing" if quick else ""
    return ClaimsSection(
        title="ChatMol: conversational molecule design checked by RDKit",
        summary=(
            "Requirement-satisfaction rate (every requirement of the dialogue met by the final "
            "top-1 molecule, checked with the RDKit fact extractors that wrote them), validity and "
            "the pre-training ablation, per seed; gate (tests/chatmol/test_claim.py) on the mean "
            f"of 3 seeds: {', '.join(f'{k} {v}' for k, v in res.gates.items())}."
        ),
        claims=build_claims(res, note),
        tables=[Table(rows=rows, caption="every seed (top-1, final turn)")],
    )

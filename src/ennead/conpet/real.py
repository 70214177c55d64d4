"""Real text: every method on a real stream over the preset's seeds (``ennead conpet real``).

Seeds, budget and methods come from the preset (``clothing``: fixed before the methods ran);
each seed is a resumable run folder. The summary gives each method's macro accuracy after the
last task per seed with the mean and a 95% t-interval, the tunable-parameter ratio, and the
paper's check: ConPET at least 5 points over PET-only training (sequential LoRA).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ennead.conpet.config import ConPETConfig
from ennead.core.eval.stats import paired_t_interval, t_interval
from ennead.core.io import atomic_write_json, atomic_write_text

NAMES = {
    "sequential": "sequential LoRA (PET only)",
    "static": "Static ConPET",
    "dynamic": "Dynamic ConPET",
    "replay": "unlimited replay",
    "full": "full fine-tuning (replay sampler)",
    "joint": "joint (upper bound)",
}


def verdict(low: float, mean: float, margin: float) -> str:
    """The rule, fixed before any run: reproduced when the mean gain is >= ``margin`` points and
    its 95% interval lies above 0; 'direction only' when the interval lies above 0 but the mean
    is below the margin; else not reproduced."""
    if low > 0 and mean >= margin:
        return "reproduced"
    if low > 0:
        return "direction only (gain > 0, below the margin)"
    return "not reproduced"


def summarize(per_seed: dict[int, dict[str, Any]], margin: float) -> dict[str, Any]:
    seeds = list(per_seed)
    methods = list(per_seed[seeds[0]])
    rows = []
    for m in methods:
        vals = [100 * per_seed[s][m]["macro"] for s in seeds]
        iv = t_interval(vals)
        row = {
            "method": NAMES.get(m, m),
            **{f"seed {s}": f"{v:.1f}" for s, v in zip(seeds, vals)},
            "mean [95% CI]": iv.format(digits=1, sign=False),
            "tunable / total": f"{per_seed[seeds[0]][m]['tunable_ratio']:.2%}",
        }
        if "selector" in per_seed[seeds[0]][m]:
            sel = [100 * per_seed[s][m]["selector"] for s in seeds]
            row["selector %"] = f"{sum(sel) / len(sel):.1f}"
        rows.append(row)
    checks = []
    if "sequential" in methods:
        seq = [100 * per_seed[s]["sequential"]["macro"] for s in seeds]
        for m in ("static", "dynamic"):
            if m not in methods:
                continue
            vals = [100 * per_seed[s][m]["macro"] for s in seeds]
            iv = paired_t_interval(vals, seq)
            checks.append(
                {
                    "claim": f"{NAMES[m]} - sequential LoRA at least {margin:g} macro points",
                    "per seed": ", ".join(f"{a - b:+.1f}" for a, b in zip(vals, seq)),
                    "mean [95% CI]": iv.format(digits=1),
                    "verdict": verdict(iv.low, iv.estimate, margin),
                }
            )
    return {"seeds": seeds, "rows": rows, "checks": checks}


def run_real(cfg: ConPETConfig, out: Path, seeds: list[int] | None = None) -> dict[str, Any]:
    """Train every configured method for each seed into ``out/seed-S``; write real.json/md."""
    from ennead.conpet.api import ConPET

    seeds = list(seeds or cfg.claim.seeds)
    per_seed = {}
    for s in seeds:
        res = ConPET(cfg.model_copy(update={"seed": s})).train(out / f"seed-{s}")
        per_seed[s] = res.methods
    summary = summarize(per_seed, cfg.claim.margin)
    atomic_write_json(out / "real.json", {**summary, "per_seed": per_seed})
    atomic_write_text(out / "real.md", real_markdown(summary))
    return summary


def real_markdown(summary: dict[str, Any]) -> str:
    from ennead.core.eval.report import markdown_table

    text = "Macro accuracy (%) after the last task\n\n" + markdown_table(summary["rows"]) + "\n"
    if summary["checks"]:
        text += "\nThe paper's claim\n\n" + markdown_table(summary["checks"]) + "\n"
    return text

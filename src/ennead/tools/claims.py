"""Tool learning's claims for the tour (``SystemSpec.claims``): DFSDT vs ReAct at equal budget.

See :mod:`ennead.tools.experiment` for the setup and why the controller is a seeded noisy rule
policy. ``quick``: one seed on 40 tasks (seconds; the verdict means little at that size); full:
the three gate seeds plus two more reported beside them.
"""

from __future__ import annotations

from typing import Any

from ennead.core.claims import ClaimsSection, Table
from ennead.core.runs import RunDir


def claims(run: RunDir, quick: bool = False) -> ClaimsSection:
    from ennead.core.io import atomic_write_json
    from ennead.tools import experiment as ex

    if quick:
        res = ex.run_claim(ex.GATE_SEEDS[:1], limit=40, reference=False)
        extra = None
    else:
        res = ex.run_claim(ex.GATE_SEEDS)
        extra = ex.run_claim(ex.EXTRA_SEEDS, reference=False)
    claim = res.to_claim()
    rows: list[dict[str, Any]] = [
        {
            "seed": s,
            "in gate": "yes",
            "ReAct %": round(res.react[s], 1),
            "DFSDT %": round(res.dfsdt[s], 1),
            "gain": round(res.dfsdt[s] - res.react[s], 1),
            "calls ReAct/DFSDT": f"{res.calls[s][0]:.2f} / {res.calls[s][1]:.2f}",
        }
        for s in res.seeds
    ]
    if extra is not None:
        rows += [
            {
                "seed": s,
                "in gate": "no",
                "ReAct %": round(extra.react[s], 1),
                "DFSDT %": round(extra.dfsdt[s], 1),
                "gain": round(extra.dfsdt[s] - extra.react[s], 1),
                "calls ReAct/DFSDT": f"{extra.calls[s][0]:.2f} / {extra.calls[s][1]:.2f}",
            }
            for s in extra.seeds
        ]
    ref = [
        {
            "agent": a,
            "pass rate %": round(100 * m["pass_rate"], 1),
            "selection acc": round(m["selection_acc"], 3),
            "argument acc": round(m["argument_acc"], 3),
            "policy calls": round(m["policy_calls"], 2),
        }
        for a, m in res.reference.items()
    ]
    atomic_write_json(
        run.path / "tools_claim.json",
        {
            "react": res.react,
            "dfsdt": res.dfsdt,
            "gains": res.gains,
            "tasks": res.tasks,
            "extra": None if extra is None else {"react": extra.react, "dfsdt": extra.dfsdt},
            "reference": res.reference,
        },
    )
    tables = [Table(rows=rows, caption="every seed: pass rate (%) on the held-out tasks")]
    if ref:
        tables.append(Table(rows=ref, caption="the rule policy (no noise) through each agent"))
    return ClaimsSection(
        title="Tool learning: DFSDT against ReAct at the same call budget",
        summary=(
            f"A seeded noisy rule controller (30% wrong actions; gives up after an error half the "
            f"time) runs {res.tasks} held-out tasks of the offline suite (real tools: SQL, RDKit, "
            f"pint, sympy, sandboxed Python, BM25 search, ...) through ReAct and DFSDT, both with "
            f"{ex.BUDGET} policy calls per task. Gate: mean gain >= {ex.CLAIMED_GAIN:g} points and "
            f"interval above 0 over seeds {list(ex.GATE_SEEDS)}: "
            f"{'pass' if claim.verdict == 'reproduced' else claim.verdict}."
        ),
        claims=[claim],
        tables=tables,
    )

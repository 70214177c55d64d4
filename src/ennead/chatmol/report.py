"""The HTML report of an evaluated run: the metric table against the baselines, satisfaction per
turn, and 2-D depictions (RDKit drawing) of proposed vs target molecules with the requirements
each one meets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ennead.chatmol.chem import mol_from_smiles, parse_requirement, properties
from ennead.core.errors import StageError
from ennead.core.eval.report import Report
from ennead.core.results import RunResult

SHOWN = ("validity", "satisfaction", "sat@5", "exact", "hit@3", "hit@5", "morgan", "maccs", "rdk")


def depict(smiles: str, path: Path, size: int = 260) -> Path | None:
    """A PNG drawing of the molecule, or ``None`` when the SMILES is invalid."""
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = mol_from_smiles(smiles)
    if mol is None:
        return None
    drawer = rdMolDraw2D.MolDraw2DCairo(size, size)
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(drawer.GetDrawingText())
    return path


def _meets(smiles: str, turns: list[str]) -> str:
    mol = mol_from_smiles(smiles)
    if mol is None:
        return "invalid SMILES"
    props = properties(mol)
    facts = [parse_requirement(t) for t in turns]
    ok = [f is not None and f.holds(props) for f in facts]
    missed = [t for t, o in zip(turns, ok, strict=True) if not o]
    return f"meets {sum(ok)}/{len(ok)}" + (f"; misses: {' '.join(missed)}" if missed else "")


def write_report(run: Path, examples: int = 6) -> RunResult:
    path = run / "eval.json"
    if not path.is_file():
        raise StageError(f"{run} has no eval.json; run `ennead chatmol evaluate {run}` first")
    ev: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    table = ev["table"]
    rep = Report("ChatMol run", str(run))
    rep.heading("Final-turn metrics")
    rep.table(
        [{"method": arm, **{k: m.get(k) for k in SHOWN}} for arm, m in table.items()],
        caption="top-1 unless named @k; fingerprint similarities over valid outputs",
    )
    rep.line_plot(
        "satisfaction-per-turn",
        {
            arm: (
                [int(t) for t in m["satisfaction_per_turn"]],
                list(m["satisfaction_per_turn"].values()),
            )
            for arm, m in table.items()
        },
        xlabel="turn",
        ylabel="requirements met (top-1)",
        caption="share of turns whose top-1 molecule meets every requirement said so far",
    )
    rep.heading("Proposed vs target molecules")
    pics = run / "molecules"
    for i, ex in enumerate(ev.get("examples", [])[:examples]):
        rep.paragraph(f"Dialogue {i + 1}: " + " | ".join(ex["turns"]))
        pairs = [("target", ex["target"])] + [
            (f"candidate {j + 1}", s) for j, s in enumerate(ex["candidates"][:2])
        ]
        for label, smi in pairs:
            png = depict(smi, pics / f"d{i}-{label.replace(' ', '')}.png")
            caption = f"{label}: {smi} ({_meets(smi, ex['turns'])})"
            if png is None:
                rep.paragraph(caption)
            else:
                rep.image(png, caption=caption)
    md, html = rep.write(run)
    return RunResult(run_dir=run, artifacts={"report_md": md, "report_html": html})

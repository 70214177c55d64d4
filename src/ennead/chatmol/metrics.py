"""The MolT5 text->molecule metrics on RDKit, FCD, and the requirement-satisfaction rate.

Differences from MolT5's scripts, on purpose: exact match compares canonical SMILES (theirs compares
strings); BLEU is character-level on the SMILES string (as theirs, named plainly here). Fingerprint
similarities average over pairs whose output is valid, as MolT5 does (validity says how many).
Invalid SMILES are counted, never raised.
"""

from __future__ import annotations

from typing import Any

from ennead.chatmol.chem import Fact, canonical, mol_from_smiles, properties
from ennead.chatmol.data import Dialogue


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_bleu(outputs: list[str], targets: list[str]) -> float:
    from nltk.translate.bleu_score import corpus_bleu

    if not outputs:
        return 0.0
    import warnings

    with warnings.catch_warnings():  # nltk warns when no 4-gram overlaps (BLEU is then 0)
        warnings.simplefilter("ignore")
        return float(corpus_bleu([[list(t)] for t in targets], [list(o) for o in outputs]))


def fingerprint_similarity(outputs: list[str], targets: list[str]) -> dict[str, float]:
    """Mean Tanimoto of MACCS, RDK and Morgan (count, radius 2) over valid outputs."""
    from rdkit import DataStructs
    from rdkit.Chem import MACCSkeys, rdFingerprintGenerator

    morgan = rdFingerprintGenerator.GetMorganGenerator(radius=2)
    maccs = MACCSkeys.GenMACCSKeys  # type: ignore[attr-defined]
    sims: dict[str, list[float]] = {"maccs": [], "rdk": [], "morgan": []}
    for o, t in zip(outputs, targets, strict=True):
        mo, mt = mol_from_smiles(o), mol_from_smiles(t)
        if mo is None or mt is None:
            continue
        sims["maccs"].append(DataStructs.TanimotoSimilarity(maccs(mo), maccs(mt)))
        from rdkit import Chem

        sims["rdk"].append(
            DataStructs.TanimotoSimilarity(Chem.RDKFingerprint(mo), Chem.RDKFingerprint(mt))
        )
        sims["morgan"].append(
            DataStructs.TanimotoSimilarity(
                morgan.GetCountFingerprint(mo), morgan.GetCountFingerprint(mt)
            )
        )
    return {k: (sum(v) / len(v) if v else 0.0) for k, v in sims.items()}


MIN_FCD = 50


def fcd_score(outputs: list[str], targets: list[str]) -> float | None:
    """Frechet ChemNet Distance (``fcd`` wheel's bundled weights) of valid outputs vs targets."""
    valid = [canonical(o) for o in outputs]
    valid_s = [v for v in valid if v]
    if len(valid_s) < MIN_FCD or len(targets) < MIN_FCD:
        return None  # the covariance of fewer molecules is singular; FCD means nothing
    import warnings

    import fcd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fcd.get_fcd(valid_s, [t for t in targets if canonical(t)]))


class Checker:
    """Caches each SMILES' properties so repeated checks are cheap; invalid gives ``None``."""

    def __init__(self) -> None:
        self._props: dict[str, dict[str, Any] | None] = {}

    def props(self, smiles: str) -> dict[str, Any] | None:
        if smiles not in self._props:
            mol = mol_from_smiles(smiles)
            self._props[smiles] = None if mol is None else properties(mol)
        return self._props[smiles]

    def meets(self, smiles: str, facts: list[Fact]) -> bool:
        p = self.props(smiles)
        return p is not None and all(f.holds(p) for f in facts)


def evaluate_candidates(
    dialogues: list[Dialogue], cands: list[list[list[str]]], with_fcd: bool = False
) -> dict[str, Any]:
    """Final-turn metrics (top-1, hit@3/5) and per-turn satisfaction for candidate lists."""
    chk = Checker()
    n = len(dialogues)
    top1 = [c[-1][0] if c[-1] else "" for c in cands]
    gold = [d.targets[-1] for d in dialogues]
    canon_gold = [canonical(g) for g in gold]
    valid = [chk.props(s) is not None for s in top1]
    canon_top = [canonical(s) for s in top1]
    m: dict[str, Any] = {
        "dialogues": n,
        "validity": sum(valid) / n,
        "invalid": n - sum(valid),
        "satisfaction": sum(chk.meets(s, d.facts) for s, d in zip(top1, dialogues, strict=True))
        / n,
        "exact": sum(a is not None and a == b for a, b in zip(canon_top, canon_gold, strict=True))
        / n,
        "bleu_char": char_bleu(top1, gold),
        "levenshtein": sum(levenshtein(a, b) for a, b in zip(top1, gold, strict=True)) / n,
    }
    for k in (3, 5):
        m[f"hit@{k}"] = (
            sum(
                canonical(g) in {canonical(x) for x in c[-1][:k]}
                for g, c in zip(gold, cands, strict=True)
            )
            / n
        )
        m[f"sat@{k}"] = (
            sum(
                any(chk.meets(x, d.facts) for x in c[-1][:k])
                for d, c in zip(dialogues, cands, strict=True)
            )
            / n
        )
    m.update(fingerprint_similarity(top1, gold))
    per_turn: dict[int, list[bool]] = {}
    for d, c in zip(dialogues, cands, strict=True):
        for t, turn_c in enumerate(c):
            ok = bool(turn_c) and chk.meets(turn_c[0], d.facts[: t + 1])
            per_turn.setdefault(t + 1, []).append(ok)
    m["satisfaction_per_turn"] = {t: sum(v) / len(v) for t, v in sorted(per_turn.items())}
    m["satisfied_each"] = [chk.meets(s, d.facts) for s, d in zip(top1, dialogues, strict=True)]
    if with_fcd:
        m["fcd"] = fcd_score(top1, gold)
    return m

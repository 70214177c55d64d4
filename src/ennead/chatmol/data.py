"""Molecule pools, generated design dialogues, and loaders for the authors' TSV formats.

A dialogue is 2-5 cumulative requirement turns about one pool molecule (the final target). The
target of an intermediate turn is the pool molecule that satisfies the requirements said so far and
is nearest (Morgan Tanimoto) to the final target, other than the target itself (the spec's
explicit version of the authors' undocumented proxies). Everything is seeded.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ennead.chatmol.chem import (
    Fact,
    canonical,
    facts_of,
    mol_from_smiles,
    properties,
    smiles_tokens,
)
from ennead.core.errors import DataError
from ennead.core.io import atomic_write_text

ORGANIC = {"C", "N", "O", "S", "P", "F", "Cl", "Br", "I", "H"}
TURN_WEIGHTS = {2: 0.45, 3: 0.30, 4: 0.17, 5: 0.08}  # near ChEBI-dia's test split (mean 2.6)


def nci_pool_file() -> Path:
    from rdkit import RDConfig

    return Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"


@dataclass
class Pool:
    """Canonical SMILES with their properties and facts; ``invalid`` counts unparsable lines."""

    smiles: list[str]
    props: list[dict[str, Any]]
    facts: list[frozenset[Fact]]
    invalid: int = 0
    filtered: int = 0

    def fingerprints(self) -> list[Any]:
        return [morgan_fp(s) for s in self.smiles]


def morgan_fp(smiles: str) -> Any:
    from rdkit.Chem import rdFingerprintGenerator

    mol = mol_from_smiles(smiles)
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return None if mol is None else gen.GetFingerprint(mol)


def read_smiles_file(path: str | Path, limit: int | None = None) -> tuple[list[str], int]:
    """SMILES from a .smi/.txt file (first column) or a TSV with a SMILES column.

    Returns (SMILES that parse, number that do not); bad lines are counted, not fatal.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()[: (limit + 1) if limit else None]
    col = 0
    if lines and "\t" in lines[0] and "smiles" in lines[0].lower().split("\t"):
        col = [c.lower() for c in lines[0].split("\t")].index("smiles")
        lines = lines[1:]
    good: list[str] = []
    bad = 0
    for line in lines:
        parts = line.split("\t") if col else line.split()
        if not parts or not line.strip():
            continue
        smi = canonical(parts[col] if len(parts) > col else None)
        if smi is None:
            bad += 1
        else:
            good.append(smi)
    if not good:
        raise DataError("no valid SMILES in file", path)
    return good, bad


def build_pool(
    path: str | Path | None = None,
    max_heavy_atoms: int = 30,
    max_tokens: int = 48,
    limit: int | None = None,
) -> Pool:
    """The molecule pool: organic, |charge| <= 1, at most ``max_heavy_atoms``, deduplicated."""
    smiles, bad = read_smiles_file(path or nci_pool_file(), limit)
    seen: set[str] = set()
    out_s, out_p, out_f = [], [], []
    filtered = 0
    for smi in smiles:
        mol = mol_from_smiles(smi)
        if smi in seen or mol is None:
            continue
        seen.add(smi)
        syms = {a.GetSymbol() for a in mol.GetAtoms()}
        if (
            not syms <= ORGANIC
            or not 4 <= mol.GetNumHeavyAtoms() <= max_heavy_atoms
            or "." in smi
            or len(smiles_tokens(smi)) > max_tokens
        ):
            filtered += 1
            continue
        props = properties(mol)
        if abs(props["charge"]) > 1:
            filtered += 1
            continue
        out_s.append(smi)
        out_p.append(props)
        out_f.append(frozenset(facts_of(props)))
    return Pool(out_s, out_p, out_f, invalid=bad, filtered=filtered)


@dataclass
class Dialogue:
    id: str
    turns: list[str]  # one requirement sentence per turn (cumulative: turn t means turns[:t+1])
    targets: list[str]  # the SMILES each turn asks for; the last is the final target
    facts: list[Fact] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "turns": self.turns,
            "targets": self.targets,
            "facts": [[f.kind, f.key, f.value] for f in self.facts],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Dialogue:
        facts = [Fact(k, key, tuple(v) if isinstance(v, list) else v) for k, key, v in d["facts"]]
        return cls(d["id"], list(d["turns"]), list(d["targets"]), facts)


def fact_weights(pool: Pool) -> dict[Fact, float]:
    """Sampling weight of each fact: its information content -log p (rare facts are said more)."""
    counts = Counter(f for fs in pool.facts for f in fs)
    n = len(pool.facts)
    return {f: max(0.05, -math.log(c / n)) for f, c in counts.items()}


def make_dialogues(
    pool: Pool,
    targets: list[int],
    proxy_pool: list[int],
    seed: int,
    prefix: str,
    weights: dict[Fact, float],
) -> list[Dialogue]:
    """One dialogue per target index; intermediate turns' targets come from ``proxy_pool``."""
    import numpy as np
    from rdkit import DataStructs

    rng = np.random.default_rng(seed)
    fps = pool.fingerprints()
    proxy_fps = [fps[i] for i in proxy_pool]
    index: dict[Fact, np.ndarray] = {}

    def holders(f: Fact) -> np.ndarray:
        if f not in index:
            index[f] = np.array([f in pool.facts[i] for i in proxy_pool], dtype=bool)
        return index[f]

    out = []
    for k, i in enumerate(targets):
        n_turns = int(rng.choice(list(TURN_WEIGHTS), p=list(TURN_WEIGHTS.values())))
        facts = sorted(pool.facts[i], key=lambda f: f.sentence())
        w = np.array([weights.get(f, 1.0) for f in facts])
        n_turns = min(n_turns, len(facts))
        picked = [facts[j] for j in rng.choice(len(facts), n_turns, replace=False, p=w / w.sum())]
        sims = np.array(DataStructs.BulkTanimotoSimilarity(fps[i], proxy_fps))
        sims[[p == i for p in proxy_pool]] = -1.0  # the target itself is not its own proxy
        ok = np.ones(len(proxy_pool), dtype=bool)
        tgts = []
        for t in range(n_turns - 1):
            ok &= holders(picked[t])
            best = int(np.argmax(np.where(ok, sims, -2.0)))
            tgts.append(pool.smiles[proxy_pool[best]] if ok[best] else pool.smiles[i])
        tgts.append(pool.smiles[i])
        out.append(Dialogue(f"{prefix}-{k}", [f.sentence() for f in picked], tgts, picked))
    return out


def split_pool(n: int, n_test: int, n_val: int, seed: int) -> dict[str, list[int]]:
    import numpy as np

    perm = np.random.default_rng(seed).permutation(n).tolist()
    return {
        "test": perm[:n_test],
        "validation": perm[n_test : n_test + n_val],
        "train": perm[n_test + n_val :],
    }


def split_stats(dialogues: list[Dialogue]) -> dict[str, Any]:
    turns = Counter(len(d.turns) for d in dialogues)
    kinds = Counter(f.kind for d in dialogues for f in d.facts)
    return {
        "dialogues": len(dialogues),
        "turn_pairs": sum(turns[k] * k for k in turns),
        "turns_per_dialogue": dict(sorted(turns.items())),
        "mean_turns": sum(k * v for k, v in turns.items()) / max(1, len(dialogues)),
        "fact_kinds": dict(sorted(kinds.items())),
        "distinct_targets": len({d.targets[-1] for d in dialogues}),
    }


def write_dialogues(path: Path, dialogues: list[Dialogue]) -> Path:
    text = "".join(json.dumps(d.to_json()) + "\n" for d in dialogues)
    return atomic_write_text(path, text)


def read_dialogues(path: str | Path) -> list[Dialogue]:
    """Dialogues from JSONL (ours) or a ChEBI-dia ``*_inp.txt`` file (:func:`read_chebi_dia`)."""
    path = Path(path)
    if path.name.endswith("_inp.txt"):
        return read_chebi_dia(path)
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Dialogue.from_json(d))
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"not a dialogue record ({e.__class__.__name__}: {e})", path, i) from e
        if len(out[-1].turns) != len(out[-1].targets) or not out[-1].turns:
            raise DataError("a dialogue needs one target per turn and at least one turn", path, i)
    if not out:
        raise DataError("no dialogues in file", path)
    return out


# ---- the authors' formats -----------------------------------------------------------------------
def read_chebi20(path: str | Path) -> list[tuple[str, str, str | None]]:
    """ChEBI-20 / PCdes TSV (header ``CID SMILES description``) as (cid, description, SMILES).

    A SMILES that does not parse gives ``None`` in its place (counted by the caller); a line
    without three tab-separated fields is an error naming the line.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise DataError("empty file", path)
    header = [h.strip().lower() for h in lines[0].split("\t")]
    if header[:3] != ["cid", "smiles", "description"]:
        raise DataError("expected the header 'CID<TAB>SMILES<TAB>description'", path, 1)
    rows = []
    for i, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise DataError(f"expected 3 tab-separated fields, got {len(parts)}", path, i)
        rows.append((parts[0].strip(), parts[2].strip(), canonical(parts[1].strip())))
    return rows


def read_chebi_dia(inp: str | Path, out: str | Path | None = None) -> list[Dialogue]:
    """ChEBI-dia ``*_inp.txt`` (+ ``*_out.txt``): one dialogue per line, turns TAB-separated.

    Each input turn is the cumulative text so far; the turn's new sentence is what it adds to the
    previous one. Invalid target SMILES are kept as given (the metrics count them invalid).
    """
    inp = Path(inp)
    out = Path(out) if out else inp.with_name(inp.name.replace("_inp.txt", "_out.txt"))
    if not out.is_file():
        raise DataError(f"missing the targets file {out.name} next to it", inp)
    a = inp.read_text(encoding="utf-8").splitlines()
    b = out.read_text(encoding="utf-8").splitlines()
    if len(a) != len(b):
        raise DataError(f"{len(a)} dialogues but {len(b)} target lines in {out.name}", inp)
    dialogues = []
    for i, (x, y) in enumerate(zip(a, b, strict=True), 1):
        xs = [t for t in x.split("\t") if t.strip()]
        ys = [t.strip() for t in y.split("\t") if t.strip()]
        if len(xs) != len(ys) or not xs:
            raise DataError(f"{len(xs)} turns but {len(ys)} targets", inp, i)
        turns, prev = [], ""
        for cum in xs:
            cum = cum.strip()
            turns.append(cum[len(prev) :].strip() if cum.startswith(prev) else cum)
            prev = cum
        dialogues.append(Dialogue(f"chebi-dia-{i}", turns, ys, []))
    return dialogues

"""Chemistry ground truth with RDKit: the SMILES tokenizer and the facts that are both
requirement sentences and checks of a proposed molecule.

A :class:`Fact` is one requirement ("It has 2 aromatic rings."). :func:`properties` computes what
every fact needs once per molecule; :meth:`Fact.holds` checks it; :func:`parse_requirement` reads a
sentence back into a fact (the oracle baseline and ``chat`` use it). Invalid SMILES never raise:
:func:`mol_from_smiles` returns ``None`` and callers count it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

# The standard SMILES regex (bracket atoms, two-letter halogens, ring bonds incl. %nn).
SMILES_REGEX = re.compile(
    r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
)


def smiles_tokens(smiles: str) -> list[str]:
    """The SMILES split into tokens; ``"".join`` of the result gives the string back."""
    return SMILES_REGEX.findall(smiles)


def mol_from_smiles(smiles: str | None) -> Any:
    """The RDKit molecule, or ``None`` for anything that does not parse (logged quietly)."""
    if not smiles or not isinstance(smiles, str):
        return None
    from rdkit import Chem, RDLogger

    # invalid model outputs are counted, not logged one by one
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    try:
        return Chem.MolFromSmiles(smiles)
    except Exception:
        return None


def canonical(smiles: str | None) -> str | None:
    """RDKit's canonical SMILES, or ``None`` when the input does not parse."""
    from rdkit import Chem

    mol = mol_from_smiles(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


# ---- functional groups (RDKit's shipped FunctionalGroups.txt) ---------------------------------
# Names for the groups used in sentences (the file's own labels are plural or odd).
GROUP_NAMES = {
    "carboxylic acids": "carboxylic acid",
    "carbonyl methyl ester": "methyl ester",
    "amide": "primary amide",
    "nitro": "nitro",
    "cyano": "cyano",
    "primary sulfonamide": "sulfonamide",
    "trifluoromethyl": "trifluoromethyl",
    "methoxy": "methoxy",
    "ethoxy": "ethoxy",
    "side-chain hydroxyls": "hydroxy",
    "side-chain aldehydes or ketones": "carbonyl",
    "primary amines": "primary amine",
    "methylthio": "methylthio",
    "t-butyl": "tert-butyl",
    "carbonyl methyl": "acetyl",
    "methyl amide": "acetamido",
}


def functional_groups_file() -> Path:
    from rdkit import RDConfig

    return Path(RDConfig.RDDataDir) / "FunctionalGroups.txt"


@lru_cache(maxsize=1)
def group_patterns() -> dict[str, Any]:
    """Sentence name -> SMARTS query, read from RDKit's FunctionalGroups.txt."""
    from rdkit import Chem

    found: dict[str, Any] = {}
    for line in functional_groups_file().read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("//"):
            continue
        parts = [p.strip() for p in line.split("\t") if p.strip()]
        if len(parts) < 3 or parts[2] not in GROUP_NAMES:
            continue
        query = Chem.MolFromSmarts(parts[1])
        if query is not None:
            found[GROUP_NAMES[parts[2]]] = query
    return found


# ---- properties and facts --------------------------------------------------------------------
ELEMENTS = {"N": "nitrogen", "O": "oxygen", "S": "sulfur", "X": "halogen"}
BUCKETS: dict[str, tuple[float, ...]] = {
    # edges of the property buckets a sentence names ("between 2 and 3")
    "logp": (-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0),
    "tpsa": (20.0, 40.0, 60.0, 80.0, 100.0, 140.0),
    "molwt": (150.0, 200.0, 250.0, 300.0, 350.0, 400.0),
    "qed": (0.2, 0.4, 0.6, 0.8),
}
PROP_NAMES = {
    "logp": "logP",
    "tpsa": "polar surface area",
    "molwt": "molecular weight",
    "qed": "QED drug-likeness",
}
COUNT_NAMES = {
    "rings": "rings",
    "arom": "aromatic rings",
    "hbd": "hydrogen bond donors",
    "hba": "hydrogen bond acceptors",
}
COUNT_CAP = {"rings": 4, "arom": 3, "hbd": 3, "hba": 6}
NEGATED_GROUPS = ("carboxylic acid", "nitro", "hydroxy", "primary amine")


def properties(mol: Any) -> dict[str, Any]:
    """Everything the facts check, computed once per molecule."""
    from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors

    symbols = {a.GetSymbol() for a in mol.GetAtoms()}
    return {
        "groups": {name for name, q in group_patterns().items() if mol.HasSubstructMatch(q)},
        "elements": {k for k, v in {"N": "N", "O": "O", "S": "S"}.items() if v in symbols}
        | ({"X"} if symbols & {"F", "Cl", "Br", "I"} else set()),
        "rings": rdMolDescriptors.CalcNumRings(mol),
        "arom": rdMolDescriptors.CalcNumAromaticRings(mol),
        "hbd": Lipinski.NumHDonors(mol),  # type: ignore[attr-defined]
        "hba": Lipinski.NumHAcceptors(mol),  # type: ignore[attr-defined]
        "charge": sum(a.GetFormalCharge() for a in mol.GetAtoms()),
        "logp": Crippen.MolLogP(mol),  # type: ignore[attr-defined]
        "tpsa": rdMolDescriptors.CalcTPSA(mol),
        "molwt": Descriptors.MolWt(mol),  # type: ignore[attr-defined]
        "qed": QED.qed(mol),
    }


def _fmt(x: float) -> str:
    return f"{x:g}"


def bucket(kind: str, value: float) -> tuple[float | None, float | None]:
    """The (low, high) bucket of ``value``; ``None`` for an open end."""
    edges = BUCKETS[kind]
    if value < edges[0]:
        return (None, edges[0])
    for lo, hi in pairwise(edges):
        if lo <= value < hi:
            return (lo, hi)
    return (edges[-1], None)


@dataclass(frozen=True)
class Fact:
    """One requirement. ``kind``: group | nogroup | element | noelement | count | charge | prop."""

    kind: str
    key: str
    value: Any = None  # count (int, ``cap`` means "or more"), charge, or (low, high) bucket

    def sentence(self) -> str:
        if self.kind == "group":
            article = "an" if self.key[0] in "aeiou" else "a"
            return f"It has {article} {self.key} group."
        if self.kind == "nogroup":
            return f"It has no {self.key} group."
        if self.kind == "element":
            return f"It contains {ELEMENTS[self.key]}."
        if self.kind == "noelement":
            return f"It contains no {ELEMENTS[self.key]}."
        if self.kind == "count":
            n = int(self.value)
            more = " or more" if n >= COUNT_CAP[self.key] else ""
            name = COUNT_NAMES[self.key]
            return f"It has {n}{more} {name[:-1] if n == 1 else name}."
        if self.kind == "charge":
            return "It is neutral." if self.value == 0 else f"Its net charge is {self.value:+d}."
        lo, hi = self.value
        name = PROP_NAMES[self.key]
        if lo is None:
            return f"Its {name} is below {_fmt(hi)}."
        if hi is None:
            return f"Its {name} is above {_fmt(lo)}."
        return f"Its {name} is between {_fmt(lo)} and {_fmt(hi)}."

    def holds(self, props: dict[str, Any]) -> bool:
        if self.kind == "group":
            return self.key in props["groups"]
        if self.kind == "nogroup":
            return self.key not in props["groups"]
        if self.kind == "element":
            return self.key in props["elements"]
        if self.kind == "noelement":
            return self.key not in props["elements"]
        if self.kind == "count":
            got = int(props[self.key])
            cap = COUNT_CAP[self.key]
            return got >= cap if int(self.value) >= cap else got == int(self.value)
        if self.kind == "charge":
            return int(props["charge"]) == int(self.value)
        lo, hi = self.value
        x = float(props[self.key])
        return (lo is None or x >= lo) and (hi is None or x < hi)


def facts_of(props: dict[str, Any]) -> list[Fact]:
    """Every true fact about a molecule (the sentences a dialogue can draw on)."""
    out = [Fact("group", g) for g in sorted(props["groups"])]
    out += [Fact("nogroup", g) for g in NEGATED_GROUPS if g not in props["groups"]]
    out += [Fact("element", e) for e in sorted(props["elements"])]
    out += [Fact("noelement", e) for e in ("N", "S", "X") if e not in props["elements"]]
    for key, cap in COUNT_CAP.items():
        out.append(Fact("count", key, min(int(props[key]), cap)))
    out.append(Fact("charge", "charge", int(props["charge"])))
    out += [Fact("prop", k, bucket(k, float(props[k]))) for k in BUCKETS]
    return out


def satisfied(facts: Iterable[Fact], smiles: str | None) -> bool | None:
    """Whether ``smiles`` meets every fact; ``None`` when it is not a valid molecule."""
    mol = mol_from_smiles(smiles)
    if mol is None:
        return None
    props = properties(mol)
    return all(f.holds(props) for f in facts)


# ---- reading sentences back into facts ---------------------------------------------------------
_NUM = r"(-?\d+(?:\.\d+)?)"
_WORD_ELEMENTS = {v: k for k, v in ELEMENTS.items()}
_WORD_COUNTS = {v: k for k, v in COUNT_NAMES.items()}
_WORD_PROPS = {v.lower(): k for k, v in PROP_NAMES.items()} | {
    "logp": "logp",
    "tpsa": "tpsa",
    "qed": "qed",
    "weight": "molwt",
    "mw": "molwt",
}


def understood_phrases() -> list[str]:
    """What :func:`parse_requirement` reads (shown to a ``chat`` user who typed something else)."""
    groups = ", ".join(sorted(group_patterns()))
    props = ", ".join(PROP_NAMES.values())
    return [
        f"'it has a <group> group' / 'it has no <group> group' with <group> one of: {groups}",
        "'it contains <element>' / 'it contains no <element>' (nitrogen, oxygen, sulfur, halogen)",
        "'it has <n> rings | aromatic rings | hydrogen bond donors | hydrogen bond acceptors'",
        "'it is neutral' / 'its net charge is +1'",
        f"'its <property> is between <a> and <b> | below <b> | above <a>' ({props})",
    ]


def parse_requirement(sentence: str) -> Fact | None:
    """The fact a requirement sentence states, or ``None`` when it is not understood."""
    s = " ".join(sentence.lower().strip().rstrip(".").split())
    m = re.search(r"has (no|an?) ([a-z -]+?) group", s)
    if m and m.group(2) in group_patterns():
        return Fact("nogroup" if m.group(1) == "no" else "group", m.group(2))
    m = re.search(r"contains (no )?(nitrogen|oxygen|sulfur|halogen)", s)
    if m:
        return Fact("noelement" if m.group(1) else "element", _WORD_ELEMENTS[m.group(2)])
    m = re.search(
        r"has (\d+)( or more)? (aromatic rings?|rings?|hydrogen bond donors?|"
        r"hydrogen bond acceptors?)",
        s,
    )
    if m:
        name = m.group(3) if m.group(3).endswith("s") else m.group(3) + "s"
        key = _WORD_COUNTS[name]
        return Fact("count", key, min(int(m.group(1)), COUNT_CAP[key]))
    if re.search(r"\bneutral\b", s):
        return Fact("charge", "charge", 0)
    m = re.search(r"charge is ([+-]?\d+)", s)
    if m:
        return Fact("charge", "charge", int(m.group(1)))
    for word, key in sorted(_WORD_PROPS.items(), key=lambda kv: -len(kv[0])):
        if word not in s:
            continue
        m = re.search(rf"between {_NUM} and {_NUM}", s)
        if m:
            return Fact("prop", key, (float(m.group(1)), float(m.group(2))))
        m = re.search(rf"(below|under|less than) {_NUM}", s)
        if m:
            return Fact("prop", key, (None, float(m.group(2))))
        m = re.search(rf"(above|over|more than) {_NUM}", s)
        if m:
            return Fact("prop", key, (float(m.group(2)), None))
    return None


def split_sentences(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"(?<=\.)\s+|\n", text) if p.strip()]


# ---- the 2-D "spatial" pre-training task (spec 2.1 D) -------------------------------------------
def spatial_task(mol: Any, picked: list[int]) -> tuple[list[str], str]:
    """Mark the picked atoms in the canonical SMILES tokens and describe their neighbourhoods.

    Returns (SMILES tokens with each picked atom as ``<X>``-style wrapped token, target text): per
    picked atom, in string order, ``sym:neighbour symbols aromatic true|false ring k|`` with k the
    largest ring size 3..8 the atom is in (0 when none). Atoms are located through RDKit's output
    order, not by string search as the authors' code does (which mislabels repeated symbols).
    """
    from rdkit import Chem

    smi = Chem.MolToSmiles(mol)
    order = [int(i) for i in mol.GetProp("_smilesAtomOutputOrder").strip("[]").split(",") if i]
    toks = smiles_tokens(smi)
    atom_tok = [i for i, t in enumerate(toks) if t[0].isalpha() or t[0] in "[*"]
    pos_of = {order[k]: atom_tok[k] for k in range(len(order))}
    chosen = sorted(picked, key=lambda a: pos_of[a])
    marked = list(toks)
    target = []
    for idx in chosen:
        atom = mol.GetAtomWithIdx(idx)
        marked[pos_of[idx]] = f"<{toks[pos_of[idx]]}>"
        neigh = "".join(sorted(n.GetSymbol() for n in atom.GetNeighbors()))
        ring = max((k for k in range(3, 9) if atom.IsInRingSize(k)), default=0)
        arom = "true" if atom.GetIsAromatic() else "false"
        target.append(f"{atom.GetSymbol()}:{neigh} aromatic {arom} ring {ring}|")
    return marked, " ".join(target)

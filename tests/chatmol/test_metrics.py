from __future__ import annotations

from ennead.chatmol.chem import Fact
from ennead.chatmol.data import Dialogue
from ennead.chatmol.metrics import evaluate_candidates, fingerprint_similarity, levenshtein


def test_levenshtein() -> None:
    assert levenshtein("kitten", "sitting") == 3 and levenshtein("", "abc") == 3


def test_fingerprints_identical_is_one_and_invalid_skipped() -> None:
    sims = fingerprint_similarity(["CCO", "C1CC"], ["OCC", "CCC"])
    assert sims == {"maccs": 1.0, "rdk": 1.0, "morgan": 1.0}


def test_evaluate_counts_invalid_and_uses_canonical_exact_match() -> None:
    facts = [Fact("group", "carboxylic acid"), Fact("count", "arom", 1)]
    ds = [
        Dialogue("a", ["x", "y"], ["CC(=O)O", "OC(=O)c1ccccc1"], facts),
        Dialogue("b", ["x", "y"], ["CC(=O)O", "OC(=O)c1ccccc1"], facts),
        Dialogue("c", ["x", "y"], ["CC(=O)O", "OC(=O)c1ccccc1"], facts),
    ]
    cands = [
        [["CCO"], ["O=C(O)c1ccccc1", "CCO"]],  # same molecule, other string: exact, satisfied
        [["CCO"], ["C1CC(", "OC(=O)c1ccc(C)cc1"]],  # invalid top-1; candidate 2 satisfies
        [["CCO"], ["CCCC", "CCO"]],  # valid, unsatisfied
    ]
    m = evaluate_candidates(ds, cands)
    assert m["invalid"] == 1 and abs(m["validity"] - 2 / 3) < 1e-9
    assert abs(m["exact"] - 1 / 3) < 1e-9
    assert abs(m["satisfaction"] - 1 / 3) < 1e-9
    assert abs(m["sat@3"] - 2 / 3) < 1e-9
    assert m["satisfaction_per_turn"][1] == 0.0  # CCO has no carboxylic acid

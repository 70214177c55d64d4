from __future__ import annotations

import pytest

from ennead.chatmol.chem import (
    Fact,
    canonical,
    facts_of,
    group_patterns,
    mol_from_smiles,
    parse_requirement,
    properties,
    satisfied,
    smiles_tokens,
    spatial_task,
)


@pytest.mark.parametrize(
    "smi",
    [
        "CC(=O)Oc1ccccc1C(=O)O",
        "C[C@H](N)C(=O)O",
        "Brc1ccc(Cl)cc1",
        "C1CC%10CC1%10",
        "F/C=C/F",
        "[NH4+].[Cl-]",
        "c1ccc2[nH]ccc2c1",
    ],
)
def test_smiles_tokens_round_trip(smi: str) -> None:
    toks = smiles_tokens(smi)
    assert "".join(toks) == smi


def test_smiles_tokens_keep_multi_char_atoms_whole() -> None:
    assert smiles_tokens("ClC[N+](=O)[O-]Br%12") == [
        "Cl",
        "C",
        "[N+]",
        "(",
        "=",
        "O",
        ")",
        "[O-]",
        "Br",
        "%12",
    ]


def test_invalid_smiles_is_none_not_an_error() -> None:
    for bad in ["C1CC", "not a smiles", "", None, "c1cccc1X("]:
        assert mol_from_smiles(bad) is None
        assert canonical(bad) is None
        assert satisfied([Fact("charge", "charge", 0)], bad) is None


def test_groups_come_from_rdkit_file_and_match() -> None:
    assert {"carboxylic acid", "nitro", "hydroxy", "methoxy"} <= set(group_patterns())
    props = properties(mol_from_smiles("COc1ccc(cc1)[N+](=O)[O-]"))
    assert "nitro" in props["groups"] and "methoxy" in props["groups"]
    assert "carboxylic acid" not in props["groups"]


def test_facts_hold_and_read_back_for_aspirin() -> None:
    props = properties(mol_from_smiles("CC(=O)Oc1ccccc1C(=O)O"))
    facts = facts_of(props)
    sentences = {f.sentence() for f in facts}
    assert "It has a carboxylic acid group." in sentences
    assert "It has 1 aromatic ring." in sentences
    assert "It contains no nitrogen." in sentences
    assert "Its logP is between 1 and 2." in sentences  # Crippen logP 1.31
    for f in facts:
        assert f.holds(props)
        assert parse_requirement(f.sentence()) == f


def test_facts_reject_wrong_molecules() -> None:
    benzene = properties(mol_from_smiles("c1ccccc1"))
    assert not Fact("group", "carboxylic acid").holds(benzene)
    assert not Fact("element", "N").holds(benzene)
    assert not Fact("count", "arom", 2).holds(benzene)
    assert Fact("count", "rings", 1).holds(benzene)
    assert not Fact("prop", "logp", (None, 0.0)).holds(benzene)


def test_parse_requirement_free_wording_and_unknown() -> None:
    assert parse_requirement("its logP is above 3") == Fact("prop", "logp", (3.0, None))
    assert parse_requirement("It has 7 hydrogen bond acceptors.") == Fact("count", "hba", 6)
    assert parse_requirement("make it smell nice") is None
    assert parse_requirement("It has a unicorn group.") is None


def test_spatial_task_for_benzoic_acid_matches_hand_computed() -> None:
    mol = mol_from_smiles("OC(=O)c1ccccc1")  # canonical: O=C(O)c1ccccc1, atoms O0 C1 O2 c3 ...
    marked, target = spatial_task(mol, [0, 3])
    assert "".join(marked) == "O=C(<O>)<c>1ccccc1"
    assert target == "O:C aromatic false ring 0| C:CCC aromatic true ring 6|"

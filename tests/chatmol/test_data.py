from __future__ import annotations

from pathlib import Path

import pytest

from ennead.chatmol.data import (
    build_pool,
    fact_weights,
    make_dialogues,
    read_chebi20,
    read_chebi_dia,
    read_dialogues,
    split_pool,
    split_stats,
    write_dialogues,
)
from ennead.core.errors import DataError


@pytest.fixture(scope="module")
def pool(small_pool_file: Path):  # type: ignore[no-untyped-def]
    return build_pool(small_pool_file)


def test_pool_counts_invalid_lines(pool) -> None:  # type: ignore[no-untyped-def]
    assert pool.invalid == 1  # the appended garbage line
    assert len(pool.smiles) > 250 and len(set(pool.smiles)) == len(pool.smiles)


def test_dialogues_are_cumulative_seeded_and_consistent(pool) -> None:  # type: ignore[no-untyped-def]
    split = split_pool(len(pool.smiles), 40, 10, seed=3)
    w = fact_weights(pool)
    a = make_dialogues(pool, split["test"], split["train"], 5, "test", w)
    b = make_dialogues(pool, split["test"], split["train"], 5, "test", w)
    assert [d.to_json() for d in a] == [d.to_json() for d in b]
    for d, i in zip(a, split["test"], strict=True):
        assert 2 <= len(d.turns) <= 5 and len(d.targets) == len(d.turns)
        assert d.targets[-1] == pool.smiles[i]
        final = pool.facts[i]
        assert all(f in final for f in d.facts)  # every requirement is true of the target
        for t, smi in enumerate(d.targets[:-1]):  # proxies meet what was said so far
            j = pool.smiles.index(smi)
            assert all(f in pool.facts[j] for f in d.facts[: t + 1])
    stats = split_stats(a)
    assert stats["dialogues"] == 40 and 2 <= stats["mean_turns"] <= 5


def test_dialogue_jsonl_round_trip_and_bad_line(tmp_path: Path, pool) -> None:  # type: ignore[no-untyped-def]
    split = split_pool(len(pool.smiles), 5, 0, seed=1)
    ds = make_dialogues(pool, split["test"], split["train"], 1, "t", fact_weights(pool))
    path = write_dialogues(tmp_path / "d.jsonl", ds)
    assert [d.to_json() for d in read_dialogues(path)] == [d.to_json() for d in ds]
    path.write_text(path.read_text() + "{not json\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_dialogues(path)
    assert e.value.line == 6 and "d.jsonl" in str(e.value)


def test_chebi20_tsv_loader_names_bad_line_and_keeps_invalid_smiles(tmp_path: Path) -> None:
    p = tmp_path / "test.txt"
    p.write_text(
        "CID\tSMILES\tdescription\n1\tCCO\tThe molecule is ethanol.\n2\tC1CC\tbroken ring\n",
        encoding="utf-8",
    )
    rows = read_chebi20(p)
    assert rows[0] == ("1", "The molecule is ethanol.", "CCO") and rows[1][2] is None
    p.write_text(p.read_text() + "3\tCC\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_chebi20(p)
    assert e.value.line == 4


def test_chebi_dia_loader(tmp_path: Path) -> None:
    inp, out = tmp_path / "test_inp.txt", tmp_path / "test_out.txt"
    inp.write_text("It is an acid.\tIt is an acid. It has a ring.\t\n", encoding="utf-8")
    out.write_text("CC(=O)O\tOC(=O)c1ccccc1\t\n", encoding="utf-8")
    (d,) = read_chebi_dia(inp)
    assert d.turns == ["It is an acid.", "It has a ring."]
    assert d.targets == ["CC(=O)O", "OC(=O)c1ccccc1"]
    out.write_text("CC(=O)O\t\n", encoding="utf-8")
    with pytest.raises(DataError) as e:
        read_chebi_dia(inp)
    assert e.value.line == 1 and "2 turns but 1 targets" in str(e.value)
